// The chat page: plain DOM, no framework. URLs are relative so the page also
// works behind a reverse proxy that serves it under a path prefix.
import { attachFrom, createAttachments, fileChip } from "./files.js";
import { renderMarkdown } from "./markdown.js";
import { createSseParser } from "./sse.js";

const STORAGE_ID = "chatbot.conversationId";
const STORAGE_KEY = "chatbot.apiKey";

const $ = (id) => document.getElementById(id);
const ui = {
  messages: $("messages"),
  empty: $("empty"),
  composer: $("composer"),
  input: $("input"),
  send: $("send"),
  stop: $("stop"),
  newChat: $("new-chat"),
  notice: $("notice"),
  keyButton: $("key-button"),
  keyForm: $("key-form"),
  keyInput: $("key-input"),
  attach: $("attach"),
  fileInput: $("file-input"),
  pending: $("pending"),
};

let config = {
  cursor: "▌",
  authRequired: false,
  maxMessageChars: 10000,
  maxUploadBytes: 0,
  maxFileBytes: 0,
  maxFiles: 0,
  model: { configured: true },
};
let conversationId = localStorage.getItem(STORAGE_ID);
/** The running request, so Stop and New conversation can abort it. */
let running = null;
/** Files attached to the next message. */
const attachments = createAttachments(ui.pending, () => config, showNotice);

function authHeaders() {
  const key = localStorage.getItem(STORAGE_KEY);
  return key ? { authorization: `Bearer ${key}` } : {};
}

function setConversation(id) {
  conversationId = id;
  if (id) localStorage.setItem(STORAGE_ID, id);
  else localStorage.removeItem(STORAGE_ID);
}

function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = !text;
}

function askForKey() {
  ui.keyForm.hidden = false;
  ui.keyInput.focus();
}

// --- messages -------------------------------------------------------------

function nearBottom() {
  const m = ui.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}

function scrollDown(force) {
  if (force || nearBottom()) ui.messages.scrollTop = ui.messages.scrollHeight;
}

function addMessage(role) {
  ui.empty.hidden = true;
  const row = document.createElement("div");
  row.className = `msg ${role}`;
  row.dataset.role = role;
  const bubble = document.createElement("div");
  bubble.className = role === "user" ? "bubble" : "bubble markdown";
  row.append(bubble);
  ui.messages.append(row);
  return bubble;
}

function addUserMessage(text, files = []) {
  const bubble = addMessage("user");
  // User text is shown as typed: never parsed as HTML or Markdown.
  bubble.textContent = text;
  if (text === "") bubble.hidden = true;
  if (files.length > 0) {
    const list = document.createElement("div");
    list.className = "files";
    for (const f of files) list.append(fileChip(f));
    bubble.parentElement.append(list);
  }
  return bubble;
}

function renderAnswer(bubble, text, streaming) {
  renderMarkdown(bubble, text, streaming ? config.cursor : null);
}

function addNote(bubble, text, kind) {
  const note = document.createElement("div");
  note.className = `note ${kind}`;
  note.textContent = text;
  bubble.parentElement.append(note);
}

function clearMessages() {
  for (const el of [...ui.messages.children]) if (el !== ui.empty) el.remove();
  ui.empty.hidden = false;
}

// --- requests -------------------------------------------------------------

async function readError(res) {
  try {
    const body = await res.json();
    if (body?.error?.message) return body.error;
  } catch {}
  return { code: "http_error", message: `The server answered ${res.status}.` };
}

async function loadHistory() {
  if (!conversationId) return;
  let res;
  try {
    res = await fetch(`conversations/${encodeURIComponent(conversationId)}`, { headers: authHeaders() });
  } catch {
    showNotice("Could not reach the server.");
    return;
  }
  if (res.status === 404 || res.status === 400) return setConversation(null);
  if (res.status === 401) return askForKey();
  if (!res.ok) return showNotice((await readError(res)).message);
  const body = await res.json();
  clearMessages();
  for (const m of body.messages) {
    if (m.role === "user") addUserMessage(m.content, m.attachments ?? []);
    else {
      const bubble = addMessage("assistant");
      renderAnswer(bubble, m.content, false);
      if (m.incomplete) addNote(bubble, "This answer was interrupted.", "muted");
    }
  }
  scrollDown(true);
}

function setBusy(busy) {
  ui.send.hidden = busy;
  ui.stop.hidden = !busy;
  ui.composer.classList.toggle("busy", busy);
}

