/* qualcode coding app. Plain JavaScript, no build step, no dependencies.
 *
 * Safety rule of this file: every text that comes from the project (documents, codes,
 * memos, evidence, names) reaches the page through textContent / createTextNode, never
 * through the HTML parser (no inner or outer HTML assignment, no string-built markup).  The helper h() is the only way elements are made.
 */
"use strict";

const TOKEN = document.querySelector('meta[name="qualcode-token"]').content;
const PAGE = 50;
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
  "#9c755f", "#bab0ac", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#7f7f7f", "#aec7e8"];

const S = {
  project: null, codes: [], code: new Map(), color: new Map(), lastChange: 0,
  view: null, doc: null, queue: null, polling: null, busy: false,
};

// -- DOM helpers ----------------------------------------------------------------------------------
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "data") for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else if (k === "style") for (const [sk, sv] of Object.entries(v)) el.style.setProperty(sk, String(sv));
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}
function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
function fmt(x, d = 2) { return x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(d); }
function swatch(code) { return h("span", { class: "sw", style: { background: S.color.get(code) || "#888" } }); }
function codeName(code) { const c = S.code.get(code); return c ? c.name : code; }
function chip(code) { return h("span", { class: "codechip" }, swatch(code), codeName(code)); }
function docLink(docId, start, label) {
  const href = "#/doc/" + encodeURIComponent(docId) + (start !== undefined ? "/" + start : "");
  return h("a", { href }, label || docId);
}

let toastTimer = null;
function toast(msg, isError) {
  const t = document.getElementById("toast");
  t.textContent = msg;
  t.className = isError ? "error" : "";
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, isError ? 6000 : 2500);
}

async function api(method, path, body) {
  const opt = { method, headers: { "X-Qualcode-Token": TOKEN }, credentials: "same-origin" };
  if (body !== undefined) {
    opt.headers["Content-Type"] = "application/json";
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  let data;
  try { data = await r.json(); } catch (e) { data = { error: r.statusText }; }
  if (!r.ok && r.status !== 202 && r.status !== 409) throw new Error(data.error || r.statusText);
  return data;
}
function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") u.set(k, v);
  const s = u.toString();
  return s ? "?" + s : "";
}

// -- project, codes and colours ------------------------------------------------------------------
async function loadProject() {
  const p = await api("GET", "/api/project");
  S.project = p;
  S.codes = p.codebook ? p.codebook.codes : [];
  S.code = new Map(S.codes.map(c => [c.id, c]));
  S.color = new Map(S.codes.map((c, i) => [c.id, c.color || PALETTE[i % PALETTE.length]]));
  if (!S.lastChange) S.lastChange = p.last_change;
  document.getElementById("who").textContent = "coding as " + p.user;
  document.getElementById("counts").textContent =
    `${p.counts.documents} documents · ${p.counts.accepted} accepted · ${p.counts.proposed} to review · ${p.counts.memos} memos`;
  return p;
}

// -- router --------------------------------------------------------------------------------------
const VIEWS = { documents: viewDocuments, doc: viewDocument, review: viewReview, retrieve: viewRetrieve,
  memos: viewMemos, compare: viewCompare, train: viewTrain };

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const name = VIEWS[parts[0]] ? parts[0] : "documents";
  S.view = name;
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.view === name || (name === "doc" && a.dataset.view === "documents"));
  hidePicker(); hideTooltip();
  const main = clear(document.getElementById("main"));
  S.doc = null; S.queue = null; S.memosRefresh = null; S.trainRefresh = null; S.trainStart = null;
  Promise.resolve(VIEWS[name](main, parts.slice(1))).catch(err => {
    main.append(h("p", { class: "error", text: err.message }));
  });
}

// -- polling: other windows' changes -------------------------------------------------------------
async function poll() {
  try {
    const r = await api("GET", "/api/changes" + qs({ since: S.lastChange }));
    if (r.last > S.lastChange) {
      const changed = r.changes;
      S.lastChange = r.last;
      await loadProject();
      await refreshView(changed);
    }
  } catch (e) { /* the server may be restarting; try again */ }
  S.polling = setTimeout(poll, 1200);
}
async function refreshView(changes) {
  if (S.view === "doc" && S.doc) {
    const hit = changes.some(c => c.doc_id === S.doc.doc_id || c.doc_id === null || c.kind === "codebook");
    if (hit) await refreshDocCodings();
  } else if (S.view === "review" && S.queue) {
    await S.queue.reload();
  } else if (S.view === "train" && S.trainRefresh) {
    await S.trainRefresh();
  } else if (S.memosRefresh) {
    await S.memosRefresh();
  }
}

// -- code picker (keyboard first) --------------------------------------------------------------------
let pickerState = null;
function showPicker(anchorRect, onPick, title) {
  const box = document.getElementById("picker");
  const input = document.getElementById("picker-input");
  pickerState = { onPick, items: [], active: 0 };
  box.hidden = false;
  const top = window.scrollY + (anchorRect ? anchorRect.bottom + 6 : 120);
  const left = window.scrollX + Math.min(anchorRect ? anchorRect.left : 200, window.innerWidth - 360);
  box.style.top = top + "px";
  box.style.left = Math.max(8, left) + "px";
  input.value = "";
  input.placeholder = (title ? title + ": " : "") + "type to filter codes, Enter to apply, Esc to cancel";
  renderPicker();
  input.focus();
}
function hidePicker() {
  document.getElementById("picker").hidden = true;
  pickerState = null;
  // give the keyboard back to the page: a hidden input that kept the focus would swallow the
  // next shortcuts (browsers move the focus off a hidden element only at some later point)
  const input = document.getElementById("picker-input");
  if (document.activeElement === input) input.blur();
}
function pickerMatches(q) {
  q = q.trim().toLowerCase();
  if (!q) return S.codes.slice();
  const scored = [];
  for (const c of S.codes) {
    const id = c.id.toLowerCase(), name = (c.name || "").toLowerCase();
    let s = -1;
    if (id.startsWith(q) || name.startsWith(q)) s = 0;
    else if (name.split(/[\s_/-]+/).some(w => w.startsWith(q)) || id.split("_").some(w => w.startsWith(q))) s = 1;
    else if (id.includes(q) || name.includes(q)) s = 2;
    if (s >= 0) scored.push([s, c]);
  }
  scored.sort((a, b) => a[0] - b[0]);
  return scored.map(x => x[1]);
}
function renderPicker() {
  if (!pickerState) return;
  const list = clear(document.getElementById("picker-list"));
  const items = pickerMatches(document.getElementById("picker-input").value);
  pickerState.items = items;
  pickerState.active = Math.min(pickerState.active, Math.max(0, items.length - 1));
  items.forEach((c, i) => {
    list.append(h("li", {
      class: i === pickerState.active ? "active" : "", role: "option", data: { code: c.id },
      onmousedown: ev => { ev.preventDefault(); choosePicker(i); },
    }, h("span", { class: "sw", style: { background: S.color.get(c.id) } }), c.name, h("span", { class: "id", text: c.id })));
  });
  if (!items.length) list.append(h("li", { class: "muted", text: "no code matches" }));
  const act = list.children[pickerState.active];
  if (act && act.scrollIntoView) act.scrollIntoView({ block: "nearest" });
}
function choosePicker(i) {
  if (!pickerState) return;
  const c = pickerState.items[i];
  const cb = pickerState.onPick;
  hidePicker();
  if (c && cb) cb(c.id);
}
document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("picker-input");
  input.addEventListener("input", () => { if (pickerState) { pickerState.active = 0; renderPicker(); } });
  input.addEventListener("keydown", ev => {
    if (!pickerState) return;
    if (ev.key === "ArrowDown") { pickerState.active = Math.min(pickerState.active + 1, pickerState.items.length - 1); renderPicker(); ev.preventDefault(); }
    else if (ev.key === "ArrowUp") { pickerState.active = Math.max(pickerState.active - 1, 0); renderPicker(); ev.preventDefault(); }
    else if (ev.key === "Enter") { choosePicker(pickerState.active); ev.preventDefault(); }
    else if (ev.key === "Escape") { hidePicker(); ev.preventDefault(); }
    ev.stopPropagation();
  });
  input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) hidePicker(); }, 150));
});

