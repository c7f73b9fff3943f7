// Semantic search in the browser, no server: BERT WordPiece tokenisation of the query, the mean of the
// static model's (int8) token vectors, cosine against precomputed paper vectors, fused by reciprocal rank
// with BM25 keyword matching over titles, aliases, authors and summaries; then the facet filters.
// Results are built with textContent and an href computed by the build: record text never becomes markup.
(function () {
  "use strict";
  var script = document.currentScript;
  var root = new URL("../", script ? script.src : window.location.href);
  var dataUrl = new URL("assets/kb/search/", root);
  var input = document.getElementById("kb-search");
  var list = document.getElementById("kb-search-results");
  var status = document.getElementById("kb-search-status");
  var filterBox = document.querySelector(".kb-search-filters");
  if (!input || !list) return;

  var state = null;
  // ---- WordPiece tokeniser (BertNormalizer + BertPreTokenizer + WordPiece, as in tokenizer.json) ----
  var PUNCT = /[\p{P}\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/u;
  var CONTROL = /[\p{Cc}\p{Cf}]/u;
  var SPACE = /\s/u;
  function isCjk(cp) {
    return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
      (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
      (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
  }
  function normalise(text) {
    var out = "";
    for (var ch of text) {
      var cp = ch.codePointAt(0);
      if (cp === 0 || cp === 0xfffd) continue;
      if (ch === "\t" || ch === "\n" || ch === "\r" || SPACE.test(ch)) { out += " "; continue; }
      if (CONTROL.test(ch)) continue;
      out += isCjk(cp) ? " " + ch + " " : ch;
    }
    if (state && state.meta.strip_accents) out = out.normalize("NFD").replace(/\p{Mn}/gu, "");
    return state && state.meta.lowercase === false ? out : out.toLowerCase();
  }
  function preTokenise(text) {
    var words = [], current = "";
    for (var ch of text) {
      if (SPACE.test(ch)) { if (current) words.push(current); current = ""; }
      else if (PUNCT.test(ch)) { if (current) words.push(current); words.push(ch); current = ""; }
      else current += ch;
    }
    if (current) words.push(current);
    return words;
  }
  function wordPiece(word, vocab, unk) {
    var chars = Array.from(word);
    if (chars.length > 100) return [unk];
    var pieces = [], start = 0;
    while (start < chars.length) {
      var end = chars.length, found = -1;
      while (start < end) {
        var piece = chars.slice(start, end).join("");
        if (start > 0) piece = "##" + piece;
        if (vocab.has(piece)) { found = vocab.get(piece); break; }
        end--;
      }
      if (found < 0) return [unk];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }
  function tokenise(text, vocab, unk) {
    var ids = [];
    preTokenise(normalise(text)).forEach(function (w) { ids.push.apply(ids, wordPiece(w, vocab, unk)); });
    return ids;
  }

  // ---- keyword matching (BM25 over the paper list) ----
  function words(text) { return preTokenise(normalise(text)).filter(function (w) { return w.length > 1 && !PUNCT.test(w); }); }
  function buildBm25(papers) {
    var docs = papers.map(function (p) {
      var text = [p.title, p.title, (p.aliases || []).join(" "), (p.authors || []).join(" "), p.summary, (p.findings || []).join(" ")].join(" ");
      var tf = new Map(); var toks = words(text);
      toks.forEach(function (t) { tf.set(t, (tf.get(t) || 0) + 1); });
      return { tf: tf, len: toks.length };
    });
    var df = new Map();
    docs.forEach(function (d) { d.tf.forEach(function (_, t) { df.set(t, (df.get(t) || 0) + 1); }); });
    var avg = docs.reduce(function (s, d) { return s + d.len; }, 0) / Math.max(1, docs.length);
    return function (query) {
      var terms = Array.from(new Set(words(query)));
      return docs.map(function (d) {
        var score = 0;
        terms.forEach(function (t) {
          var f = d.tf.get(t); if (!f) return;
          var n = df.get(t), idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
          score += idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * d.len / avg));
        });
        return score;
      });
    };
  }

  function load() {
    var started = performance.now();
    function get(name, kind) { return fetch(new URL(name, dataUrl)).then(function (r) { if (!r.ok) throw new Error(name + ": " + r.status); return kind === "json" ? r.json() : r.arrayBuffer(); }); }
    return Promise.all([get("meta.json", "json"), get("vocab.json", "json"), get("tokens.i8"), get("tokens.scale"), get("papers.i8"), get("papers.scale"), get("papers.json", "json")]).then(function (parts) {
      var meta = parts[0], vocabList = parts[1], vocab = new Map();
      vocabList.forEach(function (t, i) { vocab.set(t, i); });
      state = { meta: meta, vocab: vocab, unk: meta.unk_id, tokens: new Int8Array(parts[2]), tokenScale: new Float32Array(parts[3]),
        papers: parts[6], paperVectors: new Int8Array(parts[4]), paperScale: new Float32Array(parts[5]), dims: meta.dims };
      state.bm25 = buildBm25(state.papers);
      state.loadMs = performance.now() - started;
      buildFilters(meta.facets);
      if (status) status.textContent = "Ready: " + state.papers.length + " papers (model loaded in " + Math.round(state.loadMs) + " ms).";
      input.dataset.ready = "true";
    });
  }

  function encode(text) {
    var ids = tokenise(text, state.vocab, state.unk).slice(0, state.meta.max_tokens || 512).filter(function (i) { return i !== state.unk; });
    var d = state.dims, v = new Float32Array(d);
    if (!ids.length) return null;
    ids.forEach(function (id) { var s = state.tokenScale[id], o = id * d; for (var k = 0; k < d; k++) v[k] += state.tokens[o + k] * s; });
    var norm = 0; for (var k = 0; k < d; k++) norm += v[k] * v[k];
    norm = Math.sqrt(norm) || 1; for (k = 0; k < d; k++) v[k] /= norm;
    return v;
  }

  function rank(query) {
    var n = state.papers.length, d = state.dims, q = encode(query);
    var semantic = new Float32Array(n);
    if (q) for (var i = 0; i < n; i++) { var s = 0, o = i * d; for (var k = 0; k < d; k++) s += q[k] * state.paperVectors[o + k]; semantic[i] = s * state.paperScale[i]; }
    var keyword = state.bm25(query);
    var order = function (scores) { return Array.from(scores.keys()).sort(function (a, b) { return scores[b] - scores[a]; }); };
    var fused = new Float32Array(n);
    if (q) order(semantic).forEach(function (p, r) { fused[p] += 1 / (60 + r); });
    order(keyword).forEach(function (p, r) { if (keyword[p] > 0) fused[p] += 1 / (60 + r); });
    return order(fused).filter(function (p) { return fused[p] > 0; }).map(function (p) { return { paper: state.papers[p], score: fused[p], semantic: semantic[p], keyword: keyword[p] }; });
  }

  var filters = {};
  function buildFilters(facets) {
    if (!filterBox) return;
    var keys = { perspective: "perspectives", granularity: "granularity", modality: "modalities", contribution: "contribution" };
    Object.keys(keys).forEach(function (facet) {
      var label = document.createElement("label"); label.textContent = facet.charAt(0).toUpperCase() + facet.slice(1) + " ";
      var select = document.createElement("select"); select.className = "kb-filter"; select.dataset.facet = facet;
      var any = document.createElement("option"); any.value = ""; any.textContent = "any"; select.appendChild(any);
      Object.keys(facets[facet] || {}).forEach(function (k) { var o = document.createElement("option"); o.value = k; o.textContent = facets[facet][k]; select.appendChild(o); });
      select.addEventListener("change", function () { filters[facet] = select.value; run(); });
      label.appendChild(select); filterBox.appendChild(label);
    });
    filters.keys = keys;
  }
  function passes(paper) {
    return Object.keys(filters.keys || {}).every(function (facet) {
      var want = filters[facet]; if (!want) return true;
      var have = paper[filters.keys[facet]]; return Array.isArray(have) ? have.indexOf(want) !== -1 : have === want;
    });
  }

  function run() {
    if (!state) return;
    var query = input.value.trim();
    list.textContent = "";
    if (!query) { status.textContent = "Ready: " + state.papers.length + " papers."; return; }
    var started = performance.now();
    var results = rank(query).filter(function (r) { return passes(r.paper); }).slice(0, 20);
    var ms = performance.now() - started;
    results.forEach(function (r) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = new URL(r.paper.url, root).href;
      a.dataset.paperId = r.paper.id;
      a.textContent = r.paper.title;
      var year = document.createElement("span"); year.className = "kb-year"; year.textContent = " (" + r.paper.year + ")";
      var snippet = document.createElement("span"); snippet.className = "kb-snippet";
      snippet.textContent = r.paper.summary.length > 220 ? r.paper.summary.slice(0, 218) + "…" : r.paper.summary;
      li.appendChild(a); li.appendChild(year); li.appendChild(snippet); list.appendChild(li);
    });
    status.textContent = results.length + " results in " + ms.toFixed(1) + " ms";
    status.dataset.ms = String(ms);
  }

  var timer = null;
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 120); });
  load().then(function () {
    var initial = new URLSearchParams(window.location.search).get("q");
    if (initial) input.value = initial;
    run();
  }).catch(function (error) { if (status) status.textContent = "Search could not load: " + error.message; });
  window.kbSearch = { rank: function (q) { return state ? rank(q) : []; }, tokenise: function (t) { return state ? tokenise(t, state.vocab, state.unk) : []; }, ready: function () { return !!state; } };
})();
