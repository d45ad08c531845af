// The JSON API from the browser: the bearer key (asked for once, kept in localStorage),
// errors in the API's one shape, and server-sent events.

const KEY_STORE = "qa.apiKey";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }

  static async from(response) {
    let message = `${response.status} ${response.statusText}`.trim();
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) message = body.error.message;
    } catch {
      // not JSON (a proxy's page): the status line says enough
    }
    return new ApiError(response.status, message);
  }
}

export function storedKey() {
  try {
    return localStorage.getItem(KEY_STORE) || "";
  } catch {
    return ""; // storage disabled: the key lives as long as the page
  }
}

let memoryKey = "";

function currentKey() {
  return storedKey() || memoryKey;
}

function saveKey(key) {
  memoryKey = key;
  try {
    if (key) localStorage.setItem(KEY_STORE, key);
    else localStorage.removeItem(KEY_STORE);
  } catch {
    // storage disabled: keep it in memory only
  }
  document.dispatchEvent(new CustomEvent("qa:key", { detail: { set: Boolean(key) } }));
}

// One prompt at a time: every request refused meanwhile waits for the same answer.
let pending = null;

function promptForKey(refused) {
  if (!pending) {
    pending = keyDialog(refused ? "refused" : "needed").finally(() => {
      pending = null;
    });
  }
  return pending;
}

// Open the key dialog; resolves with the key saved, rejects when cancelled.
export function keyDialog(reason = "manage") {
  const dialog = document.getElementById("key-dialog");
  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  const error = document.getElementById("key-error");
  const forget = document.getElementById("key-forget");
  const cancel = document.getElementById("key-cancel");
  error.textContent =
    reason === "refused" ? "The server refused the key you gave: check it and try again." : "";
  forget.hidden = !currentKey();
  input.value = "";
  return new Promise((resolve, reject) => {
    const done = (fn, value) => {
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      forget.removeEventListener("click", onForget);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      fn(value);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) {
        error.textContent = "Enter the key (QA_API_KEY on the server).";
        input.focus();
        return;
      }
      saveKey(key);
      done(resolve, key);
    };
    const onCancel = (event) => {
      if (event) event.preventDefault();
      done(reject, new ApiError(401, "This server needs an API key; none was given."));
    };
    const onForget = () => {
      saveKey("");
      done(reject, new ApiError(401, "The API key was forgotten."));
    };
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    forget.addEventListener("click", onForget);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    input.focus();
  });
}

// fetch() with the key; on 401, ask for the key (once for all requests) and try again.
export async function api(path, { method = "GET", json, body, headers, signal } = {}) {
  for (;;) {
    const sent = currentKey();
    const h = new Headers(headers || {});
    if (sent) h.set("Authorization", `Bearer ${sent}`);
    let payload = body;
    if (json !== undefined) {
      h.set("Content-Type", "application/json");
      payload = JSON.stringify(json);
    }
    const response = await fetch(path, { method, headers: h, body: payload, signal });
    if (response.status !== 401) return response;
    if (currentKey() !== sent) continue; // another request got a new key meanwhile
    await promptForKey(Boolean(sent));
  }
}

// fetch JSON, throwing ApiError with the server's message on any error status.
export async function apiJson(path, options) {
  const response = await api(path, options);
  if (!response.ok) throw await ApiError.from(response);
  return response.json();
}

// The `data:` payloads of a text/event-stream response, one event at a time.
export async function* serverEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const boundary = /\r?\n\r?\n/;
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    let match;
    while ((match = boundary.exec(buffer))) {
      const block = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) yield data;
    }
    if (done) {
      if (buffer.trim().startsWith("data:")) yield buffer.trim().slice(5).trim();
      return;
    }
  }
}

export function onKeyChange(fn) {
  document.addEventListener("qa:key", (event) => fn(event.detail.set));
}

export function hasKey() {
  return Boolean(currentKey());
}