// -- tooltip ------------------------------------------------------------------------------------
function showTooltip(ev, codings) {
  const t = clear(document.getElementById("tooltip"));
  for (const c of codings) {
    t.append(h("div", { class: "t-item" },
      h("div", {}, h("strong", { text: codeName(c.code) }), " · ", c.coder, " · ", c.status,
        c.source !== "human" ? ` · ${c.source} ${fmt(c.score)}` : ""),
      c.evidence ? h("div", { class: "t-ev", text: c.evidence.length > 600 ? c.evidence.slice(0, 600) + "…" : c.evidence }) : null));
  }
  t.hidden = false;
  const x = Math.min(ev.clientX + 14, window.innerWidth - 480);
  const y = ev.clientY + 16 + 200 > window.innerHeight ? ev.clientY - 16 - t.offsetHeight : ev.clientY + 16;
  t.style.left = Math.max(4, x) + "px";
  t.style.top = Math.max(4, y) + "px";
}
function hideTooltip() { document.getElementById("tooltip").hidden = true; }

// -- documents list ---------------------------------------------------------------------------------
async function viewDocuments(main, args) {
  let offset = 0, query = "";
  const search = h("input", { type: "search", placeholder: "filter by document or case id ( / )", id: "doc-search" });
  const table = h("table", { class: "grid" });
  const pager = h("div", { class: "pager" });
  main.append(h("div", { class: "toolbar" }, h("h2", { text: "Documents" }), search), table, pager);
  async function load() {
    const r = await api("GET", "/api/documents" + qs({ offset, limit: PAGE, q: query }));
    clear(table).append(h("tr", {}, ["document", "case", "kind", "language"].map(x => h("th", { text: x })),
      ["characters", "turns", "accepted", "to review"].map(x => h("th", { class: "num", text: x }))));
    for (const d of r.items) {
      table.append(h("tr", {}, h("td", {}, docLink(d.doc_id)), h("td", { text: d.case_id }), h("td", { text: d.kind }),
        h("td", { text: d.language }), h("td", { class: "num", text: d.n_chars.toLocaleString() }),
        h("td", { class: "num", text: d.n_turns }), h("td", { class: "num", text: d.n_accepted }),
        h("td", { class: "num", text: d.n_proposed })));
    }
    pagerControls(pager, offset, PAGE, r.total, o => { offset = o; load(); });
  }
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { query = search.value; offset = 0; load(); }, 200); });
  await load();
}
function pagerControls(el, offset, limit, total, go) {
  clear(el);
  if (total <= limit && offset === 0) { el.append(h("span", { class: "muted small", text: `${total} in all` })); return; }
  el.append(
    h("button", { type: "button", disabled: offset <= 0, onclick: () => go(Math.max(0, offset - limit)), text: "← previous" }),
    h("span", { class: "muted small", text: `${Math.min(total, offset + 1)}–${Math.min(total, offset + limit)} of ${total}` }),
    h("button", { type: "button", disabled: offset + limit >= total, onclick: () => go(offset + limit), text: "next →" }));
}

// -- document view --------------------------------------------------------------------------------
function buildBlocks(doc) {
  const blocks = [];
  const text = doc.text;
  const turns = doc.turns;
  if (!turns.length) {
    const re = /\n\s*\n/g;
    let pos = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > pos) blocks.push({ s: pos, e: m.index, speaker: null });
      pos = m.index + m[0].length;
    }
    if (pos < text.length) blocks.push({ s: pos, e: text.length, speaker: null });
    return blocks;
  }
  let prev = 0;
  for (const t of turns) {
    if (t.start > prev) {
      const gap = text.slice(prev, t.start);
      const trimmed = gap.trim();
      const isLabel = trimmed.length < 80 && (/[:：]$/.test(trimmed) || trimmed.includes(t.speaker) || /^\*\*.*\*\*:?$/.test(trimmed));
      if (trimmed && !isLabel) blocks.push({ s: prev, e: t.start, speaker: null, gap: true });
    }
    blocks.push({ s: t.start, e: t.end, speaker: t.speaker, role: t.role });
    prev = Math.max(prev, t.end);
  }
  if (prev < text.length && text.slice(prev).trim()) blocks.push({ s: prev, e: text.length, speaker: null, gap: true });
  return blocks;
}

function visibleCodings(doc) {
  return doc.codings.filter(c => c.status !== "rejected" || doc.showRejected).filter(c => c.status !== "proposed" || doc.showProposed);
}

function assignCodings(doc) {
  // sweep: every coding goes to each block it overlaps
  const blocks = doc.blocks;
  for (const b of blocks) b.cods = [];
  const starts = blocks.map(b => b.s);
  for (const c of visibleCodings(doc)) {
    let lo = 0, hi = blocks.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (blocks[mid].e <= c.start) lo = mid + 1; else hi = mid; }
    for (let i = lo; i < blocks.length && starts[i] < c.end; i++) if (blocks[i].e > c.start) blocks[i].cods.push(c);
  }
}
function blockSignature(b) { return b.cods.map(c => `${c.id}:${c.start}:${c.end}:${c.code}:${c.status}`).join("|"); }

function renderBlockText(doc, b) {
  const txt = clear(b.txtEl);
  const text = doc.text;
  const cuts = new Set([b.s, b.e]);
  for (const c of b.cods) { cuts.add(Math.max(b.s, c.start)); cuts.add(Math.min(b.e, c.end)); }
  const pts = [...cuts].sort((x, y) => x - y);
  b.pieces = [];
  for (let i = 0; i + 1 < pts.length; i++) {
    const s = pts[i], e = pts[i + 1];
    if (e <= s) continue;
    const cover = b.cods.filter(c => c.start < e && c.end > s);
    const el = h("span", { class: "pc", data: { s, e } }, text.slice(s, e));
    if (cover.length) {
      const accepted = cover.filter(c => c.status === "accepted");
      const main = (accepted[0] || cover[0]);
      el.classList.add("cd");
      if (!accepted.length) el.classList.add("prop");
      el.style.setProperty("--c", S.color.get(main.code) || "#888");
    }
    txt.append(el);
    b.pieces.push({ s, e, el });
  }
  b.sig = blockSignature(b);
  b.stripesDone = false;
  clear(b.mgEl);
  if (b.visible) renderStripes(doc, b);
}

