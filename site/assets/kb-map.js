// The map of the papers (kb/site/map_page.py draws the dots at build time): find, area filter, zoom and pan,
// a hover label. Labels are text nodes (textContent), never markup; a click on a dot follows its link.
(function () {
  "use strict";
  var svg = document.getElementById("kb-map");
  if (!svg) return;
  var find = document.getElementById("kb-map-find");
  var area = document.getElementById("kb-map-area");
  var status = document.getElementById("kb-map-status");
  var tip = document.getElementById("kb-map-tip");
  var labels = svg.querySelector(".kb-map-labels");
  var dots = Array.prototype.slice.call(svg.querySelectorAll(".kb-map-dots a"));
  var SIZE = 1000, MAX_LABELS = 25, NS = "http://www.w3.org/2000/svg";
  var view = { x: 0, y: 0, w: SIZE };
  var params = new URLSearchParams(window.location.search);

  function applyView() {
    svg.setAttribute("viewBox", view.x + " " + view.y + " " + view.w + " " + view.w);
    // Map units per screen pixel: dots and labels keep their size on screen whatever the zoom and the window.
    var box = svg.getBoundingClientRect(), side = Math.min(box.width, box.height) || SIZE;  // the viewBox fits the shorter side
    svg.style.setProperty("--kb-map-scale", String(view.w / side));
  }
  window.addEventListener("resize", applyView);
  function zoom(factor, cx, cy) {
    var w = Math.max(60, Math.min(SIZE, view.w * factor));
    if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.w / 2; }
    view.x = cx - (cx - view.x) * (w / view.w);
    view.y = cy - (cy - view.y) * (w / view.w);
    view.w = w;
    applyView();
  }
  function point(event) {
    var box = svg.getBoundingClientRect(), side = Math.min(box.width, box.height);
    var left = box.left + (box.width - side) / 2, top = box.top + (box.height - side) / 2;
    return { x: view.x + (event.clientX - left) / side * view.w, y: view.y + (event.clientY - top) / side * view.w };
  }
  function update() {
    var words = (find && find.value || "").toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = area && area.value;
    var lit = [];
    dots.forEach(function (a) {
      var ok = (!wanted || a.dataset.areas.split(" ").indexOf(wanted) >= 0) &&
        words.every(function (w) { return a.dataset.find.indexOf(w) >= 0; });
      a.classList.toggle("kb-dim", !ok);
      if (ok) lit.push(a);
    });
    labels.textContent = "";
    var filtering = words.length > 0 || !!wanted;
    if (filtering) lit.slice(0, MAX_LABELS).forEach(function (a) {
      var c = a.querySelector("circle"), text = document.createElementNS(NS, "text");
      var scale = Number(svg.style.getPropertyValue("--kb-map-scale")) || 1;
      text.setAttribute("x", String(Number(c.getAttribute("cx")) + 8 * scale));
      text.setAttribute("y", String(Number(c.getAttribute("cy")) + 4));
      var title = a.querySelector("title").textContent;
      text.textContent = title.length > 48 ? title.slice(0, 46) + "…" : title;
      labels.appendChild(text);
    });
    svg.dataset.lit = String(lit.length);
    if (status) status.textContent = filtering ? lit.length + " of " + dots.length + " papers match" : dots.length + " papers";
    var out = new URLSearchParams();
    if (find && find.value) out.set("find", find.value);
    if (wanted) out.set("area", wanted);
    var query = out.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  }
  if (find) { find.value = params.get("find") || ""; find.addEventListener("input", update); }
  if (area) { area.value = params.get("area") || ""; area.addEventListener("change", update); }
  document.getElementById("kb-map-zoom-in").addEventListener("click", function () { zoom(0.7); });
  document.getElementById("kb-map-zoom-out").addEventListener("click", function () { zoom(1 / 0.7); });
  document.getElementById("kb-map-reset").addEventListener("click", function () { view = { x: 0, y: 0, w: SIZE }; applyView(); });
  svg.addEventListener("wheel", function (event) {
    event.preventDefault();
    var p = point(event);
    zoom(event.deltaY < 0 ? 0.8 : 1.25, p.x, p.y);
  }, { passive: false });
  var drag = null, moved = false;
  svg.addEventListener("pointerdown", function (event) { drag = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y }; moved = false; });
  window.addEventListener("pointerup", function () { drag = null; });
  svg.addEventListener("pointermove", function (event) {
    if (drag) {
      var box = svg.getBoundingClientRect(), side = Math.min(box.width, box.height), dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) moved = true;
      view.x = drag.vx - dx / side * view.w;
      view.y = drag.vy - dy / side * view.w;
      applyView();
    }
    var target = event.target.closest && event.target.closest(".kb-map-dots a");
    if (tip) {
      if (target) {
        tip.textContent = target.querySelector("title").textContent;
        var outer = svg.parentNode.getBoundingClientRect();
        tip.style.left = (event.clientX - outer.left + 12) + "px";
        tip.style.top = (event.clientY - outer.top + 12) + "px";
        tip.hidden = false;
      } else tip.hidden = true;
    }
  });
  svg.addEventListener("click", function (event) { if (moved) { event.preventDefault(); moved = false; } }, true);
  applyView();
  update();
})();