async function send(text) {
  if (running || (text.trim() === "" && attachments.count === 0)) return;
  showNotice("");
  const files = attachments.take();
  addUserMessage(text, files);
  const bubble = addMessage("assistant");
  bubble.parentElement.classList.add("streaming");
  renderAnswer(bubble, "", true);
  scrollDown(true);
  ui.input.value = "";
  autosize();

  const controller = new AbortController();
  running = controller;
  setBusy(true);
  let answer = "";
  /** Lines the server shows under the answer (not part of it). */
  const notices = [];
  /** Tools running now (event: tool), by name: how many calls; shown after the text while they run. */
  const tools = new Map();
  let finished = false;
  let failure = null;
  let painting = false;
  const paint = () => {
    if (painting) return;
    painting = true;
    // One render per frame: tokens can arrive far faster than the page repaints.
    requestAnimationFrame(() => {
      painting = false;
      if (running === controller) {
        const status = tools.size > 0 ? `\n\n🔧 ${[...tools.keys()].join(", ")}…` : "";
        renderAnswer(bubble, answer + status, true);
        scrollDown(false);
      }
    });
  };

  try {
    const res = await fetch("chat/stream", {
      method: "POST",
      headers: { "content-type": "application/json", ...authHeaders() },
      body: JSON.stringify({
        message: text,
        ...(conversationId ? { conversation_id: conversationId } : {}),
        ...(files.length > 0
          ? { attachments: files.map((f) => ({ name: f.name, content_type: f.type, data: f.data })) }
          : {}),
      }),
      signal: controller.signal,
    });
    if (!res.ok) {
      failure = await readError(res);
      if (res.status === 401) {
        failure = {
          code: "unauthorized",
          message: "This server needs an API key: enter it above and send again.",
        };
        askForKey();
      }
    } else {
      const id = res.headers.get("x-conversation-id");
      if (id) setConversation(id);
      const parser = createSseParser(({ event, data }) => {
        if (event === "token") {
          answer += data;
          paint();
        } else if (event === "notice") {
          notices.push(data.replace(/^_(.*)_$/s, "$1"));
        } else if (event === "tool") {
          const { name, status } = JSON.parse(data);
          const calls = (tools.get(name) ?? 0) + (status === "started" ? 1 : -1);
          if (calls > 0) tools.set(name, calls);
          else tools.delete(name);
          paint();
        } else if (event === "done") {
          finished = true;
        } else if (event === "error") {
          failure = JSON.parse(data).error;
        }
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      if (!finished && !failure)
        failure = { code: "network", message: "The connection closed before the answer finished." };
    }
  } catch (err) {
    failure =
      err?.name === "AbortError"
        ? { code: "aborted", message: "Stopped." }
        : { code: "network", message: "Could not reach the server." };
  } finally {
    running = null;
    setBusy(false);
  }

  bubble.parentElement.classList.remove("streaming");
  renderAnswer(bubble, answer, false);
  for (const text of notices) addNote(bubble, text, "muted");
  if (failure) {
    if (answer === "") bubble.parentElement.classList.add("empty-answer");
    addNote(bubble, failure.message, failure.code === "aborted" ? "muted" : "error");
    if (failure.code === "not_configured") showNotice(failure.message);
  }
  scrollDown(false);
  ui.input.focus();
}

// --- input ----------------------------------------------------------------

function autosize() {
  ui.input.style.height = "auto";
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 200)}px`;
}

ui.input.addEventListener("input", autosize);
ui.input.addEventListener("keydown", (e) => {
  // Enter also confirms an IME composition (Japanese, Chinese); that must not send.
  // Safari reports it with keyCode 229 instead of isComposing.
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    send(ui.input.value);
  }
});
ui.composer.addEventListener("submit", (e) => {
  e.preventDefault();
  send(ui.input.value);
});
ui.stop.addEventListener("click", () => running?.abort());
attachFrom(ui, attachments, () => config);
ui.newChat.addEventListener("click", () => {
  running?.abort();
  attachments.take();
  setConversation(null);
  clearMessages();
  showNotice(config.model.configured ? "" : config.model.message);
  ui.input.focus();
});
ui.keyButton.addEventListener("click", () => {
  ui.keyForm.hidden = !ui.keyForm.hidden;
  if (!ui.keyForm.hidden) ui.keyInput.focus();
});
ui.keyForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const key = ui.keyInput.value.trim();
  if (key) localStorage.setItem(STORAGE_KEY, key);
  else localStorage.removeItem(STORAGE_KEY);
  ui.keyInput.value = "";
  ui.keyForm.hidden = true;
  loadHistory();
});

async function start() {
  try {
    const res = await fetch("ui/config");
    if (res.ok) config = { ...config, ...(await res.json()) };
  } catch {}
  ui.input.maxLength = config.maxMessageChars;
  ui.attach.hidden = config.maxFiles === 0;
  if (!config.model.configured) {
    showNotice(config.model.message || "No model is configured on this server.");
  }
  if (config.authRequired) {
    ui.keyButton.hidden = false;
    if (!localStorage.getItem(STORAGE_KEY)) askForKey();
  }
  await loadHistory();
  ui.input.focus();
  document.body.dataset.ready = "true";
}

start();
