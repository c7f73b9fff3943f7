// The paper search of every page's header (input#kb-search), run in the browser and ranked like `kb search`
// (kb/search/ranking.py): 0.7 x BM25 of the query expanded with the taxonomy term that stands out as closest
// in meaning + 0.3 x the static query vector against the papers' sentence-transformer vectors, each rescaled
// so the best paper scores 1; then exact matches (arXiv id, title, short name, acronym, author) first, and
// the relevance floor: no good match when no paper holds enough of the query's words.
// The files come from kb/site/search_assets.py (its docstring says what each holds). They load on the first
// focus of the box (or at once for ?query= on the search page): a visit that never searches downloads nothing.
// On the search page the results, filters and query live in the page and its address; elsewhere the best
// few drop down under the header. Results are built with textContent and addresses computed from paper ids:
// record text never becomes markup.
(function () {
  "use strict";
  var script = document.currentScript;
  var root = new URL("../", script ? script.src : window.location.href);
  var dataUrl = new URL("assets/kb/search/", root);
  var input = document.getElementById("kb-search");
  var list = document.getElementById("kb-search-results");
  var status = document.getElementById("kb-search-status");
  var panel = document.getElementById("kb-search-panel");
  var onPage = document.querySelector(".kb-search-page");
  var filterBox = onPage ? onPage.querySelector(".kb-search-filters") : null;
  if (!input || !list) return;
  var LIMIT = onPage ? 50 : 8;

  var state = null, loading = null;
  function say(text, kind) { if (status) { status.textContent = text; status.dataset.state = kind || ""; } }

  // ---- WordPiece tokeniser (BertNormalizer + BertPreTokenizer + WordPiece, as in tokenizer.json) ----
  var PUNCT = /[\p{P}\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/u;
  var CONTROL = /[\p{Cc}\p{Cf}]/u;
  var SPACE = /\s/u;
  function isCjk(cp) {
    return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
      (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
      (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
  }
  function bertNormalise(text) {
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
    preTokenise(bertNormalise(text)).forEach(function (w) { ids.push.apply(ids, wordPiece(w)); });
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

  // ---- BM25 exactly as kb/search/lexical.py: \w\w+ words, stop words out, Snowball stems, Lucene idf ----
  var WORD = /[\p{L}\p{N}_]{2,}/gu;
  function stem(word) {
    if (!state.meta.bm25.stemmed) return word;
    if (state.stems.has(word)) return state.stems.get(word);
    if (state.termIndex.has(word)) return word;
    return window.kbPorter2 ? window.kbPorter2.stem(word) : word;  // a word the knowledge base never uses
  }
  function lexicalTerms(text) {
    return (text.toLowerCase().match(WORD) || []).filter(function (w) { return !state.stop.has(w); }).map(stem);
  }
  function idf(df) { var n = state.papers.length; return Math.log(1 + (n - df + 0.5) / (df + 0.5)); }
  function bm25(text) {
    var bm = state.meta.bm25, out = new Float64Array(state.papers.length);
    lexicalTerms(text).forEach(function (term) {  // a repeated query word counts again, as in kb/search/lexical.py
      var t = state.termIndex.get(term);
      if (t === undefined) return;
      var from = state.offsets[t], to = state.offsets[t + 1], weight = idf(to - from);
      for (var p = from; p < to; p++) {
        var doc = state.postDocs[p], c = state.postCounts[p];
        out[doc] += weight * c * (bm.k1 + 1) / (c + state.norm[doc]);
      }
    });
    return out;
  }
  // The share of the query's word weight each paper holds (ranking.Searcher.coverage): the relevance floor.
  function coverage(text) {
    var out = new Float64Array(state.papers.length), seen = new Set(), total = 0;
    lexicalTerms(text).forEach(function (term) {
      if (seen.has(term)) return;
      seen.add(term);
      var t = state.termIndex.get(term), weight = idf(t === undefined ? 0 : state.offsets[t + 1] - state.offsets[t]);
      total += weight;
      if (t === undefined) return;
      for (var p = state.offsets[t]; p < state.offsets[t + 1]; p++) out[state.postDocs[p]] += weight;
    });
    if (total > 0) for (var i = 0; i < out.length; i++) out[i] /= total;
    return out;
  }

  // ---- fusion (ranking.Searcher._hybrid) ----
  function median(values) {
    var sorted = Array.from(values).sort(function (a, b) { return a - b; }), m = sorted.length >> 1;
    return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }
  function toUnit(scores, aroundMedian) {
    var low = aroundMedian ? median(scores) : 0, high = -Infinity;
    for (var i = 0; i < scores.length; i++) if (scores[i] > high) high = scores[i];
    var out = new Float64Array(scores.length);
    if (!(high > low)) return out;
    for (var j = 0; j < scores.length; j++) out[j] = Math.max(0, (scores[j] - low) / (high - low));
    return out;
  }
  function expansion(v) {
    var names = state.meta.expansion.names, d = state.dims, n = names.length;
    if (!v || n < 2) return [];
    var sims = new Float64Array(n), mean = 0;
    for (var i = 0; i < n; i++) { var s = 0; for (var k = 0; k < d; k++) s += state.terms[i * d + k] * v[k]; sims[i] = s; mean += s; }
    mean /= n;
    var variance = 0;
    for (var j = 0; j < n; j++) variance += (sims[j] - mean) * (sims[j] - mean);
    var spread = Math.sqrt(variance / n);
    var order = Array.from(sims.keys()).sort(function (a, b) { return sims[b] - sims[a]; });
    return order.slice(0, state.meta.expansion.terms).filter(function (i) {
      return spread > 0 && (sims[i] - mean) / spread >= state.meta.expansion.z;
    }).map(function (i) { return names[i]; });
  }
  function scores(query) {
    var n = state.papers.length, w = state.meta.weights, v = encode(query);
    if (!v && !bm25(query).some(function (s) { return s > 0; })) return { scores: new Float64Array(n), expanded: query };
    var expanded = [query].concat(expansion(v)).join(" ");
    var lexical = toUnit(bm25(expanded), false);
    var semantic = toUnit(similarities(state.dense, state.denseScale, encode(expanded)), true);
    var out = new Float64Array(n);
    for (var i = 0; i < n; i++) out[i] = w.lexical * lexical[i] + w.dense * semantic[i];
    return { scores: out, expanded: expanded };
  }

  // ---- exact matches (ranking.Names): ids, titles, short names, acronyms, authors ----
  function normal(text) {
    return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean).join(" ");
  }
  function idOf(query) {
    var q = query.trim();
    return q ? q.replace(/^(?:https?:\/\/)?(?:www\.|export\.)?arxiv\.org\/(?:abs|pdf)\/|^arxiv:/i, "").replace(/(?:v\d+)?(?:\.pdf)?$/, "") : "";
  }
  function titleInitials(title) {
    return title.normalize("NFKD").replace(/\p{M}/gu, "").split(/[^\p{L}\p{N}]+/u)
      .filter(function (w) { return w && w[0].toLowerCase() !== w[0]; }).map(function (w) { return w[0].toLowerCase(); }).join("");
  }
  function prepareNames(paper) {
    var titles = [paper.title].concat(paper.aliases);
    paper.normalTitles = titles.map(normal);
    paper.heads = titles.filter(function (t) { return t.indexOf(":") >= 0 && t.split(":")[0].split(/\s+/).filter(Boolean).length <= 6; })
      .map(function (t) { return normal(t.split(":")[0]).replace(/ /g, ""); });
    paper.initials = titles.map(titleInitials);
    paper.authorWords = paper.authors.map(function (a) { return normal(a).split(" ").filter(Boolean); });
  }
  function exact(query) {
    var papers = state.papers, n = papers.length, kinds = state.meta.exact.kinds, atMost = state.meta.exact.at_most;
    var bonus = new Float64Array(n), kind = new Array(n).fill("");
    var wanted = normal(query);
    if (!wanted) return { bonus: bonus, kind: kind };
    var compact = wanted.replace(/ /g, ""), words = wanted.split(" "), id = idOf(query), lower = query.trim().toLowerCase();
    function give(name, test, capped) {
      var hits = [];
      for (var i = 0; i < n; i++) if (test(papers[i])) hits.push(i);
      if (capped && hits.length > atMost) return;
      hits.forEach(function (i) { if (kinds[name] > bonus[i]) { bonus[i] = kinds[name]; kind[i] = name; } });
    }
    give("arXiv id", function (p) { return p.id === id || p.id === lower; }, false);
    give("title", function (p) { return p.normalTitles.indexOf(wanted) >= 0 || p.heads.indexOf(compact) >= 0; }, true);
    if (words.length === 1 && compact.length >= state.meta.exact.acronym_min) {
      var longest = compact.length <= 8;
      give("acronym", function (p) { return longest && p.initials.some(function (s) { return s.indexOf(compact) >= 0; }); }, true);
    }
    if (words.length === 1) give("defined acronym", function (p) { return p.acronyms.indexOf(compact) >= 0; }, true);
    if (words.length >= 3) {
      var phrase = " " + wanted + " ";
      give("title words", function (p) { return p.normalTitles.some(function (t) { return (" " + t + " ").indexOf(phrase) >= 0; }); }, true);
    }
    var querySet = new Set(words);
    give("author", function (p) {
      return p.authorWords.some(function (name) {
        return name.length && querySet.has(name[name.length - 1]) && words.every(function (w) { return name.indexOf(w) >= 0; });
      });
    }, false);
    return { bonus: bonus, kind: kind };
  }

  // ---- the search (ranking.Searcher.search); `answered` is false for "no good match" ----
  function rank(query, useFilters) {
    query = query.split(/\s+/).filter(Boolean).join(" ").slice(0, state.meta.max_query_chars);
    if (!query) return { results: [], answered: false };
    var fused = scores(query).scores, names = exact(query), cover = coverage(query), floor = state.meta.floor;
    var anyExact = names.bonus.some(function (b) { return b > 0; });
    if (!anyExact && !cover.some(function (c) { return c >= floor.coverage; })) return { results: [], answered: false };
    var order = [];
    for (var i = 0; i < fused.length; i++) {
      var keep = names.bonus[i] > 0 || (fused[i] > 0 && cover[i] >= floor.paper);
      if (keep && (!useFilters || passes(state.papers[i]))) order.push(i);
    }
    var final = function (i) { return fused[i] + names.bonus[i]; };
    order.sort(function (a, b) { return final(b) - final(a); });  // stable: ties keep id order, as in kb search
    return { results: order.map(function (i) { return { paper: state.papers[i], score: final(i), match: names.kind[i] }; }), answered: true };
  }

  // ---- loading ----
  function get(name, kind) {
    return fetch(new URL(name, dataUrl)).then(function (r) {
      if (!r.ok) throw new Error(name + ": " + r.status);
      return kind === "json" ? r.json() : kind === "text" ? r.text() : r.arrayBuffer();
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
  function lines(text) { return text ? text.split("\n") : []; }
  function decodePostings(bytes, termCount, n) {
    var at = 0;
    function next() { var value = 0, shift = 0, b; do { b = bytes[at++]; value += (b & 127) * Math.pow(2, shift); shift += 7; } while (b & 128); return value; }
    var offsets = new Uint32Array(termCount + 1), docs = [], counts = [];
    for (var t = 0; t < termCount; t++) {
      var df = next(), doc = 0;
      for (var k = 0; k < df; k++) {
        var v = next(), count = (v & 3) + 1;
        doc += Math.floor(v / 4);
        if (count === 4) count += next();
        docs.push(doc); counts.push(count);
      }
      offsets[t + 1] = docs.length;
    }
    var lengths = new Float64Array(n);
    for (var p = 0; p < docs.length; p++) lengths[docs[p]] += counts[p];
    return { offsets: offsets, docs: n > 65535 ? Uint32Array.from(docs) : Uint16Array.from(docs), counts: Uint16Array.from(counts), lengths: lengths };
  }
  function load() {
    if (loading) return loading;
    var started = performance.now();
    say("Loading the paper search…", "loading");
    // Four files in one round of requests (the browser opens six connections): see kb/site/search_assets.py.
    loading = Promise.all([get("meta.json", "json"), get("words.txt", "text"), get("papers.json", "json"), get("model.bin"), stemmerScript()]).then(function (p) {
      var meta = p[0], vocab = new Map(), termIndex = new Map(), stems = new Map();
      var sections = p[1].split("\n\f\n"), buffer = p[3];
      function part(name, Type) { var at = meta.parts[name]; return new Type(buffer, at[0], at[1] / Type.BYTES_PER_ELEMENT); }
      lines(sections[0]).forEach(function (t, i) { vocab.set(t, i); });
      var termList = lines(sections[1]);
      termList.forEach(function (t, i) { termIndex.set(t, i); });
      lines(sections[2]).forEach(function (line) {
        var parts = line.split(" "), word = parts[0];
        stems.set(word, word.slice(0, word.length - Number(parts[1])) + (parts[2] || ""));
      });
      var authors = p[2].authors, areas = meta.areas;
      var papers = p[2].papers.map(function (e) {
        var paper = { id: e[0], title: e[1], year: e[2], authors: e[3].map(function (i) { return authors[i]; }), areas: e[4],
          facets: {}, aliases: e[6], acronyms: e[7], url: e[8] || "papers/" + e[0].replace("/", "_") + "/" };
        meta.facets.forEach(function (f, k) { var keys = Object.keys(f.values); paper.facets[f.key] = e[5][k].map(function (i) { return keys[i]; }); });
        var within = new Set();
        e[4].forEach(function (a) { within.add(areas[a][0]); areas[a][2].forEach(function (up) { within.add(areas[up][0]); }); });
        paper.within = within;
        prepareNames(paper);
        return paper;
      });
      var postings = decodePostings(part("postings", Uint8Array), termList.length, papers.length);
      var total = 0;
      postings.lengths.forEach(function (x) { total += x; });
      var average = papers.length ? total / papers.length : 0, bm = meta.bm25;
      var norm = Array.from(postings.lengths, function (x) { return average ? bm.k1 * (1 - bm.b + bm.b * (x / average)) : bm.k1; });
      state = { meta: meta, vocab: vocab, unk: meta.unk_id, papers: papers, dims: meta.dims,
        tokens: part("tokens", Uint8Array), tokenScale: part("token_scale", Float32Array), dense: part("dense", Int8Array),
        denseScale: part("dense_scale", Float32Array), terms: part("terms", Float32Array), offsets: postings.offsets, postDocs: postings.docs, postCounts: postings.counts, norm: norm,
        termIndex: termIndex, stems: stems, stop: new Set(bm.stop_words) };
      state.loadMs = performance.now() - started;
      buildFilters();
      input.dataset.ready = "true";
      say("Ready: " + papers.length + " papers.", "ready");
    });
    loading.catch(function (error) { say("The search could not load: " + error.message, "error"); });
    return loading;
  }

  // ---- filters of the search page: area, years, then every facet of the registry (meta.facets) ----
  var filters = {}, years = {};
  var params = new URLSearchParams(window.location.search);
  function option(select, value, text) { var o = document.createElement("option"); o.value = value; o.textContent = text; select.appendChild(o); }
  function labelled(text, select) { var label = document.createElement("label"); label.textContent = text + " "; label.appendChild(select); filterBox.appendChild(label); }
  function buildFilters() {
    if (!filterBox) return;
    var papers = state.papers, meta = state.meta;
    var area = document.createElement("select"); area.className = "kb-filter"; area.dataset.facet = "area";
    option(area, "", "any");
    var usedAreas = new Set();
    papers.forEach(function (p) { p.within.forEach(function (a) { usedAreas.add(a); }); });
    meta.areas.forEach(function (a) { if (usedAreas.has(a[0])) option(area, a[0], a[1]); });
    labelled("Area", area);
    var span = papers.map(function (p) { return p.year; }), first = Math.min.apply(null, span), last = Math.max.apply(null, span);
    ["from", "to"].forEach(function (end) {
      var select = document.createElement("select"); select.className = "kb-filter"; select.dataset.facet = "year-" + end;
      option(select, "", end === "from" ? "any" : "any");
      for (var y = last; y >= first; y--) option(select, String(y), String(y));
      labelled(end === "from" ? "From" : "to", select);
    });
    meta.facets.forEach(function (facet) {
      var select = document.createElement("select"); select.className = "kb-filter"; select.dataset.facet = facet.key;
      option(select, "", "any");
      var used = new Set();
      papers.forEach(function (p) { p.facets[facet.key].forEach(function (v) { used.add(v); }); });
      Object.keys(facet.values).forEach(function (k) { if (used.has(k)) option(select, k, facet.values[k]); });
      labelled(facet.label, select);
    });
    var reset = document.createElement("button"); reset.type = "button"; reset.className = "kb-reset"; reset.textContent = "Reset filters";
    filterBox.appendChild(reset);
    var selects = filterBox.querySelectorAll("select.kb-filter");
    // The address carries the query and the filters: ?query=...&area=model&year=2023..2025&modality=image
    var range = (params.get("year") || "").split("..");
    selects.forEach(function (s) {
      var key = s.dataset.facet, wanted = key === "year-from" ? range[0] : key === "year-to" ? (range.length > 1 ? range[1] : range[0]) : params.get(key);
      if (wanted && Array.from(s.options).some(function (o) { return o.value === wanted; })) s.value = wanted;
      s.addEventListener("change", function () { readFilters(); run(); });
    });
    reset.addEventListener("click", function () { selects.forEach(function (s) { s.value = ""; }); readFilters(); run(); });
    readFilters();
  }
  function readFilters() {
    filters = {}; years = {};
    filterBox.querySelectorAll("select.kb-filter").forEach(function (s) {
      if (!s.value) return;
      if (s.dataset.facet === "year-from") years.from = Number(s.value);
      else if (s.dataset.facet === "year-to") years.to = Number(s.value);
      else filters[s.dataset.facet] = s.value;
    });
  }
  function passes(paper) {
    if (years.from && paper.year < years.from) return false;
    if (years.to && paper.year > years.to) return false;
    return Object.keys(filters).every(function (key) {
      return key === "area" ? paper.within.has(filters[key]) : paper.facets[key].indexOf(filters[key]) !== -1;
    });
  }
  function address(query) {
    var out = new URLSearchParams();
    if (query) out.set("query", query);
    Object.keys(filters).forEach(function (key) { out.set(key, filters[key]); });
    if (years.from || years.to) out.set("year", years.from === years.to ? String(years.from) : (years.from || "") + ".." + (years.to || ""));
    var text = out.toString();
    return window.location.pathname + (text ? "?" + text : "");
  }

  // ---- results ----
  function run() {
    if (!state) return;
    var query = input.value.trim();
    list.textContent = "";
    if (onPage) window.history.replaceState(null, "", address(query));
    if (!query) { say("Ready: " + state.papers.length + " papers.", "ready"); list.dataset.query = ""; showPanel(false); return; }
    var started = performance.now();
    var answer = rank(query, !!onPage), results = answer.results.slice(0, LIMIT);
    var ms = performance.now() - started;
    results.forEach(function (r) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = new URL(r.paper.url, root).href;
      a.dataset.paperId = r.paper.id;
      a.className = "kb-result-title";
      a.textContent = r.paper.title;
      li.appendChild(a);
      var year = document.createElement("span"); year.className = "kb-year"; year.textContent = " " + r.paper.year;
      li.appendChild(year);
      if (r.match) { var badge = document.createElement("span"); badge.className = "kb-match"; badge.textContent = r.match; li.appendChild(badge); }
      if (r.paper.authors.length) {
        var who = document.createElement("span"); who.className = "kb-authors";
        who.textContent = r.paper.authors.slice(0, 3).join(", ") + (r.paper.authors.length > 3 ? " et al." : "");
        li.appendChild(who);
      }
      list.appendChild(li);
    });
    if (!onPage && answer.results.length) {
      var more = document.createElement("li"), link = document.createElement("a");
      more.className = "kb-search-more";
      link.href = new URL("search/?query=" + encodeURIComponent(query), root).href;
      link.textContent = "All " + answer.results.length + " results, with filters →";
      more.appendChild(link); list.appendChild(more);
    }
    if (!answer.answered) say("No good match for “" + query + "”: no paper names these words or holds enough of them. Try other words, a title, an author or an arXiv id.", "none");
    else if (!answer.results.length) say("No paper passes these filters.", "none");
    else say(answer.results.length + (answer.results.length === 1 ? " paper" : " papers") + (answer.results.length > LIMIT ? ", the best " + LIMIT + " shown" : "") + " (" + ms.toFixed(0) + " ms)", "results");
    if (status) status.dataset.ms = String(ms);
    list.dataset.query = input.value;  // lets tests and benchmarks know which query the list answers
    showPanel(true);
  }
  function showPanel(open) { if (panel) panel.hidden = !open; }

  // At most one search every THROTTLE ms while typing, and one at the end: results follow the typing (a
  // debounce would show nothing until the typing pauses).
  var THROTTLE = 120, timer = null, last = 0;
  function schedule() {
    if (timer) return;
    var wait = Math.max(0, last + THROTTLE - performance.now());
    timer = setTimeout(function () { timer = null; last = performance.now(); run(); }, wait);
  }
  input.addEventListener("focus", function () { load(); if (list.childElementCount) showPanel(true); });
  input.addEventListener("input", function () { load().then(schedule); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { showPanel(false); return; }
    if (event.key === "ArrowDown") { var first = list.querySelector("a"); if (first) { event.preventDefault(); first.focus(); } }
  });
  list.addEventListener("keydown", function (event) {
    var links = Array.from(list.querySelectorAll("a")), at = links.indexOf(document.activeElement);
    if (at < 0) return;
    if (event.key === "ArrowDown" && at < links.length - 1) { event.preventDefault(); links[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (at ? links[at - 1] : input).focus(); }
    if (event.key === "Escape") { input.focus(); showPanel(false); }
  });
  if (panel) document.addEventListener("click", function (event) { if (!input.form.contains(event.target)) showPanel(false); });
  if (onPage && input.form) input.form.addEventListener("submit", function (event) { event.preventDefault(); load().then(run); });
  var initial = onPage ? params.get("query") : null;
  if (initial) { input.value = initial; load().then(run); }
  else if (onPage) say("The paper search (under 1 MiB) loads when you click the box.", "idle");
  window.kbSearch = {
    load: load,
    rank: function (q) { return state ? rank(q, false).results.map(function (r) { return r.paper.id; }) : []; },
    matches: function (q) { return state ? rank(q, false).results.map(function (r) { return [r.paper.id, r.match]; }) : []; },
    expanded: function (q) { return state ? scores(q).expanded : ""; },
    tokenise: function (t) { return state ? tokenise(t) : []; },
    stem: function (w) { return state ? stem(w) : w; },
    ready: function () { return !!state; },
  };
})();
