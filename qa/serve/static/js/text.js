// Offsets and marks. The server counts characters as Python does (code points); JavaScript
// strings count UTF-16 units, so every offset is converted before slicing.

const SURROGATES = /[\uD800-\uDFFF]/;

// The length in characters as the server counts them (code points, not UTF-16 units).
export function codePoints(text) {
  const pairs = text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g);
  return text.length - (pairs ? pairs.length : 0);
}

// UTF-16 indices into `text` of the code-point offsets `offsets` (clamped to the text).
export function toUnits(text, offsets) {
  if (!SURROGATES.test(text)) {
    return offsets.map((o) => Math.max(0, Math.min(text.length, o)));
  }
  const wanted = [...new Set(offsets.map((o) => Math.max(0, o)))].sort((a, b) => a - b);
  const found = new Map();
  let unit = 0;
  let point = 0;
  for (const target of wanted) {
    while (point < target && unit < text.length) {
      const c = text.charCodeAt(unit);
      const pair = c >= 0xd800 && c <= 0xdbff && unit + 1 < text.length;
      unit += pair ? 2 : 1;
      point += 1;
    }
    found.set(target, unit);
  }
  return offsets.map((o) => found.get(Math.max(0, o)));
}

function mark(text, className, id) {
  const el = document.createElement("mark");
  el.className = className;
  if (id) el.id = id;
  el.textContent = text;
  return el;
}

// A fragment of `text` with `outer` ({start, end}, code points into `text`, or null)
// marked, and `inner` (the answer) marked inside it.
export function markedText(text, outer, inner, ids = {}) {
  const frag = document.createDocumentFragment();
  const valid = (r) => r && Number.isFinite(r.start) && Number.isFinite(r.end) && r.end > r.start;
  const o = valid(outer) ? outer : null;
  let i = valid(inner) ? inner : null;
  if (o && i && (i.start < o.start || i.end > o.end)) {
    i = { start: Math.max(i.start, o.start), end: Math.min(i.end, o.end) };
    if (i.end <= i.start) i = null;
  }
  const points = [o ? o.start : 0, o ? o.end : 0, i ? i.start : 0, i ? i.end : 0];
  const [os, oe, is, ie] = toUnits(text, points);
  const withInner = (from, to, parent) => {
    if (!i || is >= to || ie <= from) {
      parent.append(text.slice(from, to));
      return;
    }
    parent.append(text.slice(from, is));
    parent.append(mark(text.slice(is, ie), "answer-span", ids.answer));
    parent.append(text.slice(ie, to));
  };
  if (!o) {
    withInner(0, text.length, frag);
    return frag;
  }
  frag.append(text.slice(0, os));
  const passage = mark("", "passage-mark", ids.passage);
  withInner(os, oe, passage);
  frag.append(passage);
  frag.append(text.slice(oe));
  return frag;
}

// The document view of a citation: /view/{doc}?start=&end=[&answer_start=&answer_end=].
export function viewUrl(citation, answer) {
  const params = new URLSearchParams({ start: citation.start, end: citation.end });
  if (answer) {
    params.set("answer_start", answer.start);
    params.set("answer_end", answer.end);
  }
  return `/view/${encodeURIComponent(citation.doc_id)}?${params}`;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}
