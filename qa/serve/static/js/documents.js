// The documents panel: list, add by file picker or drag and drop (multipart uploads, the
// summary shown with every skip), remove with a confirmation.

import { ApiError, api, apiJson } from "./api.js";
import { el, plural } from "./text.js";

const panel = document.getElementById("docs-panel");
const toggle = document.getElementById("docs-toggle");
const count = document.getElementById("docs-count");
const list = document.getElementById("docs-list");
const input = document.getElementById("file-input");
const status = document.getElementById("upload-status");
const error = document.getElementById("docs-error");
const overlay = document.getElementById("drop-overlay");

function describe(doc) {
  const parts = [doc.source];
  if (doc.format) parts.push(doc.format.toUpperCase());
  if (doc.pages) parts.push(plural(doc.pages, "page"));
  parts.push(plural(doc.chars, "character"), plural(doc.passages, "passage"));
  return parts;
}

function docItem(doc) {
  const name = doc.title || doc.source;
  const meta = el("p", { className: "doc-meta-line" });
  for (const part of describe(doc)) meta.append(el("span", { text: part }));
  return el(
    "li",
    { className: "doc", "data-id": doc.id },
    el("a", { className: "doc-link", href: `/view/${encodeURIComponent(doc.id)}`, text: name }),
    meta,
    el("button", {
      type: "button",
      className: "remove",
      text: "Remove",
      "aria-label": `Remove ${name}`,
      onclick: (event) => remove(doc, event.currentTarget),
    }),
  );
}

export async function loadDocuments() {
  try {
    const { data } = await apiJson("/v1/documents");
    data.sort((a, b) => a.source.localeCompare(b.source) || a.title.localeCompare(b.title));
    list.replaceChildren(...data.map(docItem));
    if (!data.length) list.append(el("li", { className: "hint", text: "No documents yet: add some above." }));
    count.textContent = ` (${data.length})`;
    error.textContent = "";
  } catch (e) {
    error.textContent = `The documents could not be listed: ${e.message}`;
  }
}

function refs(title, docs) {
  if (!docs || !docs.length) return null;
  return el("li", { text: `${title}: ${docs.map((d) => d.title || d.source).join(", ")}` });
}

function summary(report) {
  const counts = `Added ${report.added}, replaced ${report.replaced}, unchanged ${report.unchanged}, removed ${report.removed}`;
  const skipped = report.skipped_files || [];
  const box = el("div", { className: "summary" }, el("p", { text: `${counts}; skipped ${skipped.length}.` }));
  const docs = report.documents || {};
  const changed = [refs("Added", docs.added), refs("Replaced", docs.replaced), refs("Unchanged", docs.unchanged)];
  if (changed.some(Boolean)) box.append(el("ul", {}, ...changed));
  if (skipped.length) {
    box.append(
      el("p", { className: "skipped-heading", text: "Skipped:" }),
      el("ul", { className: "skipped" }, ...skipped.map((s) => el("li", {}, el("strong", { text: s.source }), ` — ${s.reason}: ${s.detail}`))),
    );
  }
  return box;
}

export async function upload(files) {
  files = [...files];
  if (!files.length) return;
  const form = new FormData();
  for (const f of files) form.append("file", f, f.name);
  const size = files.reduce((n, f) => n + f.size, 0);
  status.replaceChildren(el("p", { text: `Adding ${plural(files.length, "file")} (${Math.ceil(size / 1024)} KB)…` }));
  status.setAttribute("aria-busy", "true");
  try {
    const response = await api("/v1/documents", { method: "POST", body: form });
    if (!response.ok) throw await ApiError.from(response);
    status.replaceChildren(summary(await response.json()));
  } catch (e) {
    status.replaceChildren(el("p", { className: "error", text: `The files were not added: ${e.message}` }));
  } finally {
    status.setAttribute("aria-busy", "false");
    input.value = "";
    await loadDocuments();
  }
}

function confirmRemove(doc) {
  const dialog = document.getElementById("confirm-dialog");
  const form = document.getElementById("confirm-form");
  const cancel = document.getElementById("confirm-cancel");
  document.getElementById("confirm-message").textContent =
    `“${doc.title || doc.source}” (${doc.source}) and its ${plural(doc.passages, "passage")} will be removed from the index.`;
  return new Promise((resolve) => {
    const done = (answer) => (event) => {
      if (event) event.preventDefault();
      form.removeEventListener("submit", yes);
      cancel.removeEventListener("click", no);
      dialog.removeEventListener("cancel", no);
      dialog.close();
      resolve(answer);
    };
    const yes = done(true);
    const no = done(false);
    form.addEventListener("submit", yes);
    cancel.addEventListener("click", no);
    dialog.addEventListener("cancel", no);
    dialog.showModal();
    cancel.focus(); // the safe choice first
  });
}

async function remove(doc, button) {
  if (!(await confirmRemove(doc))) {
    button.focus();
    return;
  }
  const item = button.closest("li");
  const next = item.nextElementSibling || item.previousElementSibling;
  const nextId = next && next.dataset.id;
  try {
    await apiJson(`/v1/documents/${encodeURIComponent(doc.id)}`, { method: "DELETE" });
    status.replaceChildren(el("p", { text: `Removed “${doc.title || doc.source}”.` }));
  } catch (e) {
    status.replaceChildren(el("p", { className: "error", text: `Not removed: ${e.message}` }));
  }
  await loadDocuments();
  const focus = nextId && list.querySelector(`li[data-id="${CSS.escape(nextId)}"] .remove`);
  (focus || document.getElementById("docs-heading")).focus();
}

function setOpen(open) {
  panel.hidden = !open;
  toggle.setAttribute("aria-expanded", String(open));
}

// Files dropped anywhere on the page are added (and never opened by the browser instead).
function initDrop() {
  let depth = 0;
  const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    depth += 1;
    overlay.hidden = false;
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  document.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    setOpen(true);
    upload(event.dataTransfer.files);
  });
}

export function initDocuments() {
  setOpen(window.matchMedia("(min-width: 60rem)").matches);
  toggle.addEventListener("click", () => {
    const open = panel.hidden;
    setOpen(open);
    if (open) document.getElementById("docs-heading").focus();
  });
  input.addEventListener("change", () => upload(input.files));
  initDrop();
  loadDocuments();
}