function renderStripes(doc, b) {
  const mg = clear(b.mgEl);
  b.stripesDone = true;
  if (!b.cods.length) return;
  const base = b.txtEl.offsetTop;
  for (const c of b.cods) {
    let top = Infinity, bottom = -Infinity;
    for (const p of b.pieces) {
      if (p.s >= c.end || p.e <= c.start) continue;
      top = Math.min(top, p.el.offsetTop);
      bottom = Math.max(bottom, p.el.offsetTop + p.el.offsetHeight);
    }
    if (top === Infinity) continue;
    const lane = doc.lanes.get(c.code) ?? 0;
    const cls = "stripe" + (c.status === "proposed" ? " prop" : c.status === "rejected" ? " rej" : "") + (doc.focus === c.id ? " focus" : "");
    mg.append(h("div", {
      class: cls, data: { id: c.id }, title: "",
      style: { top: (top - base) + "px", height: Math.max(4, bottom - top) + "px", left: (lane * 7) + "px", background: S.color.get(c.code) || "#888" },
    }));
  }
}

async function viewDocument(main, args) {
  const docId = args[0];
  const jump = args[1] !== undefined ? Number(args[1]) : null;
  const t0 = performance.now();
  const doc = await api("GET", "/api/documents/" + encodeURIComponent(docId));
  doc.showProposed = true;
  doc.showRejected = false;
  doc.focus = null;
  doc.blocks = buildBlocks(doc);
  S.doc = doc;
  const lanes = new Map();
  const codeOrder = S.codes.map(c => c.id);
  [...new Set(doc.codings.map(c => c.code))].sort((a, b) => codeOrder.indexOf(a) - codeOrder.indexOf(b)).forEach((c, i) => lanes.set(c, Math.min(i, 11)));
  doc.lanes = lanes;

  // header, legend and toggles
  const legend = h("div", { class: "legend", id: "legend" });
  const head = h("div", { class: "dochead" },
    h("h2", { text: doc.doc_id }),
    h("div", { class: "muted small" }, `case ${doc.case_id} · ${doc.kind} · ${doc.language} · ${doc.text.length.toLocaleString()} characters · ${doc.turns.length} turns`),
    legend,
    h("div", { class: "toolbar small" },
      h("label", {}, h("input", { type: "checkbox", checked: true, id: "show-proposed", onchange: ev => { doc.showProposed = ev.target.checked; rerenderAll(); } }), " machine suggestions"),
      h("label", {}, h("input", { type: "checkbox", id: "show-rejected", onchange: async ev => { doc.showRejected = ev.target.checked; await refreshDocCodings(); } }), " rejected"),
      h("span", { class: "muted", text: "Select text, then type a code and press Enter. Click a stripe or coded text to select a coding." })));
  const textEl = h("div", { class: "doctext", id: "doctext" });
  const side = h("div", { class: "side" });
  main.append(h("div", { class: "docview" }, h("div", {}, head, textEl), side));
  renderLegend();

  // blocks
  const frag = document.createDocumentFragment();
  const mw = Math.max(24, Math.min(12, lanes.size) * 7 + 6);
  for (const b of doc.blocks) {
    b.txtEl = h("div", { class: "txt" });
    b.mgEl = h("div", { class: "mg" });
    b.el = h("div", { class: "blk" + (b.gap ? " gap" : ""), data: { s: b.s, e: b.e }, style: { "--mw": mw + "px" } },
      h("div", { class: "spk" }, b.speaker || "", b.role && b.role !== "unknown" ? h("span", { class: "role", text: b.role }) : null),
      b.txtEl, b.mgEl);
    frag.append(b.el);
  }
  textEl.append(frag);
  assignCodings(doc);
  for (const b of doc.blocks) renderBlockText(doc, b);
  const io = new IntersectionObserver(entries => {
    for (const en of entries) {
      const b = en.target._blk;
      b.visible = en.isIntersecting;
      if (b.visible && !b.stripesDone) renderStripes(doc, b);
    }
  }, { rootMargin: "800px 0px" });
  for (const b of doc.blocks) { b.el._blk = b; io.observe(b.el); }
  doc.io = io;

  // side panels
  doc.sideCoding = h("div", { class: "card", id: "coding-card" }, h("h3", { text: "Coding" }), h("p", { class: "muted small", text: "No coding selected." }));
  doc.sideMemos = h("div", { class: "card", id: "doc-memos" });
  side.append(doc.sideCoding, doc.sideMemos);
  renderDocMemos();

  // events
  textEl.addEventListener("mouseup", ev => { setTimeout(() => maybePickForSelection(), 0); });
  textEl.addEventListener("mouseover", ev => {
    const st = ev.target.closest(".stripe");
    if (st) { const c = doc.codings.find(x => x.id === Number(st.dataset.id)); if (c) showTooltip(ev, [c]); return; }
    const pc = ev.target.closest(".pc.cd");
    if (pc) {
      const s = Number(pc.dataset.s), e = Number(pc.dataset.e);
      showTooltip(ev, visibleCodings(doc).filter(c => c.start < e && c.end > s));
      return;
    }
    hideTooltip();
  });
  textEl.addEventListener("mouseleave", hideTooltip);
  textEl.addEventListener("click", ev => {
    const st = ev.target.closest(".stripe");
    if (st) { focusCoding(Number(st.dataset.id)); return; }
    const sel = window.getSelection();
    if (sel && !sel.isCollapsed) return;
    const pc = ev.target.closest(".pc.cd");
    if (pc) {
      const s = Number(pc.dataset.s), e = Number(pc.dataset.e);
      const cover = visibleCodings(doc).filter(c => c.start < e && c.end > s).sort((a, b) => (a.end - a.start) - (b.end - b.start));
      if (cover.length) {
        const i = cover.findIndex(c => c.id === doc.focus);
        focusCoding(cover[(i + 1) % cover.length].id);
      }
    }
  });
  doc.loadMs = performance.now() - t0;
  document.body.dataset.docReady = doc.doc_id;
  document.body.dataset.docLoadMs = String(Math.round(doc.loadMs));
  if (jump !== null) scrollToOffset(jump);
}

function renderLegend() {
  const doc = S.doc;
  if (!doc) return;
  const legend = clear(document.getElementById("legend"));
  const counts = new Map();
  for (const c of visibleCodings(doc)) counts.set(c.code, (counts.get(c.code) || 0) + 1);
  for (const [code, n] of [...counts.entries()].sort((a, b) => (doc.lanes.get(a[0]) ?? 99) - (doc.lanes.get(b[0]) ?? 99))) {
    legend.append(h("a", { href: "#/retrieve/" + encodeURIComponent(code), title: "every passage of this code" }, swatch(code), `${codeName(code)} (${n})`));
  }
  if (!counts.size) legend.append(h("span", { class: "muted", text: "No codings in this document yet." }));
}

function rerenderAll() {
  const doc = S.doc;
  if (!doc) return;
  const old = new Map(doc.blocks.map(b => [b, b.sig]));
  assignCodings(doc);
  for (const b of doc.blocks) if (blockSignature(b) !== old.get(b) || b.forceRender) { b.forceRender = false; renderBlockText(doc, b); }
  renderLegend();
}

function rerenderCodingBlocks(ids) {
  const doc = S.doc;
  for (const b of doc.blocks) if (b.cods.some(c => ids.includes(c.id))) { b.forceRender = true; }
  rerenderAll();
}

async function refreshDocCodings() {
  const doc = S.doc;
  if (!doc) return;
  const fresh = await api("GET", "/api/documents/" + encodeURIComponent(doc.doc_id) + qs({ rejected: doc.showRejected ? 1 : "", codings_only: 1 }));
  if (S.doc !== doc) return;
  doc.codings = fresh.codings;
  doc.memos = fresh.memos;
  doc.coding_memos = fresh.coding_memos;
  for (const c of doc.codings) if (!doc.lanes.has(c.code)) doc.lanes.set(c.code, Math.min(doc.lanes.size, 11));
  rerenderAll();
  renderDocMemos();
  if (doc.focus !== null) {
    if (doc.codings.some(c => c.id === doc.focus)) renderCodingCard(); else { doc.focus = null; renderCodingCard(); }
  }
}

