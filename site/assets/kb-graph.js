// The lineage and citation graph (cytoscape.js). Labels are drawn on canvas, never parsed as HTML;
// a click navigates to the paper page whose address the build computed from the paper id.
// Most papers have no curated link yet, so by default only papers joined by an edge of a kind that is
// switched on are drawn; otherwise they bury the connected part under a grid of lone dots.
(function () {
  "use strict";
  var box = document.getElementById("kb-graph");
  var status = document.getElementById("kb-graph-status");
  if (!box || typeof window.cytoscape === "undefined") return;
  var colours = { data: "#1e88e5", model: "#8e24aa", "training-inference": "#f4511e", foundations: "#6d8764" };
  var kinds = ["cites", "lineage"];
  var base = new URL(box.dataset.src, window.location.href);
  function toggle(name) { return document.getElementById("kb-graph-" + name); }
  // A missing checkbox keeps the default: every edge kind shown, unlinked papers hidden.
  function checked(name, fallback) { var t = toggle(name); return t ? t.checked : fallback; }
  // Square root: a hub with 25 links is drawn about three times as wide as a paper with one.
  function size(n) { return 8 + Math.min(26, 4 * Math.sqrt(n.data("links") || 0)); }
  fetch(base).then(function (r) { return r.json(); }).then(function (graph) {
    var many = graph.elements.length > 3000;
    var cy = window.cytoscape({
      container: box,
      elements: graph.elements,
      wheelSensitivity: 0.3,
      style: [
        { selector: "node", style: {
          "background-color": function (n) { return colours[n.data("perspective")] || "#888"; },
          "label": function (n) { var t = n.data("label"); return t.length > 40 ? t.slice(0, 38) + "…" : t; },
          "font-size": 7, "color": "#555", "text-valign": "bottom", "text-margin-y": 2,
          "width": size, "height": size, "min-zoomed-font-size": 6 } },
        { selector: "edge", style: { "width": 1, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.6, "opacity": 0.55 } },
        { selector: "edge[kind = 'cites']", style: { "line-style": "dashed", "line-color": "#9e9e9e", "target-arrow-color": "#9e9e9e" } },
        { selector: "edge[kind = 'lineage']", style: { "line-color": "#455a64", "target-arrow-color": "#455a64", "width": 1.6 } },
        { selector: "node:selected", style: { "border-width": 3, "border-color": "#000" } }
      ]
    });

    function refresh() {
      var shown = {};
      kinds.forEach(function (kind) { shown[kind] = checked(kind, true); });
      var unlinked = checked("unlinked", false);
      cy.batch(function () {
        cy.edges().forEach(function (e) { e.style("display", shown[e.data("kind")] ? "element" : "none"); });
        cy.nodes().forEach(function (n) {
          var links = n.connectedEdges().filter(function (e) { return shown[e.data("kind")]; }).length;
          n.data("links", links);
          n.style("display", links > 0 || unlinked ? "element" : "none");
        });
      });
      var visible = cy.elements().filter(function (e) { return e.style("display") !== "none"; });
      var nodes = visible.nodes().length, edges = visible.edges().length;
      visible.layout(many ? { name: "grid" } : { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000, idealEdgeLength: 60, fit: true, padding: 20 }).run();
      // Fitting a handful of nodes would blow them up to fill the box.
      if (cy.zoom() > 1.6) { cy.zoom(1.6); cy.center(visible); }
      box.dataset.nodes = String(nodes);
      box.dataset.edges = String(edges);
      if (status) status.textContent = "Showing " + nodes + " of " + cy.nodes().length + " papers and " + edges + " edges.";
    }

    cy.on("tap", "node", function (event) {
      var url = event.target.data("url");
      window.location.href = new URL(url, new URL("../", window.location.href)).href;
    });
    cy.on("mouseover", "node", function (event) {
      var n = event.target;
      box.title = n.data("label") + " (" + n.data("year") + "), " + n.data("links") + (n.data("links") === 1 ? " link" : " links");
    });
    kinds.concat(["unlinked"]).forEach(function (name) {
      var t = toggle(name);
      if (t) t.addEventListener("change", refresh);
    });
    window.kbGraph = cy;
    refresh();
  }).catch(function (error) { if (status) status.textContent = "Could not load the graph: " + error; });
})();
