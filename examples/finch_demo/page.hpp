#ifndef FINCH_DEMO_PAGE_HPP
#define FINCH_DEMO_PAGE_HPP

// The browser page of finch_demo: one HTML document with no external styles
// or fonts, whose only script besides its own is finch's JavaScript client,
// which the same server serves at /finch.js (so it works offline and behind
// any firewall). The client connects to ws://<host>/ws (wss:// when the
// page came over https://: the scheme and host are the page's own, from
// location) and reconnects by itself; the page sends {"path": ...} on each
// button, and logs every envelope it sends and receives, and the
// connection's changes of state.
//
// Everything the server sends is shown with textContent, never innerHTML:
// another client chooses what "toclient" delivers here.

inline constexpr const char* demoPage = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>finch demo</title>
<link rel="icon" href="data:,">
<style>
  :root {
    --bg: #f5f6f8; --panel: #fff; --text: #1d2330; --muted: #6b7280; --line: #e2e5ea;
    --accent: #2563eb; --ok: #15803d; --warn: #b45309; --bad: #b91c1c;
  }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: center; gap: 12px; padding: 14px 24px; background: var(--panel); border-bottom: 1px solid var(--line); }
  h1 { font-size: 20px; margin: 0; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 10px; }
  .state { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px; font-size: 13px; background: #eef0f3; }
  .state::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
  .state.open { background: #e7f6ec; color: var(--ok); }
  .state.open::before { background: var(--ok); }
  .state.connecting { background: #fdf3e1; color: var(--warn); }
  .state.connecting::before { background: var(--warn); }
  .state.reconnecting { background: #fdf3e1; color: var(--warn); }
  .state.reconnecting::before { background: var(--warn); }
  .state.closed { background: #fbe9e9; color: var(--bad); }
  .state.closed::before { background: var(--bad); }
  .me { color: var(--muted); font-size: 13px; font-family: ui-monospace, monospace; }
  main { display: grid; grid-template-columns: 320px 1fr; gap: 20px; padding: 20px 24px; align-items: start; }
  @media (max-width: 760px) { main { grid-template-columns: 1fr; } }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px; }
  .buttons { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; margin-bottom: 18px; }
  button { font: inherit; padding: 7px 12px; border-radius: 7px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
  button:hover:not(:disabled) { filter: brightness(1.1); }
  button:disabled { opacity: .45; cursor: not-allowed; }
  button.secondary { background: #fff; color: var(--accent); }
  button.danger { border-color: var(--bad); background: #fff; color: var(--bad); }
  button.small { padding: 3px 10px; font-size: 13px; }
  .wide { grid-column: 1 / -1; }
  label { display: block; font-size: 13px; color: var(--muted); margin: 8px 0 3px; }
  input { width: 100%; font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; }
  input#to-id { font-family: ui-monospace, monospace; font-size: 13px; }
  form button { margin-top: 10px; width: 100%; }
  .hint { font-size: 12px; color: var(--muted); margin: 10px 0 0; }
  .log-head { display: flex; justify-content: space-between; align-items: center; margin-bottom: 10px; }
  .log-head h2 { margin: 0; }
  #log { list-style: none; margin: 0; padding: 0; max-height: calc(100vh - 170px); overflow-y: auto; }
  #log li { border-top: 1px solid var(--line); padding: 8px 2px; }
  #log li:first-child { border-top: 0; }
  .meta { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; font-size: 13px; }
  .dir { font-weight: 600; width: 64px; }
  .in .dir { color: var(--accent); }
  .out .dir { color: var(--muted); }
  .note .dir { color: var(--warn); }
  .note-text { color: var(--muted); }
  .path { font-family: ui-monospace, monospace; background: #eef0f3; padding: 1px 7px; border-radius: 5px; }
  .status { font-family: ui-monospace, monospace; padding: 1px 7px; border-radius: 5px; color: #fff; background: var(--ok); }
  .status.s4 { background: var(--warn); }
  .status.s5 { background: var(--bad); }
  .time { margin-left: auto; color: var(--muted); font-size: 12px; }
  pre { margin: 5px 0 0 72px; white-space: pre-wrap; word-break: break-word; font: 13px/1.4 ui-monospace, monospace; }
  .ids { margin: 6px 0 0 72px; display: flex; flex-wrap: wrap; gap: 6px; }
  .ids button { padding: 2px 8px; font: 12px ui-monospace, monospace; background: #fff; color: var(--accent); }
  .empty { color: var(--muted); font-size: 14px; }
</style>
</head>
<body>
<header>
  <h1>finch demo</h1>
  <span id="state" class="state connecting">connecting</span>
  <span id="me" class="me"></span>
  <button id="reconnect" class="small" hidden>reconnect</button>
</header>
<main>
  <section>
    <h2>Routes</h2>
    <div class="buttons">
      <button id="route-test" data-path="test" title="Replies the headers of this page's WebSocket upgrade request">test</button>
      <button id="route-time" data-path="time" title="Replies the server's current time (UTC)">time</button>
      <button id="route-clients" data-path="clients" title="Replies the ids of every connected client">clients</button>
      <button id="route-close" data-path="close" class="danger" title="Asks the server to close this connection">close</button>
      <button id="route-nowhere" data-path="nowhere" class="secondary wide" title="A path with no route: finch answers with an error envelope">send unknown path</button>
    </div>
    <h2>To client</h2>
    <form id="to-form">
      <label for="to-id">client id</label>
      <input id="to-id" autocomplete="off" spellcheck="false" placeholder="click an id in a clients reply">
      <label for="to-message">message</label>
      <input id="to-message" autocomplete="off" value="Hello!">
      <button id="to-send" type="submit">send to client</button>
    </form>
    <p class="hint">Open this page in a second tab to have someone to talk to.</p>
  </section>
  <section>
    <div class="log-head">
      <h2>Messages</h2>
      <button id="clear" class="secondary small">clear</button>
    </div>
    <ul id="log"><li class="empty">Nothing yet.</li></ul>
  </section>
</main>
<script type="module">
// finch's JavaScript client, served by this example at /finch.js. It
// reconnects by itself (with backoff), answers the heartbeat, and calls the
// handler registered with on(path) for each envelope the server sends.
import { connect } from "/finch.js";

const $ = (id) => document.getElementById(id);
const log = $("log");
const stateBadge = $("state");
const meLabel = $("me");
const reconnectButton = $("reconnect");
const routeButtons = document.querySelectorAll("button[data-path]");
const form = $("to-form");
const toId = $("to-id");
const toMessage = $("to-message");
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
let client = null;
let myId = "";
let attempt = 0;   // the reconnection attempt under way, 0 once open

// The badge: connecting, open, reconnecting (attempt n) or closed.
function showState() {
  let name = client ? client.state : "closed";
  let text = name;
  if ((name === "reconnecting" || name === "connecting") && attempt > 0) {
    name = "reconnecting";
    text = "reconnecting (attempt " + attempt + ")";
  }
  stateBadge.className = "state " + name;
  stateBadge.textContent = text;
  const open = name === "open";
  routeButtons.forEach(b => { b.disabled = !open; });
  $("to-send").disabled = !open;
  reconnectButton.hidden = name !== "closed";
}

// One log line: direction, path, status, local time, then the data.
function addEntry(kind, path, status, data) {
  const empty = log.querySelector(".empty");
  if (empty) empty.remove();
  const item = document.createElement("li");
  item.className = kind;
  if (path !== undefined) item.dataset.path = path;
  if (status !== undefined) item.dataset.status = status;
  const meta = document.createElement("div");
  meta.className = "meta";
  const dir = document.createElement("span");
  dir.className = "dir";
  dir.textContent = { in: "\u2190 recv", out: "\u2192 sent", note: "\u2022 info" }[kind];
  meta.append(dir);
  if (path !== undefined) {
    const p = document.createElement("span");
    p.className = "path";
    p.textContent = path === "" ? '""' : path;
    meta.append(p);
  }
  if (status !== undefined) {
    const s = document.createElement("span");
    s.className = "status s" + String(status)[0];
    s.textContent = status;
    meta.append(s);
  }
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = new Date().toLocaleTimeString();
  meta.append(time);
  item.append(meta);
  if (kind === "note") {
    // A line of our own, not an envelope: no path, no status, no JSON.
    const text = document.createElement("span");
    text.className = "note-text";
    text.textContent = data;
    meta.insertBefore(text, time);
  } else if (data !== undefined) {
    const pre = document.createElement("pre");
    pre.textContent = typeof data === "string" ? data : JSON.stringify(data, null, 2);
    item.append(pre);
  }
  log.append(item);
  log.scrollTop = log.scrollHeight;
  return item;
}

// Client ids as buttons that fill in the "to client" form.
function addIdButtons(item, ids) {
  const row = document.createElement("div");
  row.className = "ids";
  ids.forEach(id => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = id === myId ? id + " (you)" : id;
    b.title = "Use this id in the \u201cto client\u201d form";
    b.addEventListener("click", () => { toId.value = id; toMessage.focus(); });
    row.append(b);
  });
  item.append(row);
}

function logEnvelope(data, envelope) {
  return addEntry("in", envelope.path, envelope.status, envelope.data);
}

function send(path, data) {
  if (client && client.send(path, data)) addEntry("out", path, undefined, data);
}

function start() {
  attempt = 0;
  client = connect(url);
  client.addEventListener("statechange", showState);
  client.addEventListener("open", () => {
    attempt = 0;
    showState();
    addEntry("note", undefined, undefined, "connected to " + url);
  });
  client.addEventListener("close", (event) => {
    meLabel.textContent = "";
    myId = "";
    addEntry("note", undefined, undefined,
             "connection closed (code " + event.code + (event.reason ? ", " + event.reason : "") + ")" +
             (event.willReconnect ? ", reconnecting" : ""));
  });
  client.addEventListener("reconnecting", (event) => {
    attempt = event.attempt;
    showState();
    addEntry("note", undefined, undefined,
             "reconnecting in " + Math.round(event.delay) + " ms (attempt " + event.attempt + ")");
  });
  // Every path the demo's server sends on (see its routes).
  client.on("connected", (data, envelope) => {
    if (data && data.id) {
      myId = data.id;
      meLabel.textContent = "you are " + myId;
    }
    logEnvelope(data, envelope);
  });
  client.on("clients", (data, envelope) => {
    const item = logEnvelope(data, envelope);
    if (Array.isArray(data)) addIdButtons(item, data);
  });
  client.on("output", logEnvelope).on("test", logEnvelope).on("error", logEnvelope);
  showState();
}

routeButtons.forEach(b => b.addEventListener("click", () => send(b.dataset.path)));
form.addEventListener("submit", event => {
  event.preventDefault();
  send("toclient", { id: toId.value.trim(), message: toMessage.value });
});
reconnectButton.addEventListener("click", start);
$("clear").addEventListener("click", () => {
  log.replaceChildren();
  const empty = document.createElement("li");
  empty.className = "empty";
  empty.textContent = "Nothing yet.";
  log.append(empty);
});
start();
</script>
</body>
</html>
)page";

#endif