function scrollToOffset(off) {
  const doc = S.doc;
  const b = doc.blocks.find(x => x.s <= off && off < x.e) || doc.blocks.find(x => x.s >= off);
  if (b) b.el.scrollIntoView({ block: "center" });
}

// selection -> document offsets
function pieceOf(node) {
  const el = node.nodeType === 3 ? node.parentElement : node;
  return el && el.closest ? el.closest(".pc") : null;
}
function boundary(node, off, atEnd) {
  if (node.nodeType === 3) {
    const pc = pieceOf(node);
    if (pc) return Number(pc.dataset.s) + off;
  }
  const el = node.nodeType === 3 ? node.parentElement : node;
  if (!el) return null;
  if (el.classList && el.classList.contains("pc")) return off === 0 ? Number(el.dataset.s) : Number(el.dataset.e);
  const kids = el.childNodes;
  if (!atEnd && off < kids.length) {
    const k = kids[off];
    const p = k.nodeType === 1 ? (k.classList.contains("pc") ? k : k.querySelector(".pc")) : pieceOf(k);
    if (p) return Number(p.dataset.s);
  }
  if (atEnd && off > 0) {
    const k = kids[off - 1];
    const ps = k.nodeType === 1 ? (k.classList.contains("pc") ? [k] : k.querySelectorAll(".pc")) : [pieceOf(k)];
    const p = ps[ps.length - 1];
    if (p) return Number(p.dataset.e);
  }
  const blk = el.closest && el.closest(".blk");
  if (blk) return atEnd ? Number(blk.dataset.e) : Number(blk.dataset.s);
  return null;
}
function selectionOffsets() {
  const doc = S.doc;
  const sel = window.getSelection();
  if (!doc || !sel || sel.isCollapsed || !sel.rangeCount) return null;
  const r = sel.getRangeAt(0);
  const textEl = document.getElementById("doctext");
  if (!textEl || !textEl.contains(r.commonAncestorContainer)) return null;
  let s = boundary(r.startContainer, r.startOffset, false);
  let e = boundary(r.endContainer, r.endOffset, true);
  if (s === null || e === null) return null;
  const t = doc.text;
  while (s < e && /\s/.test(t[s])) s++;
  while (e > s && /\s/.test(t[e - 1])) e--;
  if (e <= s) return null;
  return { s, e, rect: r.getBoundingClientRect() };
}

function maybePickForSelection() {
  const off = selectionOffsets();
  if (!off || pickerState) return;
  showPicker(off.rect, code => codeSelection(off, code), "code the selection");
}

async function codeSelection(off, code) {
  const doc = S.doc;
  try {
    const t0 = performance.now();
    const r = await api("POST", "/api/codings", { doc_id: doc.doc_id, start: off.s, end: off.e, code });
    doc.codings.push(r.coding);
    doc.codings.sort((a, b) => a.start - b.start || b.end - a.end || a.id - b.id);
    if (!doc.lanes.has(code)) doc.lanes.set(code, Math.min(doc.lanes.size, 11));
    window.getSelection().removeAllRanges();
    rerenderAll();
    focusCoding(r.coding.id);
    toast(`Coded as ${codeName(code)} (${Math.round(performance.now() - t0)} ms)`);
  } catch (e) { toast(e.message, true); }
}

function focusCoding(id) {
  const doc = S.doc;
  const prev = doc.focus;
  doc.focus = id;
  const ids = [id];
  if (prev !== null) ids.push(prev);
  rerenderCodingBlocks(ids);
  renderCodingCard();
}

function renderCodingCard() {
  const doc = S.doc;
  if (doc.cardFor === doc.focus) keepTyping(doc.sideCoding, renderCodingCardNow);  // same coding: keep a memo being typed
  else renderCodingCardNow();
  doc.cardFor = doc.focus;
}
function renderCodingCardNow() {
  const doc = S.doc;
  const card = clear(doc.sideCoding);
  card.append(h("h3", { text: "Coding" }));
  const c = doc.codings.find(x => x.id === doc.focus);
  if (!c) { card.append(h("p", { class: "muted small", text: "No coding selected." })); return; }
  const code = S.code.get(c.code);
  card.append(
    h("div", {}, chip(c.code), " ", h("span", { class: "status-" + c.status, text: c.status })),
    h("div", { class: "small muted" }, `${c.coder} · ${c.source}` + (c.source !== "human" ? ` · score ${fmt(c.score)} (threshold ${fmt(c.threshold)})` : ""), ` · ${c.start}–${c.end}`),
    h("blockquote", { class: "small", text: doc.text.slice(c.start, c.end) }),
    c.evidence ? h("div", { class: "evidence", text: c.evidence }) : null,
    code && code.definition ? h("p", { class: "small" }, h("strong", { text: "Definition: " }), code.definition) : null,
    h("div", { class: "keys" },
      c.source !== "human" && c.status !== "accepted" ? h("button", { type: "button", onclick: () => reviewInDoc(c, "accept"), title: "a" }, "Accept ", h("kbd", { text: "a" })) : null,
      c.source !== "human" && c.status !== "rejected" ? h("button", { type: "button", onclick: () => reviewInDoc(c, "reject"), title: "r" }, "Reject ", h("kbd", { text: "r" })) : null,
      h("button", { type: "button", onclick: () => uncode(c), id: "uncode-button" }, "Uncode ", h("kbd", { text: "Del" })),
      h("button", { type: "button", onclick: () => moveToSelection(c), id: "move-button" }, "Set to selection ", h("kbd", { text: "m" }))),
    h("div", { class: "keys small" }, "Nudge start ",
      h("button", { type: "button", onclick: () => nudge(c, "start", -1) }, h("kbd", { text: "[" })),
      h("button", { type: "button", onclick: () => nudge(c, "start", 1) }, h("kbd", { text: "]" })), " end ",
      h("button", { type: "button", onclick: () => nudge(c, "end", -1) }, h("kbd", { text: "{" })),
      h("button", { type: "button", onclick: () => nudge(c, "end", 1) }, h("kbd", { text: "}" }))));
  const memos = (doc.coding_memos || []).filter(m => m.coding_id === c.id);
  card.append(memoBlock(memos, { coding_id: c.id }, "Memo on this coding"));
}

