// One turn of the conversation: the question, the reply streaming in as plain text, then
// the final view built from the structured answer and citations (never from the Markdown).

import { el, markedText, viewUrl } from "./text.js";

export const NO_ANSWER = "The sources do not answer this question.";

function citationMeta(c) {
  const parts = [c.source];
  if (c.page) parts.push(`page ${c.page}`);
  if (c.section) parts.push(c.section);
  parts.push(`chars ${c.start}–${c.end}`);
  return parts;
}

function citationItem(c, turnId, answer) {
  const holdsAnswer = answer && answer.citation === c.n;
  const title = c.title || c.source;
  const link = el("a", {
    className: "cite-link",
    href: viewUrl(c, holdsAnswer ? answer : null),
    text: title,
  });
  const badges = el("span", { className: "badges" });
  if (holdsAnswer) badges.append(el("span", { className: "badge answer", text: "holds the answer" }));
  if (c.read === false) badges.append(el("span", { className: "badge", text: "not read" }));
  const meta = el("p", { className: "cite-meta" });
  for (const part of citationMeta(c)) meta.append(el("span", { text: part }));
  meta.append(el("span", { text: `score ${Number(c.score).toFixed(2)}` }));
  return el(
    "li",
    { className: "citation", id: `${turnId}-c${c.n}`, "data-n": c.n },
    el("p", { className: "cite-head" }, el("span", { className: "cite-n", text: `[${c.n}]` }), link, badges),
    meta,
    el("p", { className: "cite-text", text: c.text }),
  );
}

function citationList(citations, turnId, answer, heading) {
  if (!citations.length) return [];
  const id = `${turnId}-sources`;
  return [
    el("h3", { className: "sources-heading", id, text: heading }),
    el("ol", { className: "citations", "aria-labelledby": id }, ...citations.map((c) => citationItem(c, turnId, answer))),
  ];
}

function answerBlock(turn, turnId) {
  const { answer, citations } = turn;
  const cited = citations.find((c) => c.n === answer.citation);
  const head = el(
    "p",
    { className: "answer-text" },
    el("span", { className: "visually-hidden", text: "Answer: " }),
    el("strong", { text: answer.text }),
  );
  if (cited) {
    head.append(" ", el("a", { className: "cite-ref", href: `#${turnId}-c${cited.n}`, text: `[${cited.n}]`, "aria-label": `source ${cited.n}` }));
  }
  const block = el("div", { className: "answer-block" }, head);
  if (!cited) return block;
  const passage = el("blockquote", { className: "passage" });
  const offset = { start: answer.start - cited.start, end: answer.end - cited.start };
  passage.append(markedText(cited.text, null, offset));
  block.append(
    passage,
    el(
      "p",
      { className: "answer-meta" },
      el("span", { text: `From ${cited.title || cited.source}` }),
      cited.page ? el("span", { text: `page ${cited.page}` }) : null,
      cited.section ? el("span", { text: cited.section }) : null,
      confidenceNote(answer),
      el("span", { text: `score ${Number(answer.score).toFixed(2)}` }),
      el("a", { href: viewUrl(cited, answer), className: "open-doc", text: "Open in the document" }),
    ),
  );
  return block;
}

// The calibrated confidence in words, as the CLI and chat replies say it (older servers send none).
function confidenceNote(answer) {
  if (typeof answer.confidence !== "number") return null;
  const p = answer.confidence;
  const word = p >= 0.8 ? "high" : p >= 0.5 ? "medium" : "low";
  return el("span", { className: "confidence", text: `${word} confidence (${p.toFixed(2)})` });
}

// The final view of a reply (replacing what streamed).
export function renderReply(reply, turn, turnId) {
  reply.replaceChildren();
  reply.setAttribute("aria-busy", "false");
  if (turn.error) {
    reply.append(el("p", { className: "error", text: turn.error }));
    return;
  }
  if (turn.answer) {
    reply.append(answerBlock(turn, turnId), ...citationList(turn.citations, turnId, turn.answer, "Sources"));
  } else {
    reply.append(
      el("p", { className: "no-answer", text: NO_ANSWER }),
      ...citationList(turn.citations, turnId, null, "Closest passages"),
    );
  }
  const link = `/?q=${encodeURIComponent(turn.question)}`;
  reply.append(el("p", { className: "turn-tools" }, el("a", { href: link, text: "Link to this question" })));
}

// A new turn's element: the question, and a reply that shows text as it streams in.
export function turnElement(turn, turnId) {
  const reply = el("div", { className: "reply", "aria-busy": "true" });
  const li = el(
    "li",
    { className: "turn", id: turnId, "aria-labelledby": `${turnId}-q` },
    el("h2", { className: "question", id: `${turnId}-q`, text: turn.question }),
    reply,
  );
  const streaming = el("p", { className: "streaming", text: "Answering…" });
  reply.append(streaming);
  return {
    element: li,
    stream(text) {
      streaming.textContent = text;
    },
    finish(done) {
      renderReply(reply, done, turnId);
    },
  };
}

// What a screen reader hears once the reply is in: short, the full view is on the page.
export function announcement(turn) {
  if (turn.error) return `Error: ${turn.error}`;
  if (!turn.answer) return NO_ANSWER;
  const cited = turn.citations.find((c) => c.n === turn.answer.citation);
  return `Answer: ${turn.answer.text}${cited ? `, from ${cited.title || cited.source}` : ""}.`;
}
