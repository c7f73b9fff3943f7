// Semantic search in the browser, no server, ranked like `kb search` (kb/search.py, the shipped hybrid):
//   0.7 x BM25 of the expanded query + 0.2 x static query vector vs the papers' transformer vectors
//   + 0.1 x static query vector vs the papers' static vectors, each rescaled so the best paper scores 1,
// after expanding the query with the taxonomy term that stands out as closest to it in meaning.
// The files come from kb/site/search_assets.py (its docstring says what each holds). They are loaded on
// the first focus of #kb-search (or at once for ?q=), so a visit that never searches downloads nothing.
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

  var state = null, loading = null;
  function say(text) { if (status) status.textContent = text; }

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
    if (state.meta.strip_accents) out = out.normalize("NFD").replace(/\p{Mn}/gu, "");
    return state.meta.lowercase === false ? out : out.toLowerCase();
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
  function wordPiece(word) {
    var chars = Array.from(word), vocab = state.vocab;
    if (chars.length > 100) return [state.unk];
    var pieces = [], start = 0;
    while (start < chars.length) {
      var end = chars.length, found = -1;
      while (start < end) {
        var piece = chars.slice(start, end).join("");
        if (start > 0) piece = "##" + piece;
        if (vocab.has(piece)) { found = vocab.get(piece); break; }
        end--;
      }
      if (found < 0) return [state.unk];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }
  function tokenise(text) {
    var ids = [];
    preTokenise(normalise(text)).forEach(function (w) { ids.push.apply(ids, wordPiece(w)); });
    return ids;
  }

  // ---- the static query vector: sum of the (projected, 4-bit) token rows; norms never matter ----
  function encode(text) {
    var ids = tokenise(text).filter(function (i) { return i !== state.unk; }).slice(0, state.meta.max_tokens);
    var d = state.dims, v = new Float64Array(d), rows = state.tokens, bits = state.meta.token_bits, any = false;
    ids.forEach(function (id) {
      var s = state.tokenScale[id];
      for (var k = 0; k < d; k++) {
        var x;
        if (bits === 4) { var byte = rows[(id * d + k) >> 1]; x = (k & 1 ? byte >> 4 : byte) & 15; if (x > 7) x -= 16; }
        else { x = rows[id * d + k]; if (x > 127) x -= 256; }
        v[k] += x * s;
      }
    });
    for (var k = 0; k < d; k++) if (v[k] !== 0) { any = true; break; }
    return any ? v : null;
  }
  function similarities(matrix, scale, v) {
    var n = scale.length, d = state.dims, out = new Float64Array(n);
    if (!v) return out;
    for (var i = 0; i < n; i++) { var s = 0, o = i * d; for (var k = 0; k < d; k++) s += matrix[o + k] * v[k]; out[i] = s * scale[i]; }
    return out;
  }

  // ---- BM25 exactly as kb/lexical.py: \w\w+ words, stop words out, Snowball stems, Lucene idf ----
  var WORD = /[\p{L}\p{N}_]{2,}/gu;
  function stem(word) {
    var bm = state.meta.bm25;
    if (!bm.stemmed) return word;
    if (Object.prototype.hasOwnProperty.call(bm.stems, word)) return bm.stems[word];
    if (state.termIndex.has(word)) return word;
    return window.kbPorter2 ? window.kbPorter2.stem(word) : word;  // a word the knowledge base never uses
  }
  function lexicalTerms(text) {
    return (text.toLowerCase().match(WORD) || []).filter(function (w) { return !state.stop.has(w); }).map(stem);
  }
  function bm25(text) {
    var bm = state.meta.bm25, n = state.papers.length, out = new Float64Array(n);
    lexicalTerms(text).forEach(function (term) {  // a repeated query word counts again, as in kb/lexical.py
      var t = state.termIndex.get(term);
      if (t === undefined) return;
      var from = state.offsets[t], to = state.offsets[t + 1], df = to - from;
      var idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (var p = from; p < to; p++) {
        var doc = state.postDocs[p], c = state.postCounts[p];
        out[doc] += idf * c * (bm.k1 + 1) / (c + bm.norm[doc]);
      }
    });
    return out;
  }

  // ---- fusion (kb.search.Searcher._hybrid) ----
  function median(values) {
    var sorted = Array.from(values).sort(function (a, b) { return a - b; }), m = sorted.length >> 1;
    return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }
  function toUnit(scores, aroundMedian) {
    var low = aroundMedian ? median(scores) : 0, high = scores.length ? Math.max.apply(null, scores) : 0;
    var out = new Float64Array(scores.length);
    if (high <= low) return out;
    for (var i = 0; i < scores.length; i++) out[i] = Math.max(0, (scores[i] - low) / (high - low));
    return out;
  }
  function expansion(v) {
    var names = state.meta.expansion.names, d = state.dims;
    if (!v || names.length < 2) return [];
    var sim = names.map(function (_, j) { var s = 0; for (var k = 0; k < d; k++) s += state.terms[j * d + k] * v[k]; return s; });
    var mean = sim.reduce(function (a, b) { return a + b; }, 0) / sim.length;
    var spread = Math.sqrt(sim.reduce(function (a, b) { return a + (b - mean) * (b - mean); }, 0) / sim.length);
    var z = sim.map(function (s) { return spread > 0 ? (s - mean) / spread : 0; });
    var order = z.map(function (_, j) { return j; }).sort(function (a, b) { return z[b] - z[a]; });
    return order.slice(0, state.meta.expansion.terms).filter(function (j) { return z[j] >= state.meta.expansion.z; }).map(function (j) { return names[j]; });
  }
  function scores(query) {
    var n = state.papers.length, w = state.meta.weights, v = encode(query);
    if (!v && !bm25(query).some(function (s) { return s > 0; })) return { scores: new Float64Array(n), expanded: query };
    var expanded = [query].concat(expansion(v)).join(" ");
    var lexical = toUnit(bm25(expanded), false);
    var semantic = toUnit(similarities(state.dense, state.denseScale, encode(expanded)), true);
    var stat = toUnit(similarities(state.static, state.staticScale, v), true);
    var out = new Float64Array(n);
    for (var i = 0; i < n; i++) out[i] = w.lexical * lexical[i] + w.dense * semantic[i] + w.static * stat[i];
    return { scores: out, expanded: expanded };
  }
  function rank(query) {
    query = query.split(/\s+/).filter(Boolean).join(" ").slice(0, state.meta.max_query_chars);
    if (!query) return [];
    var s = scores(query).scores;
    var order = [];
    for (var i = 0; i < s.length; i++) if (s[i] > 0 && passes(state.papers[i])) order.push(i);
    order.sort(function (a, b) { return s[b] - s[a]; });  // stable: ties keep id order, as in kb search
    return order.map(function (i) { return { paper: state.papers[i], score: s[i] }; });
  }

  // ---- loading ----
  function get(name, kind) {
    return fetch(new URL(name, dataUrl)).then(function (r) {
      if (!r.ok) throw new Error(name + ": " + r.status);
      return kind === "json" ? r.json() : r.arrayBuffer();
    });
  }
  function stemmerScript() {
    return new Promise(function (resolve, reject) {
      if (window.kbPorter2) return resolve();
      var tag = document.createElement("script");
      tag.src = new URL("assets/vendor/porter2/porter2.js", root).href;
      tag.onload = function () { resolve(); };
      tag.onerror = function () { reject(new Error("porter2.js did not load")); };
      document.head.appendChild(tag);
    });
  }
  function load() {
    if (loading) return loading;
    var started = performance.now();
    say("Loading the search model…");
    loading = get("meta.json", "json").then(function (meta) {
      var typed = { 1: Uint8Array, 2: Uint16Array, 4: Uint32Array };
      return Promise.all([get("vocab.json", "json"), get("papers.json", "json"), get("tokens.bin"), get("tokens.scale"), get("dense.i8"), get("dense.scale"),
        get("static.i8"), get("static.scale"), get("terms.f32"), get("postings.offsets"), get("postings.docs"), get("postings.counts"), stemmerScript()]).then(function (p) {
        var vocab = new Map();
        p[0].forEach(function (t, i) { vocab.set(t, i); });
        var termIndex = new Map();
        meta.bm25.terms.forEach(function (t, i) { termIndex.set(t, i); });
        state = { meta: meta, vocab: vocab, unk: meta.unk_id, papers: p[1], dims: meta.dims,
          tokens: new Uint8Array(p[2]), tokenScale: new Float32Array(p[3]),
          dense: new Int8Array(p[4]), denseScale: new Float32Array(p[5]), static: new Int8Array(p[6]), staticScale: new Float32Array(p[7]),
          terms: new Float32Array(p[8]), offsets: new Uint32Array(p[9]), postDocs: new typed[meta.bm25.doc_bytes](p[10]), postCounts: new typed[meta.bm25.count_bytes](p[11]),
          termIndex: termIndex, stop: new Set(meta.bm25.stop_words) };
        state.loadMs = performance.now() - started;
        buildFilters(meta);
        say("Ready: " + state.papers.length + " papers (search model loaded in " + Math.round(state.loadMs) + " ms).");
        input.dataset.ready = "true";
      });
    });
    loading.catch(function (error) { say("Search could not load: " + error.message); });
    return loading;
  }

  // ---- facet filters: the perspective, then every facet the registry declares (meta.facets) ----
  var filters = {};
  function valuesOf(paper, key) { return key === "perspective" ? paper.perspectives : (paper.facets[key] || []); }
  function buildFilters(meta) {
    if (!filterBox) return;
    var facets = [{ key: "perspective", label: "Perspective", values: meta.perspectives }].concat(meta.facets);
    facets.forEach(function (facet) {
      var label = document.createElement("label"); label.textContent = facet.label + " ";
      var select = document.createElement("select"); select.className = "kb-filter"; select.dataset.facet = facet.key;
      var any = document.createElement("option"); any.value = ""; any.textContent = "any"; select.appendChild(any);
      var used = {};
      state.papers.forEach(function (p) { valuesOf(p, facet.key).forEach(function (v) { used[v] = true; }); });
      Object.keys(facet.values).forEach(function (k) {
        if (!used[k]) return;  // only values some paper has
        var o = document.createElement("option"); o.value = k; o.textContent = facet.values[k]; select.appendChild(o);
      });
      select.addEventListener("change", function () { filters[facet.key] = select.value; run(); });
      label.appendChild(select); filterBox.appendChild(label);
    });
  }
  function passes(paper) {
    return Object.keys(filters).every(function (key) {
      var want = filters[key]; return !want || valuesOf(paper, key).indexOf(want) !== -1;
    });
  }

  // ---- results ----
  function run() {
    if (!state) return;
    var query = input.value.trim();
    list.textContent = "";
    if (!query) { say("Ready: " + state.papers.length + " papers."); list.dataset.query = ""; return; }
    var started = performance.now();
    var results = rank(query).slice(0, 20);
    var ms = performance.now() - started;
    results.forEach(function (r) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = new URL(r.paper.url, root).href;
      a.dataset.paperId = r.paper.id;
      a.textContent = r.paper.title;
      var year = document.createElement("span"); year.className = "kb-year"; year.textContent = " (" + r.paper.year + ")";
      var snippet = document.createElement("span"); snippet.className = "kb-snippet";
      snippet.textContent = r.paper.summary;
      li.appendChild(a); li.appendChild(year); li.appendChild(snippet); list.appendChild(li);
    });
    say(results.length ? results.length + " results in " + ms.toFixed(1) + " ms" : "No paper matches; try other words.");
    status.dataset.ms = String(ms);
    list.dataset.query = input.value;  // lets tests and benchmarks know which query the list answers
  }

  var timer = null;
  function schedule() { clearTimeout(timer); timer = setTimeout(run, 120); }
  input.addEventListener("focus", load);
  input.addEventListener("input", function () { load().then(schedule); });
  // Not "q": mkdocs-material reads that one and opens its own keyword-search overlay over the page.
  var initial = new URLSearchParams(window.location.search).get("query");
  if (initial) { input.value = initial; load().then(run); }
  else say("The search model (about 2 MiB) loads when you click the box.");
  window.kbSearch = {
    load: load,
    rank: function (q) { return state ? rank(q).map(function (r) { return r.paper.id; }) : []; },
    expanded: function (q) { return state ? scores(q).expanded : ""; },
    tokenise: function (t) { return state ? tokenise(t) : []; },
    ready: function () { return !!state; },
  };
})();