async function reviewInDoc(c, action, newCode) {
  try {
    await api("POST", `/api/codings/${c.id}/review`, newCode ? { action, new_code: newCode } : { action });
    await refreshDocCodings();
    toast(`${action === "accept" ? "Accepted" : action === "reject" ? "Rejected" : "Recoded"} ${codeName(c.code)}`);
  } catch (e) { toast(e.message, true); }
}
async function uncode(c) {
  try {
    await api("POST", `/api/codings/${c.id}/delete`, {});
    S.doc.focus = null;
    await refreshDocCodings();
    renderCodingCard();
    toast(c.source === "human" ? "Uncoded" : "Suggestion rejected");
  } catch (e) { toast(e.message, true); }
}
async function moveTo(c, s, e) {
  try {
    const r = await api("POST", `/api/codings/${c.id}/move`, { start: s, end: e });
    const doc = S.doc;
    const i = doc.codings.findIndex(x => x.id === c.id);
    if (i >= 0) doc.codings[i] = { ...doc.codings[i], start: r.coding.start, end: r.coding.end };
    rerenderCodingBlocks([c.id]);
    renderCodingCard();
    await refreshDocCodings();
  } catch (err) { toast(err.message, true); }
}
function moveToSelection(c) {
  const off = selectionOffsets();
  if (!off) { toast("Select the new passage first, then press m.", true); return; }
  window.getSelection().removeAllRanges();
  moveTo(c, off.s, off.e);
}
function nudge(c, side, dir) {
  const t = S.doc.text;
  const wordStep = (pos, d) => {
    let p = pos;
    if (d < 0) { p--; while (p > 0 && /\s/.test(t[p])) p--; while (p > 0 && !/\s/.test(t[p - 1])) p--; }
    else { while (p < t.length && !/\s/.test(t[p])) p++; while (p < t.length && /\s/.test(t[p])) p++; }
    return Math.max(0, Math.min(t.length, p));
  };
  const wordEnd = (pos, d) => {
    let p = pos;
    if (d > 0) { while (p < t.length && /\s/.test(t[p])) p++; while (p < t.length && !/\s/.test(t[p])) p++; }
    else { p--; while (p > 0 && !/\s/.test(t[p - 1])) p--; while (p > 0 && /\s/.test(t[p - 1])) p--; }
    return Math.max(0, Math.min(t.length, p));
  };
  let s = c.start, e = c.end;
  if (side === "start") s = wordStep(s, dir); else e = wordEnd(e, dir);
  if (e > s) moveTo(c, s, e);
}

function renderDocMemos() {
  const doc = S.doc;
  keepTyping(doc.sideMemos, () => {
    clear(doc.sideMemos).append(h("h3", { text: "Memos on this document" }), memoBlock(doc.memos || [], { doc_id: doc.doc_id }, null));
  });
}

// Re-render a panel without losing what is being typed in it (a refresh may come from another
// window at any moment): keep the values of its text fields, and the focus and caret.
function keepTyping(container, render) {
  const fields = [...container.querySelectorAll("textarea, input[type=text]")];
  const values = fields.map(f => f.value);
  const active = fields.indexOf(document.activeElement);
  const caret = active >= 0 ? [fields[active].selectionStart, fields[active].selectionEnd] : null;
  render();
  const now = [...container.querySelectorAll("textarea, input[type=text]")];
  if (now.length !== fields.length) return;
  now.forEach((f, i) => { if (values[i]) f.value = values[i]; });
  if (active >= 0) { now[active].focus(); now[active].setSelectionRange(caret[0], caret[1]); }
}

// memos: a list plus a form to add one, for any target
function memoBlock(memos, target, heading) {
  const box = h("div", { class: "memos" });
  if (heading) box.append(h("h3", { text: heading }));
  for (const m of memos) box.append(memoItem(m));
  const ta = h("textarea", { placeholder: "Write a memo… (Ctrl+Enter saves)", class: "memo-text" });
  const title = h("input", { type: "text", placeholder: "title (optional)", class: "memo-title" });
  const save = async () => {
    if (!ta.value.trim()) return;
    try {
      await api("POST", "/api/memos", { text: ta.value, title: title.value, ...target });
      ta.value = ""; title.value = "";
      toast("Memo saved");
      await refreshView([{ doc_id: target.doc_id || (S.doc && S.doc.doc_id) || null, kind: "memos" }]);
    } catch (e) { toast(e.message, true); }
  };
  ta.addEventListener("keydown", ev => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); save(); } ev.stopPropagation(); });
  title.addEventListener("keydown", ev => ev.stopPropagation());
  box.append(title, ta, h("button", { type: "button", class: "primary memo-save", onclick: save, text: "Save memo" }));
  return box;
}
function memoItem(m) {
  const body = h("div", { class: "body", text: m.text });
  const item = h("div", { class: "memo", data: { id: m.memo_id } },
    m.title ? h("strong", { text: m.title }) : null,
    h("div", { class: "small muted" }, `${m.author} · ${String(m.updated_at).slice(0, 16).replace("T", " ")}`),
    body);
  const edit = h("button", { type: "button", class: "small", text: "edit" });
  const del = h("button", { type: "button", class: "small", text: "delete" });
  edit.addEventListener("click", () => {
    const ta = h("textarea", {}, m.text);
    const ok = h("button", { type: "button", class: "primary small", text: "save" });
    ok.addEventListener("click", async () => {
      try { await api("POST", `/api/memos/${m.memo_id}/update`, { text: ta.value, title: m.title || "" }); toast("Memo updated"); await refreshView([{ doc_id: null, kind: "memos" }]); }
      catch (e) { toast(e.message, true); }
    });
    ta.addEventListener("keydown", ev => ev.stopPropagation());
    body.replaceWith(h("div", {}, ta, ok));
  });
  del.addEventListener("click", async () => {
    if (!confirm("Delete this memo?")) return;
    try { await api("POST", `/api/memos/${m.memo_id}/delete`, {}); toast("Memo deleted"); await refreshView([{ doc_id: null, kind: "memos" }]); }
    catch (e) { toast(e.message, true); }
  });
  item.append(h("div", { class: "keys" }, edit, del));
  return item;
}

