// The document view: /view/{doc_id}?start=&end=[&answer_start=&answer_end=] shows the
// document's text with the passage marked and scrolled into view, the answer marked in it.

import { apiJson } from "./api.js";
import { codePoints, el, markedText, plural } from "./text.js";

const statusLine = document.getElementById("doc-status");
const head = document.getElementById("doc-head");
const textBox = document.getElementById("doc-text");

function range(params, from, to) {
  const start = Number.parseInt(params.get(from), 10);
  const end = Number.parseInt(params.get(to), 10);
  return Number.isFinite(start) && Number.isFinite(end) && end > start ? { start, end } : null;
}

function metaList(doc) {
  const rows = [
    ["Source", doc.source],
    ["Format", doc.format ? doc.format.toUpperCase() : ""],
    ["Pages", doc.pages ? String(doc.pages) : ""],
    ["Size", `${plural(codePoints(doc.text), "character")}, ${plural(doc.passages.length, "passage")}`],
    ["Id", doc.id],
  ];
  const dl = document.getElementById("doc-meta");
  for (const [name, value] of rows) {
    if (value) dl.append(el("div", {}, el("dt", { text: name }), el("dd", { text: value })));
  }
}

function describePassage(doc, passage, answer) {
  const known = doc.passages.find((p) => p.start === passage.start && p.end === passage.end);
  const where = [];
  if (known && known.page) where.push(`page ${known.page}`);
  if (known && known.section) where.push(known.section);
  where.push(`characters ${passage.start}–${passage.end}`);
  const lead = answer ? "The cited passage, with the answer marked" : "The cited passage";
  return `${lead}: ${where.join(" · ")}.`;
}

function show(doc, params) {
  document.title = `${doc.title || doc.source} — qa`;
  document.getElementById("doc-title").textContent = doc.title || doc.source;
  metaList(doc);
  const length = codePoints(doc.text);
  let passage = range(params, "start", "end");
  const answer = range(params, "answer_start", "answer_end");
  if (passage && passage.end > length) passage = null;
  textBox.append(markedText(doc.text, passage, answer, { passage: "passage", answer: "answer" }));
  head.hidden = false;
  statusLine.textContent = "";
  statusLine.hidden = true;
  const target = document.getElementById("passage") || document.getElementById("answer");
  if (!target) return;
  const info = document.getElementById("passage-info");
  info.hidden = false;
  document.getElementById("passage-text").textContent = describePassage(doc, passage || answer, answer);
  target.tabIndex = -1;
  const reveal = () => {
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  };
  document.getElementById("jump").addEventListener("click", reveal);
  requestAnimationFrame(reveal);
}

async function init() {
  const docId = decodeURIComponent(location.pathname.replace(/^\/view\//, ""));
  if (history.length > 1 && document.referrer.startsWith(location.origin + "/")) {
    // came from the conversation: back keeps its place (the link also works when opened anew)
    document.getElementById("back").addEventListener("click", (event) => {
      event.preventDefault();
      history.back();
    });
  }
  try {
    show(await apiJson(`/v1/documents/${encodeURIComponent(docId)}`), new URLSearchParams(location.search));
  } catch (e) {
    statusLine.textContent =
      e.status === 404 ? `There is no document “${docId}” in the index (it may have been removed).` : `The document could not be loaded: ${e.message}`;
    statusLine.classList.add("error");
  }
}

init();
