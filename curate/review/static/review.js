// scitune review page. Opens from disk: data files are scripts that call SCITUNE.*(...), loaded on demand.
// summary.js and index.js (a few integers per row) come with the page; card contents (rows-N.js) and
// captions for search (captions-N.js) come in chunks when needed, so the page opens fast at any size.
"use strict";

const SCITUNE = (() => {
  const FLAG_LOW_TYPE = 1, FLAG_LOW_ALIGN = 2, FLAG_NO_MENTION = 4, FLAG_NO_IMAGE = 8;
  const OCR_SHOWN = 60; // words listed before "more"
  const CHART_PAPERS = 25; // papers in the per-paper chart (the Papers tab lists all)

  let S = null; // summary
  let IX = null; // column index
  const chunks = new Map(); // chunk number -> rows
  const captions = new Map(); // chunk number -> lower-case captions
  const pending = new Map(); // script src -> promise
  let errorGroups = null;
  let rejected = new Set();
  let matches = []; // row numbers passing the filters
  let pageNo = 0;
  let renderToken = 0;

  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  };
  const fmt = (n) => Number(n).toLocaleString("en");
  const pad = (n) => String(n).padStart(5, "0");

  function load(src) {
    if (!pending.has(src)) {
      pending.set(src, new Promise((resolve, reject) => {
        const s = el("script", { src });
        s.onload = () => resolve();
        s.onerror = () => reject(new Error("cannot load " + src));
        document.head.append(s);
      }));
    }
    return pending.get(src);
  }
  const loadChunk = (n) => chunks.has(n) ? Promise.resolve() : load(`data/rows-${pad(n)}.js`);
  const loadCaptions = (n) => captions.has(n) ? Promise.resolve() : load(`data/captions-${pad(n)}.js`);

  // --- reject marks (kept in this browser, downloaded as a file for `filter --exclude`) ---
  const storeKey = () => "scitune-review-rejected:" + S.datasetKey;
  function saveRejects() {
    try { localStorage.setItem(storeKey(), JSON.stringify([...rejected])); } catch (e) { /* private mode */ }
    $("#reject-count").textContent = `${fmt(rejected.size)} rejected`;
    $("#reject-download").disabled = rejected.size === 0;
  }
  function restoreRejects() {
    try { rejected = new Set(JSON.parse(localStorage.getItem(storeKey()) || "[]")); } catch (e) { rejected = new Set(); }
    saveRejects();
  }
  function downloadRejects() {
    const lines = [
      "# scitune review: figure ids rejected by a reviewer, one per line",
      `# dataset: ${S.datasetKey}`,
      `# written: ${new Date().toISOString()}`,
      "# use: scitune-curate filter OUT -o CLEAN --exclude rejected.txt",
      ...[...rejected].sort(),
    ];
    const url = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/plain" }));
    const a = el("a", { href: url, download: "rejected.txt" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  function loadRejectFile(file) {
    file.text().then((text) => {
      for (const line of text.split(/\r?\n/)) {
        const id = line.trim();
        if (id && !id.startsWith("#")) rejected.add(id);
      }
      saveRejects();
      refresh();
    });
  }

  // --- filters ---
  const filterIds = ["q", "kind", "type", "source", "joined", "paper", "low", "marked", "size"];
  function readFilters() {
    const f = {};
    for (const k of filterIds) {
      const input = $("#f-" + k);
      f[k] = input.type === "checkbox" ? input.checked : input.value;
    }
    return f;
  }
  function writeHash(f) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v && !(k === "size" && v === "60")) p.set(k, v === true ? "1" : v);
    if (pageNo) p.set("page", String(pageNo + 1));
    if (currentTab !== "floats") p.set("tab", currentTab);
    const hash = p.toString();
    if (location.hash.slice(1) !== hash) history.replaceState(null, "", hash ? "#" + hash : location.pathname);
  }
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    $("#filters").reset(); // what the URL does not name is at its default
    for (const k of filterIds) {
      const input = $("#f-" + k);
      if (!p.has(k)) continue;
      if (input.type === "checkbox") input.checked = p.get(k) === "1";
      else input.value = p.get(k);
    }
    pageNo = Math.max(0, (parseInt(p.get("page") || "1", 10) || 1) - 1);
    // a dataset with errors and no float opens on its errors
    return p.get("tab") || (S.rows === 0 && S.errors.rows ? "errors" : "floats");
  }

  async function computeMatches(f) {
    const v = S.vocab;
    const want = (name, value) => value === "" ? -1 : v[name].indexOf(value);
    const kind = want("kind", f.kind), type = want("type", f.type), source = want("source", f.source);
    const paper = want("paper", f.paper);
    const joined = v.source.indexOf("pdf+latex");
    const terms = f.q.toLowerCase().split(/\s+/).filter(Boolean);
    if (terms.length) {
      const all = [];
      for (let n = 0; n < S.chunks; n++) all.push(loadCaptions(n));
      $("#shown").textContent = "searching captions…";
      await Promise.all(all);
    }
    const out = [];
    for (let i = 0; i < S.rows; i++) {
      if (kind >= 0 && IX.kind[i] !== kind) continue;
      if (type >= 0 && IX.type[i] !== type) continue;
      if (source >= 0 && IX.source[i] !== source) continue;
      if (paper >= 0 && IX.paper[i] !== paper) continue;
      if (f.joined === "joined" && IX.source[i] !== joined) continue;
      if (f.joined === "one" && IX.source[i] === joined) continue;
      if (f.low && !(IX.flags[i] & (FLAG_LOW_TYPE | FLAG_LOW_ALIGN))) continue;
      if (terms.length) {
        const cap = captions.get(Math.floor(i / S.chunkRows))[i % S.chunkRows];
        if (!terms.every((t) => cap.includes(t))) continue;
      }
      out.push(i);
    }
    if (f.marked) {
      // reject marks are figure ids: the rows of the matching chunks are needed to compare
      const need = new Set(out.map((i) => Math.floor(i / S.chunkRows)));
      await Promise.all([...need].map(loadChunk));
      const isRejected = (i) => rejected.has(rowAt(i).id);
      return out.filter((i) => (f.marked === "rejected") === isRejected(i));
    }
    return out;
  }
  const rowAt = (i) => chunks.get(Math.floor(i / S.chunkRows))[i % S.chunkRows];

  function pages(f) {
    // [start, end) ranges of `matches`; "paper": one page per paper
    const ranges = [];
    if (f.size === "paper") {
      let start = 0;
      for (let k = 1; k <= matches.length; k++) {
        if (k === matches.length || IX.paper[matches[k]] !== IX.paper[matches[start]]) {
          ranges.push([start, k]);
          start = k;
        }
      }
    } else {
      const size = parseInt(f.size, 10) || 60;
      for (let s = 0; s < matches.length; s += size) ranges.push([s, Math.min(s + size, matches.length)]);
    }
    return ranges;
  }

  async function refresh(keepPage = false) {
    const token = ++renderToken;
    const f = readFilters();
    if (!keepPage) pageNo = 0;
    matches = await computeMatches(f);
    if (token !== renderToken) return;
    const ranges = pages(f);
    pageNo = Math.min(pageNo, Math.max(0, ranges.length - 1));
    writeHash(f);
    const [a, b] = ranges[pageNo] || [0, 0];
    const rows = matches.slice(a, b);
    await Promise.all([...new Set(rows.map((i) => Math.floor(i / S.chunkRows)))].map(loadChunk));
    if (token !== renderToken) return;
    const cards = $("#cards");
    cards.replaceChildren(...rows.map((i) => card(rowAt(i))));
    if (!rows.length) cards.append(el("p", { class: "empty", text: "No float matches these filters." }));
    const paperNote = f.size === "paper" && rows.length ? ` · paper ${rowAt(rows[0]).paper}` : "";
    $("#shown").textContent = matches.length
      ? `showing ${fmt(a + 1)}–${fmt(b)} of ${fmt(matches.length)} floats` +
        (matches.length !== S.rows ? ` (filtered from ${fmt(S.rows)})` : "") + paperNote
      : `0 of ${fmt(S.rows)} floats`;
    for (const id of ["#pager-top", "#pager-bottom"]) $(id).replaceChildren(...pager(ranges.length));
    document.body.dataset.ready = String(token);
  }

  function pager(count) {
    if (count <= 1) return [];
    const go = (n) => () => { pageNo = n; refresh(true).then(() => window.scrollTo(0, 0)); };
    const items = [el("button", { onclick: go(pageNo - 1), disabled: pageNo === 0, text: "‹ prev" })];
    const shown = new Set([0, count - 1, pageNo - 2, pageNo - 1, pageNo, pageNo + 1, pageNo + 2]);
    let gap = false;
    for (let n = 0; n < count; n++) {
      if (!shown.has(n)) { if (!gap) items.push(el("span", { class: "gap", text: "…" })); gap = true; continue; }
      gap = false;
      items.push(el("button", { onclick: go(n), class: n === pageNo ? "current" : null, text: String(n + 1) }));
    }
    items.push(el("button", { onclick: go(pageNo + 1), disabled: pageNo === count - 1, text: "next ›" }));
    return items;
  }

  // --- one card per float ---
  function score(label, value, low, title) {
    if (value === null || value === undefined) return null;
    return el("span", { class: "badge score" + (value < low ? " low" : ""), title }, `${label} ${value.toFixed(2)}`);
  }

  function card(r) {
    const isRejected = rejected.has(r.id);
    const node = el("article", { class: "card" + (isRejected ? " rejected" : ""), "data-id": r.id });
    const media = el("div", { class: "media" });
    if (r.crop) {
      const img = el("img", {
        class: "crop", src: r.crop.src, loading: "lazy", decoding: "async", alt: `${r.kind} ${r.number} of ${r.paper}`,
        width: r.crop.w, height: r.crop.h, title: "click to enlarge",
      });
      img.addEventListener("click", () => zoom(r));
      media.append(el("div", { class: "crop-box" }, img));
    } else {
      media.append(el("div", { class: "crop-box missing", text: "no image" }));
    }
    if (r.pageImg && r.bbox) {
      const [x0, y0, x1, y1] = r.bbox;
      const box = el("div", { class: "bbox" });
      box.style.left = (100 * x0 / r.pageImg.w) + "%";
      box.style.top = (100 * y0 / r.pageImg.h) + "%";
      box.style.width = (100 * (x1 - x0) / r.pageImg.w) + "%";
      box.style.height = (100 * (y1 - y0) / r.pageImg.h) + "%";
      media.append(el("div", { class: "page", title: `page ${r.page}` },
        el("img", { class: "page-img", src: r.pageImg.src, loading: "lazy", decoding: "async", alt: `page ${r.page}` }),
        box, el("span", { class: "page-no", text: `p. ${r.page}` })));
    } else {
      const why = r.page ? (S.noPdf[r.paper] || "the page could not be rendered") : "no PDF page (LaTeX only)";
      media.append(el("div", { class: "page none", title: why, text: r.page ? `p. ${r.page}\ncrop only` : "no page" }));
    }
    node.append(media);

    const kindName = r.kind === "table" ? "Table" : "Figure";
    const head = el("div", { class: "head" },
      el("span", { class: "fid", title: r.id, text: `${kindName} ${r.number}` }),
      el("span", { class: "paper", title: r.input || "", text: r.paper }),
      el("button", {
        class: "reject" + (isRejected ? " on" : ""), title: "mark this row to be dropped (reject list)",
        text: isRejected ? "rejected ✕" : "reject",
        onclick: (e) => {
          if (rejected.has(r.id)) rejected.delete(r.id); else rejected.add(r.id);
          saveRejects();
          const on = rejected.has(r.id);
          node.classList.toggle("rejected", on);
          e.target.classList.toggle("on", on);
          e.target.textContent = on ? "rejected ✕" : "reject";
        },
      }));
    node.append(head);

    const badges = el("div", { class: "badges" },
      el("span", { class: "badge type", text: r.type || "unknown" }),
      S.hasTypeScore ? score("type", r.typeScore, S.thresholds.typeScore, "classifier confidence of the type") : null,
      el("span", { class: "badge source " + (r.source || "").replace("+", "-"), text: r.source }),
      score("align", r.alignment, S.thresholds.alignment, "agreement of the PDF and LaTeX captions (token F1)"),
      r.license ? el("span", { class: "badge", text: r.license }) : null,
      r.subfigures.length ? el("span", { class: "badge", text: `${r.subfigures.length} panels` }) : null);
    node.append(badges);
    node.append(el("p", { class: "caption", text: r.caption || "(no caption)" }));
    if (r.pdfCaption) {
      node.append(el("details", { class: "more" }, el("summary", { text: "PDF caption (differs)" }),
        el("p", { class: "small", text: r.pdfCaption })));
    }
    const ocr = el("details", { class: "more" }, el("summary", {
      text: `OCR words: ${r.ocr.length}` + (r.ocrSource ? ` (${r.ocrSource})` : ""),
    }));
    if (r.ocr.length) {
      const words = el("p", { class: "words" });
      for (const w of r.ocr.slice(0, OCR_SHOWN)) words.append(el("span", { text: w }));
      if (r.ocr.length > OCR_SHOWN) words.append(el("em", { text: ` +${r.ocr.length - OCR_SHOWN} more` }));
      ocr.append(words);
    }
    node.append(ocr);
    const mentions = el("details", { class: "more" }, el("summary", {
      text: `mentions: ${r.mentions.length}` + (r.paragraphs ? ` in ${r.paragraphs} paragraphs` : ""),
    }));
    if (r.mentions.length) mentions.append(el("ul", { class: "mentions" }, ...r.mentions.map((m) => el("li", { text: m }))));
    node.append(mentions);
    node.append(el("div", { class: "foot", text: r.id + (r.label ? `  ·  \\label{${r.label}}` : "") }));
    return node;
  }

  function zoom(r) {
    const z = $("#zoom");
    z.querySelector("img").src = r.crop.src;
    z.querySelector("p").textContent = `${r.id} · ${r.crop.w}×${r.crop.h} px (thumbnail shown) · ${r.input || ""}`;
    z.hidden = false;
  }

  // --- overview: counts and charts ---
  function bars(target, items, total, fmtLabel) {
    const max = Math.max(1, ...items.map((x) => x[1]));
    target.replaceChildren(...items.map(([label, n, extra]) => el("div", { class: "bar-row", title: `${label}: ${fmt(n)}` },
      el("span", { class: "bar-label", text: label }),
      el("span", { class: "bar-track" }, Object.assign(el("span", { class: "bar" }), { style: `width:${(100 * n / max).toFixed(1)}%` })),
      el("span", { class: "bar-n", text: fmtLabel ? fmtLabel(n, extra) : fmt(n) }))));
  }

  function overview() {
    const count = (col, vocab) => {
      const c = new Array(vocab.length).fill(0);
      for (const v of IX[col]) c[v]++;
      return vocab.map((name, k) => [name, c[k]]).filter((x) => x[1] > 0).sort((a, b) => b[1] - a[1]);
    };
    const kinds = Object.fromEntries(count("kind", S.vocab.kind));
    let low = 0, joined = 0;
    const j = S.vocab.source.indexOf("pdf+latex");
    for (let i = 0; i < S.rows; i++) {
      if (IX.flags[i] & (FLAG_LOW_TYPE | FLAG_LOW_ALIGN)) low++;
      if (IX.source[i] === j) joined++;
    }
    const stat = (n, label) => el("div", { class: "stat" }, el("b", { text: fmt(n) }), el("span", { text: label }));
    $("#counts").replaceChildren(
      stat(S.rows, "floats"), stat(kinds.figure || 0, "figures"), stat(kinds.table || 0, "tables"),
      stat(S.papers.length, "papers"), stat(joined, "joined pdf+latex"), stat(low, "low confidence"),
      stat(S.errors.rows, "error rows"));
    bars($("#chart-types"), count("type", S.vocab.type), S.rows);
    bars($("#chart-sources"), count("source", S.vocab.source), S.rows);
    const papers = [...S.papers].sort((a, b) => (b.figures + b.tables) - (a.figures + a.tables)).slice(0, CHART_PAPERS);
    bars($("#chart-papers"), papers.map((p) => [p.id, p.figures + p.tables, p.pages]), S.rows,
      (n, pages) => `${fmt(n)}` + (pages ? ` / ${pages} p.` : ""));
    if (S.papers.length > CHART_PAPERS) {
      $("#chart-papers").append(el("p", { class: "small muted", text: `top ${CHART_PAPERS} of ${fmt(S.papers.length)} papers; all in the Papers tab` }));
    }
    const missing = Object.keys(S.noPdf);
    if (missing.length) {
      const first = missing[0];
      const n = $("#notice");
      n.textContent = `${fmt(missing.length)} of ${fmt(S.papers.length)} papers are shown crop-only (no page thumbnail): ` +
        `${first}: ${S.noPdf[first]}`;
      n.hidden = false;
    }
    $("#tab-floats-n").textContent = fmt(S.rows);
    $("#tab-papers-n").textContent = fmt(S.papers.length);
    $("#tab-errors-n").textContent = fmt(S.errors.rows);
    if (S.errors.rows) $("#tab-errors-n").classList.add("warn");
  }

  function fillSelect(id, label, names, counts) {
    const sel = $(id);
    sel.replaceChildren(el("option", { value: "", text: label }),
      ...names.map((n, k) => el("option", { value: n, text: counts ? `${n} (${fmt(counts[k])})` : n })));
  }

  // --- papers and errors tabs ---
  function papersTab() {
    const body = $("#papers-body");
    if (body.childElementCount) return;
    body.append(...S.papers.map((p) => el("tr", {},
      el("td", {}, el("a", { href: "#", text: p.id, onclick: (e) => { e.preventDefault(); showPaper(p.id); } })),
      el("td", { text: fmt(p.figures) }), el("td", { text: fmt(p.tables) }),
      el("td", { text: p.pages === null || p.pages === undefined ? "–" : fmt(p.pages) }),
      el("td", { class: p.errors ? "warn" : "", text: fmt(p.errors) }),
      el("td", { text: p.thumbs ? "yes" : "crop only" }))));
  }
  function showPaper(id) {
    $("#f-paper").value = id;
    setTab("floats");
    refresh();
  }

  function errorsTab() {
    const render = () => {
      const body = $("#errors-body");
      if (!errorGroups.length) { body.replaceChildren(el("p", { text: "No error rows: every input gave its floats." })); return; }
      body.replaceChildren(...errorGroups.map((g, k) => el("details", { class: "error-group", open: k < 3 },
        el("summary", {},
          el("span", { class: "badge stage", text: g.stage }), el("code", { text: g.error }),
          el("span", { class: "n", text: `${fmt(g.count)} ${g.count === 1 ? "row" : "rows"}` }),
          el("span", { class: "muted small", text: S.stages[g.stage] || "" })),
        el("p", { class: "message", text: g.rows[0] ? g.rows[0].message : "" }),
        el("table", { class: "grid-table" },
          el("thead", {}, el("tr", {}, el("th", { text: "input" }), el("th", { text: "paper / float" }), el("th", { text: "message" }))),
          el("tbody", {}, ...g.rows.map((r) => el("tr", {},
            el("td", { class: "path", text: r.input || "" }),
            el("td", { text: r.figure || r.paper || "" }),
            el("td", { class: "small", text: r.message || "" }))))),
        g.count > g.rows.length ? el("p", { class: "muted small", text: `first ${fmt(g.rows.length)} of ${fmt(g.count)} listed` }) : null)));
    };
    if (errorGroups) render(); else load("data/errors.js").then(render);
  }

  let currentTab = "floats";
  function setTab(tab) {
    currentTab = tab;
    for (const b of document.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.tab === tab);
    for (const id of ["floats", "papers", "errors"]) $("#" + id).hidden = id !== tab;
    if (tab === "papers") papersTab();
    if (tab === "errors") errorsTab();
    writeHash(readFilters());
  }

  function start() {
    if (!S || !IX) {
      document.body.prepend(el("p", { class: "notice", text: "The review data did not load: re-run scitune-curate review." }));
      return;
    }
    $("#dataset").textContent = S.dataset;
    document.title = `scitune review · ${S.dataset}`;
    const counts = (col, vocab) => { const c = new Array(vocab.length).fill(0); for (const v of IX[col]) c[v]++; return c; };
    const present = (col) => { const c = counts(col, S.vocab[col]); return [S.vocab[col].filter((_, k) => c[k]), c.filter((n) => n)]; };
    fillSelect("#f-kind", "all kinds", ...present("kind"));
    fillSelect("#f-type", "all types", ...present("type"));
    fillSelect("#f-source", "all sources", ...present("source"));
    fillSelect("#f-paper", "all papers", ...present("paper"));
    restoreRejects();
    overview();
    const tab = readHash();
    let typing = null;
    $("#f-q").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => refresh(), 200); });
    for (const k of filterIds) if (k !== "q") $("#f-" + k).addEventListener("change", () => refresh());
    $("#f-reset").addEventListener("click", () => { $("#filters").reset(); refresh(); });
    for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => setTab(b.dataset.tab));
    $("#reject-download").addEventListener("click", downloadRejects);
    $("#reject-load").addEventListener("change", (e) => e.target.files[0] && loadRejectFile(e.target.files[0]));
    $("#reject-clear").addEventListener("click", () => {
      if (rejected.size && confirm(`Forget ${rejected.size} reject marks?`)) { rejected.clear(); saveRejects(); refresh(true); }
    });
    $("#zoom").addEventListener("click", () => { $("#zoom").hidden = true; });
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") $("#zoom").hidden = true; });
    // a link or an edited URL (#type=line_plot&page=2) changes the view without a reload
    window.addEventListener("hashchange", () => { setTab(readHash()); refresh(true); });
    setTab(tab);
    refresh(true);
  }

  return {
    summary: (s) => { S = s; },
    index: (ix) => { IX = ix; },
    chunk: (n, rows) => { chunks.set(n, rows); },
    captions: (n, caps) => { captions.set(n, caps); },
    errors: (groups) => { errorGroups = groups; },
    start,
    rejected: () => [...rejected],
  };
})();