// -- review queue -----------------------------------------------------------------------------------
async function viewReview(main, args) {
  const list = h("div", { id: "queue-list" });
  const side = h("div", { class: "side", id: "queue-side" });
  const codeSel = h("select", { id: "queue-code" }, h("option", { value: "", text: "every code" }), S.codes.map(c => h("option", { value: c.id, text: c.name })));
  const info = h("span", { class: "muted small" });
  main.append(h("div", { class: "toolbar" }, h("h2", { text: "Review machine suggestions" }), codeSel, info,
    h("span", { class: "small muted" }, "least certain first · ", h("kbd", { text: "a" }), " accept ", h("kbd", { text: "r" }), " reject ",
      h("kbd", { text: "c" }), " change code ", h("kbd", { text: "j" }), "/", h("kbd", { text: "k" }), " next/previous ", h("kbd", { text: "o" }), " open")),
    h("div", { class: "queue" }, list, side));
  const q = { items: [], focus: 0, total: 0 };
  S.queue = q;
  q.reload = async () => {
    const keep = q.items[q.focus] ? q.items[q.focus].id : null;
    const r = await api("GET", "/api/queue" + qs({ limit: 20, code: codeSel.value }));
    if (S.queue !== q) return;
    q.items = r.items; q.total = r.total;
    const i = q.items.findIndex(x => x.id === keep);
    q.focus = i >= 0 ? i : Math.min(q.focus, Math.max(0, q.items.length - 1));
    render();
  };
  function render() {
    clear(list);
    info.textContent = `${q.total} open suggestion${q.total === 1 ? "" : "s"}`;
    if (!q.items.length) { list.append(h("p", { class: "muted", text: "Nothing to review. Re-train and re-code to get new suggestions." })); clear(side); return; }
    q.items.forEach((it, i) => {
      list.append(h("div", { class: "sugg" + (i === q.focus ? " focus" : ""), data: { id: it.id }, onclick: () => { q.focus = i; render(); } },
        h("div", { class: "small muted" }, docLink(it.doc_id, it.start), it.speaker ? ` · ${it.speaker}` : "", ` · case ${it.case_id} · ${it.source} ${fmt(it.score)} vs ${fmt(it.threshold)}`),
        h("div", { class: "passage" }, h("span", { class: "ctx", text: it.before }), h("span", { class: "hl", text: it.text }), h("span", { class: "ctx", text: it.after })),
        h("div", {}, chip(it.code))));
    });
    const it = q.items[q.focus];
    const code = S.code.get(it.code);
    clear(side).append(h("div", { class: "card", id: "queue-detail" },
      h("h3", {}, chip(it.code)),
      code ? [h("p", { class: "small" }, h("strong", { text: "Definition: " }), code.definition || "–"),
        code.inclusion ? h("p", { class: "small" }, h("strong", { text: "Include: " }), code.inclusion) : null,
        code.exclusion ? h("p", { class: "small" }, h("strong", { text: "Exclude: " }), code.exclusion) : null] : null,
      h("h3", { text: "Evidence" }), h("div", { class: "evidence", text: it.evidence || "–" }),
      h("div", { class: "keys" },
        h("button", { type: "button", class: "primary", onclick: () => decide("accept") }, "Accept ", h("kbd", { text: "a" })),
        h("button", { type: "button", onclick: () => decide("reject") }, "Reject ", h("kbd", { text: "r" })),
        h("button", { type: "button", onclick: () => changeCode() }, "Change code ", h("kbd", { text: "c" })))));
    const el = list.children[q.focus];
    if (el && el.scrollIntoView) el.scrollIntoView({ block: "nearest" });
  }
  async function decide(action, newCode) {
    const it = q.items[q.focus];
    if (!it || S.busy) return;
    S.busy = true;
    try {
      await api("POST", `/api/codings/${it.id}/review`, newCode ? { action, new_code: newCode } : { action });
      q.items.splice(q.focus, 1);
      q.total -= 1;
      q.focus = Math.min(q.focus, Math.max(0, q.items.length - 1));
      render();
      toast(`${action === "accept" ? "Accepted" : action === "reject" ? "Rejected" : "Recoded as " + codeName(newCode)}: ${codeName(it.code)}`);
      if (q.items.length < 5) await q.reload();
    } catch (e) { toast(e.message, true); } finally { S.busy = false; }
  }
  function changeCode() {
    const el = list.children[q.focus];
    showPicker(el ? el.getBoundingClientRect() : null, code => decide("recode", code), "change the code to");
  }
  q.key = ev => {
    if (ev.key === "a") decide("accept");
    else if (ev.key === "r") decide("reject");
    else if (ev.key === "c") changeCode();
    else if (ev.key === "j" || ev.key === "ArrowDown") { q.focus = Math.min(q.focus + 1, q.items.length - 1); render(); }
    else if (ev.key === "k" || ev.key === "ArrowUp") { q.focus = Math.max(q.focus - 1, 0); render(); }
    else if (ev.key === "o" && q.items[q.focus]) location.hash = "#/doc/" + encodeURIComponent(q.items[q.focus].doc_id) + "/" + q.items[q.focus].start;
    else return false;
    return true;
  };
  codeSel.addEventListener("change", () => { q.focus = 0; q.reload(); });
  await q.reload();
}

// -- retrieval by code -------------------------------------------------------------------------------
async function viewRetrieve(main, args) {
  const attrs = await api("GET", "/api/attributes");
  const codeSel = h("select", { id: "retrieve-code" }, S.codes.map(c => h("option", { value: c.id, text: "  ".repeat(c.depth) + c.name })));
  if (args[0]) codeSel.value = args[0];
  const coderSel = h("select", { id: "retrieve-coder" }, h("option", { value: "", text: "every coder" }), S.project.coders.map(c => h("option", { value: c.coder, text: `${c.coder} (${c.kind})` })));
  const statusSel = h("select", { id: "retrieve-status" }, ["accepted", "proposed", "all"].map(s => h("option", { value: s, text: s === "all" ? "accepted + suggestions" : s })));
  const attrSel = h("select", { id: "retrieve-attr" }, h("option", { value: "", text: "any case" }), Object.keys(attrs).map(a => h("option", { value: a, text: a })));
  const valSel = h("select", { id: "retrieve-value", disabled: true });
  const summary = h("div", { class: "muted", id: "retrieve-summary" });
  const results = h("div", { id: "retrieve-results" });
  const pager = h("div", { class: "pager" });
  const memoCard = h("div", { class: "card", id: "code-memos" });
  main.append(h("div", { class: "toolbar" }, h("h2", { text: "Retrieve" }), codeSel, coderSel, statusSel, attrSel, valSel),
    h("div", { class: "docview" }, h("div", {}, summary, results, pager), h("div", { class: "side" }, memoCard)));
  let offset = 0;
  attrSel.addEventListener("change", () => {
    clear(valSel);
    valSel.disabled = !attrSel.value;
    for (const v of attrs[attrSel.value] || []) valSel.append(h("option", { value: String(v), text: String(v) }));
    offset = 0; load();
  });
  for (const el of [codeSel, coderSel, statusSel, valSel]) el.addEventListener("change", () => { offset = 0; load(); });
  async function loadMemos() {
    const code = codeSel.value;
    const r = await api("GET", "/api/memos" + qs({ target: "code", code }));
    const c = S.code.get(code);
    keepTyping(memoCard, () => clear(memoCard).append(h("h3", {}, chip(code)), c ? h("p", { class: "small", text: c.definition || "" }) : null,
      memoBlock(r.items, { code }, "Memos on this code")));
  }
  S.memosRefresh = loadMemos;
  async function load() {
    const code = codeSel.value;
    if (!code) return;
    if (location.hash !== "#/retrieve/" + encodeURIComponent(code)) history.replaceState(null, "", "#/retrieve/" + encodeURIComponent(code));
    const r = await api("GET", "/api/retrieve" + qs({ code, coder: coderSel.value, status: statusSel.value,
      attribute: attrSel.value, value: attrSel.value ? valSel.value : "", offset, limit: PAGE }));
    summary.textContent = `${codeName(code)}: ${r.total} passage${r.total === 1 ? "" : "s"} in ${r.n_cases} case${r.n_cases === 1 ? "" : "s"} (${r.n_documents} document${r.n_documents === 1 ? "" : "s"})`;
    clear(results);
    let group = null, current = null;
    for (const it of r.items) {
      if (it.case_id !== current) {
        current = it.case_id;
        group = h("div", { class: "casegroup" }, h("h3", {}, `${it.case_id} `, h("span", { class: "muted small", text: `${r.by_case[it.case_id] || 0} passage(s)` })));
        results.append(group);
      }
      group.append(h("div", { class: "passage-row" },
        h("div", { class: "small muted" }, docLink(it.doc_id, it.start), it.speaker ? ` · ${it.speaker}` : "", ` · ${it.coder} · ${it.status}`),
        h("span", { class: "ctx", text: it.before }), h("span", { class: "hl", text: it.text }), h("span", { class: "ctx", text: it.after })));
    }
    if (!r.items.length) results.append(h("p", { class: "muted", text: "No passage matches." }));
    pagerControls(pager, offset, PAGE, r.total, o => { offset = o; load(); });
  }
  codeSel.addEventListener("change", loadMemos);
  await Promise.all([load(), loadMemos()]);
}

