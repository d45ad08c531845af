// The ask page: the conversation (kept in sessionStorage, so a trip to a document and back
// keeps it), the question box, /?q= on load, and the documents panel.

import { ApiError, api, apiJson, hasKey, keyDialog, onKeyChange, serverEvents } from "./api.js";
import { announcement, renderReply, turnElement } from "./answer.js";
import { initDocuments } from "./documents.js";
import { el } from "./text.js";

const STORE = "qa.conversation";
const form = document.getElementById("ask-form");
const box = document.getElementById("question");
const button = document.getElementById("ask-button");
const askError = document.getElementById("ask-error");
const turnsList = document.getElementById("turns");
const hint = document.getElementById("empty-hint");
const announcer = document.getElementById("announcer");

let turns = [];
let busy = false;
let counter = 0;

function save() {
  try {
    sessionStorage.setItem(STORE, JSON.stringify(turns));
  } catch {
    // storage full or disabled: the conversation lives as long as the page
  }
}

function restore() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORE) || "[]");
    return Array.isArray(saved) ? saved.filter((t) => t && typeof t.question === "string") : [];
  } catch {
    return [];
  }
}

function nextId() {
  counter += 1;
  return `turn-${counter}`;
}

// Earlier turns as chat messages: the server reads follow-ups with them.
function messages(question) {
  const out = [];
  for (const t of turns) {
    if (t.error || !t.done) continue;
    out.push({ role: "user", content: t.question });
    out.push({ role: "assistant", content: t.content || "" });
  }
  out.push({ role: "user", content: question });
  return out;
}

function show(turn, id) {
  const view = turnElement(turn, id);
  turnsList.append(view.element);
  hint.hidden = true;
  return view;
}

function setBusy(value) {
  busy = value;
  button.disabled = value;
  button.textContent = value ? "Answering…" : "Ask";
  form.setAttribute("aria-busy", String(value));
}

// Stream the chat reply; the structured answer comes with the last chunk, or from /v1/ask
// on a server that does not send it.
async function answer(turn, view) {
  const response = await api("/v1/chat/completions", {
    method: "POST",
    json: { model: "qa-extractive", messages: messages(turn.question), stream: true },
  });
  if (!response.ok) throw await ApiError.from(response);
  let structured = false;
  for await (const data of serverEvents(response)) {
    if (data === "[DONE]") break;
    const chunk = JSON.parse(data);
    if (chunk.error) throw new ApiError(chunk.error.code || 500, chunk.error.message);
    for (const choice of chunk.choices || []) {
      if (choice.delta && choice.delta.content) {
        turn.content += choice.delta.content;
        view.stream(turn.content);
      }
    }
    if (Array.isArray(chunk.citations)) turn.citations = chunk.citations;
    if ("answer" in chunk) {
      turn.answer = chunk.answer;
      structured = true;
    }
  }
  if (!structured) {
    const result = await apiJson("/v1/ask", { method: "POST", json: { question: turn.question } });
    turn.answer = result.answer;
    turn.citations = result.citations;
  }
}

async function ask(question) {
  question = question.trim();
  if (!question || busy) return;
  askError.textContent = "";
  const turn = { question, content: "", answer: null, citations: [], error: null, done: false };
  const id = nextId();
  const view = show(turn, id);
  turns.push(turn);
  view.element.scrollIntoView({ block: "nearest" });
  announcer.textContent = "Answering…";
  setBusy(true);
  try {
    await answer(turn, view);
  } catch (e) {
    turn.error = e instanceof ApiError ? e.message : `The request failed: ${e.message}`;
  } finally {
    turn.done = true;
    view.finish(turn);
    if (turn.error) addRetry(view.element, turn);
    announcer.textContent = announcement(turn);
    setBusy(false);
    save();
    view.element.scrollIntoView({ block: "nearest" });
  }
}

function addRetry(element, turn) {
  const retry = el("button", {
    type: "button",
    text: "Ask again",
    onclick: () => {
      turns = turns.filter((t) => t !== turn);
      element.remove();
      save();
      ask(turn.question);
    },
  });
  element.querySelector(".reply").append(retry);
}

function clearTurns() {
  turns = [];
  save();
  turnsList.replaceChildren();
  hint.hidden = false;
}

function newConversation() {
  clearTurns();
  askError.textContent = "";
  announcer.textContent = "New conversation.";
  if (location.search) history.replaceState(null, "", "/");
  box.value = "";
  box.focus();
}

function submit(event) {
  event.preventDefault();
  const question = box.value.trim();
  if (busy) return; // the box keeps the question until the answer in progress is in
  if (!question) {
    askError.textContent = "Type a question first.";
    box.focus();
    return;
  }
  box.value = "";
  ask(question);
  box.focus();
}

function init() {
  for (const turn of restore()) {
    const id = nextId();
    const view = show(turn, id);
    turns.push(turn);
    renderReply(view.element.querySelector(".reply"), turn, id);
  }
  form.addEventListener("submit", submit);
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.getElementById("new-conversation").addEventListener("click", newConversation);
  const keyButton = document.getElementById("key-button");
  keyButton.hidden = !hasKey();
  onKeyChange((set) => {
    keyButton.hidden = !set;
  });
  keyButton.addEventListener("click", () => keyDialog("manage").catch(() => {}));
  initDocuments();
  const q = new URLSearchParams(location.search).get("q");
  const last = turns[turns.length - 1];
  if (q && q.trim() && !(last && last.question === q.trim())) {
    if (turns.length) clearTurns(); // a linked question starts afresh, not as a follow-up
    ask(q);
  } else if (turns.length) {
    turnsList.lastElementChild.scrollIntoView({ block: "nearest" });
  }
}

init();
