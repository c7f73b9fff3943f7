// The lineage and citation graph (cytoscape.js). Labels are drawn on canvas, never parsed as HTML;
// a click navigates to the paper page whose address the build computed from the paper id.
(function () {
  "use strict";
  var box = document.getElementById("kb-graph");
  var status = document.getElementById("kb-graph-status");
  if (!box || typeof window.cytoscape === "undefined") return;
  var colours = { data: "#1e88e5", model: "#8e24aa", "training-inference": "#f4511e", foundations: "#6d8764" };
  var base = new URL(box.dataset.src, window.location.href);
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
          "width": function (n) { return 8 + Math.min(22, 2 * n.data("degree")); },
          "height": function (n) { return 8 + Math.min(22, 2 * n.data("degree")); },
          "min-zoomed-font-size": 6 } },
        { selector: "edge", style: { "width": 1, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.6, "opacity": 0.55 } },
        { selector: "edge[kind = 'cites']", style: { "line-style": "dashed", "line-color": "#9e9e9e", "target-arrow-color": "#9e9e9e" } },
        { selector: "edge[kind = 'lineage']", style: { "line-color": "#455a64", "target-arrow-color": "#455a64", "width": 1.6 } },
        { selector: "node:selected", style: { "border-width": 3, "border-color": "#000" } }
      ],
      layout: many ? { name: "grid" } : { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000, idealEdgeLength: 60 }
    });
    cy.on("tap", "node", function (event) {
      var url = event.target.data("url");
      window.location.href = new URL(url, new URL("../", window.location.href)).href;
    });
    cy.on("mouseover", "node", function (event) { box.title = event.target.data("label") + " (" + event.target.data("year") + ")"; });
    ["cites", "lineage"].forEach(function (kind) {
      var toggle = document.getElementById("kb-graph-" + kind);
      if (toggle) toggle.addEventListener("change", function () {
        cy.edges("[kind = '" + kind + "']").style("display", toggle.checked ? "element" : "none");
      });
    });
    window.kbGraph = cy;
    box.dataset.nodes = String(cy.nodes().length);
    if (status) status.textContent = cy.nodes().length + " papers, " + cy.edges().length + " edges";
  }).catch(function (error) { if (status) status.textContent = "Could not load the graph: " + error; });
})();