// -- memos ------------------------------------------------------------------------------------------
async function viewMemos(main) {
  const targetSel = h("select", { id: "memo-target" }, ["", "project", "code", "document", "coding"].map(t => h("option", { value: t, text: t || "every memo" })));
  const list = h("div", { id: "memo-list" });
  const form = h("div", { class: "card" });
  main.append(h("div", { class: "toolbar" }, h("h2", { text: "Memos" }), targetSel), h("div", { class: "docview" }, list, h("div", { class: "side" }, form)));
  form.append(memoBlock([], {}, "New project memo"));
  async function load() {
    const r = await api("GET", "/api/memos" + qs({ target: targetSel.value, limit: 200 }));
    clear(list);
    if (!r.items.length) list.append(h("p", { class: "muted", text: "No memos yet." }));
    for (const m of r.items) {
      let where;
      if (m.target === "code") where = h("a", { href: "#/retrieve/" + encodeURIComponent(m.code) }, "code ", codeName(m.code));
      else if (m.target === "document") where = docLink(m.doc_id, undefined, "document " + m.doc_id);
      else if (m.target === "coding") where = h("span", {}, "coding ", codeName(m.coding_code), " in ", docLink(m.coding_doc_id, m.coding_start));
      else where = h("span", { text: "project" });
      list.append(h("div", { class: "card" }, h("div", { class: "small muted" }, "on ", where), memoItem(m)));
    }
  }
  targetSel.addEventListener("change", load);
  S.memosRefresh = load;
  await load();
}

// -- compare two coders -------------------------------------------------------------------------------
async function viewCompare(main) {
  const coders = S.project.coders;
  const aSel = h("select", { id: "compare-a" }, coders.map(c => h("option", { value: c.coder, text: `${c.coder} (${c.kind})` })));
  const bSel = h("select", { id: "compare-b" }, coders.map(c => h("option", { value: c.coder, text: `${c.coder} (${c.kind})` })));
  if (coders.length > 1) bSel.value = coders[1].coder;
  const unitSel = h("select", { id: "compare-unit" }, ["sentence", "paragraph", "turn"].map(u => h("option", { value: u, text: u })));
  const out = h("div", { id: "compare-out" });
  main.append(h("div", { class: "toolbar" }, h("h2", { text: "Compare two coders" }), aSel, " vs ", bSel, "unit", unitSel,
    h("button", { type: "button", class: "primary", id: "compare-run", onclick: () => { offset = 0; load(); }, text: "Compare" })), out);
  let offset = 0;
  async function load() {
    clear(out).append(h("p", { class: "muted", text: "Comparing…" }));
    let r;
    try { r = await api("GET", "/api/compare" + qs({ a: aSel.value, b: bSel.value, unit: unitSel.value, offset, limit: 25 })); }
    catch (e) { clear(out).append(h("p", { class: "error", text: e.message })); return; }
    clear(out);
    const p = r.pooled;
    out.append(h("p", {}, `${r.documents.length} document(s), ${p.n_units} (unit × code) decisions pooled: `,
      h("strong", { id: "compare-kappa", text: `κ ${fmt(p.kappa, 3)}` }), `, α ${fmt(p.alpha, 3)}, agreement ${fmt(100 * (p.pa ?? NaN), 1)}%`));
    const t = h("table", { class: "grid" }, h("tr", {}, h("th", { text: "code" }),
      ["units", "κ", "α", "agreement", "both", "only " + r.a, "only " + r.b].map(x => h("th", { class: "num", text: x }))));
    for (const row of r.table) {
      t.append(h("tr", {}, h("td", {}, chip(row.code)), h("td", { class: "num", text: row.n_units }), h("td", { class: "num", text: fmt(row.kappa, 3) }),
        h("td", { class: "num", text: fmt(row.alpha, 3) }), h("td", { class: "num", text: fmt(100 * (row.pa ?? NaN), 1) + "%" }),
        h("td", { class: "num", text: row.both }), h("td", { class: "num", text: row.only_a }), h("td", { class: "num", text: row.only_b })));
    }
    out.append(t, h("h3", { text: `Disagreements (${r.disagreements.total})` }));
    for (const d of r.disagreements.items) {
      out.append(h("div", { class: "passage-row" }, h("div", { class: "small muted" }, docLink(d.doc_id, d.start), d.speaker ? ` · ${d.speaker}` : ""),
        h("div", { text: d.text }), h("div", { class: "small" }, `only ${r.a}: `, d.only_a || "–", ` · only ${r.b}: `, d.only_b || "–")));
    }
    const pager = h("div", { class: "pager" });
    pagerControls(pager, offset, 25, r.disagreements.total, o => { offset = o; load(); });
    out.append(pager);
  }
  if (coders.length >= 2) await load();
  else out.append(h("p", { class: "muted", text: "Comparing needs two coders (a person and another person, or a person and the machine)." }));
}

