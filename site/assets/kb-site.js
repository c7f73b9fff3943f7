// Behaviour shared by generated pages: paper tables (kb/site/tables.py: sort on every column, a title filter,
// facet filters, the count shown with a reset, all kept in the address) and copy buttons.
// Record text is never turned into markup here; everything works on the server-rendered, escaped DOM.
(function () {
  "use strict";

  function normal(text) { return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase(); }

  function setUpTables() {
    var tables = document.querySelectorAll("table.kb-papers");
    tables.forEach(function (table, number) {
      var filterBox = table.closest(".kb-table-wrap").previousElementSibling;
      if (!filterBox || !filterBox.classList.contains("kb-table-filters")) filterBox = null;
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var original = rows.slice();
      var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
      var selects = filterBox ? filterBox.querySelectorAll("select.kb-filter") : [];
      var title = filterBox ? filterBox.querySelector("input.kb-filter-title") : null;
      var shown = filterBox ? filterBox.querySelector(".kb-shown") : null;
      var reset = filterBox ? filterBox.querySelector(".kb-reset") : null;
      // Only the first table of a page keeps its state in the address (pages have one).
      var keepState = number === 0;
      var sort = { column: "year", direction: "descending", changed: false };

      function value(row, index) { return row.cells[index].dataset.sort || ""; }
      function applySort() {
        var index = heads.findIndex(function (th) { return th.dataset.column === sort.column; });
        if (index < 0) return;
        var numeric = sort.column === "year" || sort.column === "code";
        var sign = sort.direction === "ascending" ? 1 : -1;
        var order = original.slice();
        order.sort(function (a, b) {
          var x = value(a, index), y = value(b, index), c;
          if (numeric) c = Number(x) - Number(y);
          else if (!x !== !y) return x ? -1 : 1;  // empty cells last, whichever the direction
          else c = x < y ? -1 : x > y ? 1 : 0;
          return c * sign;
        });
        order.forEach(function (row) { body.appendChild(row); });
        rows = order;
        heads.forEach(function (th) { th.setAttribute("aria-sort", th.dataset.column === sort.column ? sort.direction : "none"); });
      }
      function applyFilters() {
        var wanted = {};
        selects.forEach(function (s) { if (s.value) wanted[s.dataset.facet] = s.value; });
        var words = title ? normal(title.value).split(/\s+/).filter(Boolean) : [];
        var count = 0;
        rows.forEach(function (row) {
          var ok = Object.keys(wanted).every(function (facet) {
            return (row.getAttribute("data-" + facet.replace(/_/g, "-")) || "").split(" ").indexOf(wanted[facet]) !== -1;
          }) && words.every(function (w) { return normal(row.dataset.title).indexOf(w) !== -1; });
          row.hidden = !ok;
          if (ok) count++;
        });
        if (shown) shown.textContent = count + " of " + rows.length + " papers";
        table.dataset.shown = String(count);
        if (keepState) save(wanted);
      }
      function save(wanted) {
        var params = new URLSearchParams(window.location.search);
        ["sort", "dir", "title"].concat(Array.prototype.map.call(selects, function (s) { return s.dataset.facet; })).forEach(function (k) { params.delete(k); });
        if (sort.changed) { params.set("sort", sort.column); params.set("dir", sort.direction === "ascending" ? "asc" : "desc"); }
        if (title && title.value) params.set("title", title.value);
        Object.keys(wanted).forEach(function (k) { params.set(k, wanted[k]); });
        var query = params.toString();
        window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
      }
      function load() {
        var params = new URLSearchParams(window.location.search);
        var column = params.get("sort");
        if (column && heads.some(function (th) { return th.dataset.column === column; })) {
          sort = { column: column, direction: params.get("dir") === "asc" ? "ascending" : "descending", changed: true };
        }
        if (title) title.value = params.get("title") || "";
        selects.forEach(function (s) {
          var v = params.get(s.dataset.facet);
          if (v && Array.prototype.some.call(s.options, function (o) { return o.value === v; })) s.value = v;
        });
      }
      heads.forEach(function (th) {
        var button = th.querySelector("button.kb-sort");
        if (!button) return;
        button.addEventListener("click", function () {
          var same = sort.column === th.dataset.column;
          var first = th.dataset.column === "year" || th.dataset.column === "code" ? "descending" : "ascending";
          sort = { column: th.dataset.column, direction: same ? (sort.direction === "ascending" ? "descending" : "ascending") : first, changed: true };
          applySort();
          applyFilters();
        });
      });
      selects.forEach(function (s) { s.addEventListener("change", applyFilters); });
      if (title) title.addEventListener("input", applyFilters);
      if (reset) reset.addEventListener("click", function () {
        selects.forEach(function (s) { s.value = ""; });
        if (title) title.value = "";
        sort = { column: "year", direction: "descending", changed: false };
        applySort();
        applyFilters();
      });
      if (keepState) load();
      applySort();
      applyFilters();
    });
  }

  function setUpCopyButtons() {
    document.querySelectorAll("button.kb-copy").forEach(function (button) {
      var label = button.textContent;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        if (!source) return;
        var text = source.textContent;
        var done = function () { button.textContent = "Copied"; button.dataset.copied = "true"; setTimeout(function () { button.textContent = label; }, 1500); };
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

  function start() { setUpTables(); setUpCopyButtons(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
