// Behaviour shared by generated pages: area tables (sort by year, filter by facet) and copy buttons.
// Record text is never turned into markup here; everything works on the server-rendered, escaped DOM.
(function () {
  "use strict";

  function setUpAreaTables() {
    document.querySelectorAll(".kb-area").forEach(function (area) {
      var table = area.querySelector("table.kb-papers");
      if (!table) return;
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var shown = area.querySelector(".kb-shown");
      var filters = area.querySelectorAll("select.kb-filter");
      var descending = true;
      function apply() {
        var wanted = {};
        filters.forEach(function (s) { if (s.value) wanted[s.dataset.facet] = s.value; });
        var count = 0;
        rows.forEach(function (row) {
          var ok = Object.keys(wanted).every(function (facet) {
            return (row.dataset[facet] || "").split(" ").indexOf(wanted[facet]) !== -1;
          });
          row.hidden = !ok;
          if (ok) count++;
        });
        if (shown) shown.textContent = count + " of " + rows.length + " papers shown";
      }
      filters.forEach(function (s) { s.addEventListener("change", apply); });
      var sort = table.querySelector(".kb-sort");
      if (sort) sort.addEventListener("click", function () {
        descending = !descending;
        rows.sort(function (a, b) { return (Number(a.dataset.year) - Number(b.dataset.year)) * (descending ? -1 : 1); });
        rows.forEach(function (row) { body.appendChild(row); });
        sort.setAttribute("aria-sort", descending ? "descending" : "ascending");
      });
      apply();
    });
  }

  function setUpCopyButtons() {
    document.querySelectorAll("button.kb-copy").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        if (!source) return;
        var text = source.textContent;
        var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
        } else { fallback(text); done(); }
      });
    });
  }

  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  function setUpPlots() {
    if (typeof window.Plotly === "undefined") return;
    document.querySelectorAll("script[data-plot]").forEach(function (script) {
      var figure = JSON.parse(script.textContent);
      var target = document.getElementById(script.dataset.plot);
      if (target) window.Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
    });
  }

  function start() { setUpAreaTables(); setUpCopyButtons(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  window.addEventListener("load", setUpPlots);
})();