// -- train, learning curve and export -----------------------------------------------------------------
function curveSvg(points) {
  const NS = "http://www.w3.org/2000/svg";
  const W = 640, H = 280, L = 46, R = 16, T = 16, B = 40;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "curve");
  svg.setAttribute("role", "img");
  const el = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v)); if (text !== undefined) e.textContent = text; svg.append(e); return e; };
  const xmax = Math.max(1, ...points.map(p => p.n_codings));
  const x = v => L + (W - L - R) * v / xmax, y = v => T + (H - T - B) * (1 - Math.max(-0.2, Math.min(1, v)) / 1);
  el("line", { x1: L, y1: y(0), x2: W - R, y2: y(0), stroke: "#bbb" });
  el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#bbb" });
  for (const v of [0, 0.2, 0.4, 0.6, 0.8, 1]) { el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#666" }, v.toFixed(1)); el("line", { x1: L, y1: y(v), x2: W - R, y2: y(v), stroke: "#eee" }); }
  el("text", { x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle", "font-size": 12, fill: "#444" }, "accepted codings trained on");
  for (const p of points) el("text", { x: x(p.n_codings), y: H - B + 16, "text-anchor": "middle", "font-size": 11, fill: "#666" }, String(p.n_codings));
  const series = [["kappa", "#2b6cb0", "κ"], ["f1", "#c05621", "F1"]];
  series.forEach(([key, color, label], si) => {
    const pts = points.filter(p => p[key] !== null && p[key] !== undefined);
    if (pts.length > 1) el("polyline", { points: pts.map(p => `${x(p.n_codings)},${y(p[key])}`).join(" "), fill: "none", stroke: color, "stroke-width": 2 });
    for (const p of pts) el("circle", { cx: x(p.n_codings), cy: y(p[key]), r: 4, fill: color, "data-series": key });
    el("text", { x: W - R - 60, y: T + 14 + 16 * si, "font-size": 12, fill: color }, label);
  });
  return svg;
}

async function viewTrain(main) {
  const status = h("div", { id: "train-status", class: "muted" });
  const bar = h("div", { class: "progress" }, h("div", {}));
  const btn = h("button", { type: "button", class: "primary", id: "retrain-button", title: "t" }, "Re-train and re-code ", h("kbd", { text: "t" }));
  const runsBox = h("div", { id: "runs" });
  const incl = h("input", { type: "checkbox", id: "export-suggestions" });
  const exportOut = h("div", { id: "export-out", class: "small" });
  const exportBtn = fmtName => h("button", { type: "button", id: "export-" + fmtName, onclick: () => doExport(fmtName) }, fmtName === "qdpx" ? "Export .qdpx (NVivo, ATLAS.ti, MAXQDA, QualCoder)" : "Export codings CSV");
  main.append(
    h("h2", { text: "Re-train and re-code" }),
    h("p", { class: "small muted", text: "Fits the coder on every accepted coding (yours and the suggestions you accepted), re-codes every document and replaces the open suggestions; accepted and rejected ones stay. The learning curve scores each fit on held-out documents it never saw (κ and F1 against your codings there)." }),
    h("div", { class: "toolbar" }, btn, bar, status), runsBox,
    h("h2", { text: "Export" }),
    h("div", { class: "toolbar" }, exportBtn("qdpx"), exportBtn("csv"), h("label", { class: "small" }, incl, " include open suggestions in .qdpx")),
    exportOut);
  async function doExport(fmtName) {
    try {
      const r = await api("POST", "/api/export", { format: fmtName, include_suggestions: incl.checked });
      clear(exportOut).append("Wrote ", h("a", { href: r.url + "?token=" + encodeURIComponent(TOKEN), id: "export-link", download: r.file, text: r.file }), ` in ${r.folder}`);
      toast("Exported " + r.file);
    } catch (e) { toast(e.message, true); }
  }
  btn.addEventListener("click", start);
  async function start() {
    try { await api("POST", "/api/retrain", {}); toast("Re-training started"); poll2(); }
    catch (e) { toast(e.message, true); }
  }
  S.trainStart = start;
  let timer = null;
  async function poll2() {
    clearTimeout(timer);
    const j = await api("GET", "/api/retrain");
    if (S.view !== "train") return;
    bar.firstChild.style.width = Math.round(100 * (j.fraction || 0)) + "%";
    btn.disabled = j.state === "running";
    status.textContent = j.state === "idle" ? "" : j.state === "running" ? j.message : j.state === "error" ? "Error: " + j.message : "Done: " + summaryText(j.summary);
    status.className = j.state === "error" ? "error" : "muted";
    status.dataset.state = j.state;
    if (j.state === "running") timer = setTimeout(poll2, 700);
    else await loadRuns();
  }
  function summaryText(s) {
    if (!s) return "";
    return `${s.fitted ? "fitted on " + s.n_training_codings + " accepted codings" : "not fitted (codebook only)"}; ${s.added} new suggestions, ${s.removed} replaced`;
  }
  async function loadRuns() {
    const r = await api("GET", "/api/runs");
    clear(runsBox);
    const runs = r.runs;
    if (!runs.length) { runsBox.append(h("p", { class: "muted", text: "No run yet." })); return; }
    const last = runs[runs.length - 1];
    const pts = (last.summary.curve && last.summary.curve.points) || [];
    runsBox.append(h("h3", { text: "Learning curve (latest run)" }));
    if (pts.length) {
      runsBox.append(curveSvg(pts));
      const t = h("table", { class: "grid", id: "curve-table" }, h("tr", {}, ["codings", "documents", "κ", "α", "F1", "precision", "recall"].map(x => h("th", { class: "num", text: x }))));
      for (const p of pts) t.append(h("tr", {}, [p.n_codings, p.n_documents, fmt(p.kappa, 3), fmt(p.alpha, 3), fmt(p.f1, 3), fmt(p.precision, 3), fmt(p.recall, 3)].map(v => h("td", { class: "num", text: v }))));
      runsBox.append(t, h("p", { class: "small muted", text: `held out: ${last.summary.curve.held_out.join(", ")} (${last.summary.curve.n_held_out_codings} codings)` }));
    } else {
      runsBox.append(h("p", { class: "muted", text: (last.summary.curve && last.summary.curve.note) || "No curve." }));
    }
    const t = h("table", { class: "grid" }, h("tr", {}, ["run", "when", "coder", "trained on", "new suggestions", "κ (last point)"].map(x => h("th", { text: x }))));
    for (const run of runs.slice().reverse()) {
      const cp = (run.summary.curve && run.summary.curve.points) || [];
      t.append(h("tr", {}, h("td", { text: run.run_id }), h("td", { text: String(run.at).slice(0, 19).replace("T", " ") }), h("td", { text: run.coder }),
        h("td", { text: run.summary.n_training_codings }), h("td", { text: run.summary.added }), h("td", { text: cp.length ? fmt(cp[cp.length - 1].kappa, 3) : "–" })));
    }
    runsBox.append(h("h3", { text: "Runs" }), t);
  }
  S.trainRefresh = loadRuns;
  await poll2();
}

// -- keyboard -----------------------------------------------------------------------------------------
let gPending = false;
document.addEventListener("keydown", ev => {
  if (pickerState) return;
  const tag = (ev.target.tagName || "").toLowerCase();
  if (tag === "input" || tag === "textarea" || tag === "select") { if (ev.key === "Escape") ev.target.blur(); return; }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === "?") { toggleHelp(); ev.preventDefault(); return; }
  if (ev.key === "Escape") { document.getElementById("help").hidden = true; hideTooltip(); return; }
  if (gPending) {
    gPending = false;
    const dest = { d: "documents", r: "review", c: "retrieve", m: "memos", k: "compare", t: "train" }[ev.key];
    if (dest) { location.hash = "#/" + dest; ev.preventDefault(); }
    return;
  }
  if (ev.key === "g") { gPending = true; setTimeout(() => { gPending = false; }, 1200); return; }
  if (S.view === "review" && S.queue && S.queue.key && S.queue.key(ev)) { ev.preventDefault(); return; }
  if (S.view === "documents" && ev.key === "/") { const s = document.getElementById("doc-search"); if (s) { s.focus(); ev.preventDefault(); } return; }
  if (S.view === "train" && ev.key === "t" && S.trainStart) { S.trainStart(); ev.preventDefault(); return; }
  if (S.view === "doc" && S.doc) {
    const doc = S.doc;
    const c = doc.codings.find(x => x.id === doc.focus);
    if (ev.key === "Enter" || ev.key === "c") {
      const off = selectionOffsets();
      if (off) { showPicker(off.rect, code => codeSelection(off, code), "code the selection"); ev.preventDefault(); }
      return;
    }
    if (!c) return;
    if (ev.key === "Delete" || ev.key === "Backspace") { uncode(c); ev.preventDefault(); }
    else if (ev.key === "a" && c.source !== "human") { reviewInDoc(c, "accept"); }
    else if (ev.key === "r" && c.source !== "human") { reviewInDoc(c, "reject"); }
    else if (ev.key === "m") { moveToSelection(c); }
    else if (ev.key === "[") nudge(c, "start", -1);
    else if (ev.key === "]") nudge(c, "start", 1);
    else if (ev.key === "{") nudge(c, "end", -1);
    else if (ev.key === "}") nudge(c, "end", 1);
  }
});

function toggleHelp() {
  const box = document.getElementById("help");
  if (!box.hidden) { box.hidden = true; return; }
  const rows = [["g d / r / c / m / k / t", "go to documents, review, retrieve, memos, compare, train"],
    ["select text, type, Enter", "code the selection (c or Enter reopens the code list)"],
    ["click a stripe", "select a coding (click coded text to cycle)"], ["Del", "uncode the selected coding"],
    ["m", "set the selected coding to the current selection"], ["[ ] { }", "move its start / end by a word"],
    ["a / r / c", "accept, reject, change code (review queue and selected suggestion)"], ["j / k", "next / previous suggestion"],
    ["o", "open the suggestion in its document"], ["t", "re-train and re-code (train view)"], ["?", "this help"]];
  clear(box).append(h("h3", { text: "Keyboard" }), h("dl", {}, rows.map(([k, v]) => [h("dt", {}, h("kbd", { text: k })), h("dd", { text: v })])));
  box.hidden = false;
}

// -- start ----------------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("help-button").addEventListener("click", toggleHelp);
  try { await loadProject(); }
  catch (e) { clear(document.getElementById("main")).append(h("p", { class: "error", text: e.message })); return; }
  window.addEventListener("hashchange", route);
  route();
  S.polling = setTimeout(poll, 1200);
});
