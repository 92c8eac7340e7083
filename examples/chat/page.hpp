#ifndef FINCH_CHAT_PAGE_HPP
#define FINCH_CHAT_PAGE_HPP

// The browser page of the chat example: one HTML document with no external
// styles or fonts, whose only script besides its own is finch's JavaScript
// client, which the same server serves at /finch.js. It asks for a nickname,
// checks it with GET /check (a browser cannot read the status of a refused
// WebSocket upgrade), connects to ws://<host>/ws?nick=<nickname> (wss://
// when the page came over https://: the scheme and host are the page's own,
// from location), joins "lobby", and then lets its user join and leave
// rooms and talk in them.
//
// The client reconnects by itself; the server forgets a connection's rooms,
// so on every reconnection the page joins again the rooms its user had
// joined. Requests go through client.request(), whose promise settles with
// the answer (that is how a message shows "delivered to N"); the server's
// "ping" requests are answered by client.onRequest. Everything other people
// wrote is shown with textContent, never innerHTML.

inline constexpr const char* chatPage = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>finch chat</title>
<link rel="icon" href="data:,">
<style>
  :root {
    --bg: #f5f6f8; --panel: #fff; --text: #1d2330; --muted: #6b7280; --line: #e2e5ea;
    --accent: #2563eb; --mine: #e8efff; --ok: #15803d; --warn: #b45309; --bad: #b91c1c;
  }
  * { box-sizing: border-box; }
  html, body { height: 100%; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); display: flex; flex-direction: column; }
  header { display: flex; align-items: center; gap: 12px; padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line); }
  h1 { font-size: 19px; margin: 0; }
  h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 8px; }
  .state { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px; font-size: 13px; background: #eef0f3; }
  .state::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
  .state.open { background: #e7f6ec; color: var(--ok); }
  .state.open::before { background: var(--ok); }
  .state.connecting, .state.reconnecting { background: #fdf3e1; color: var(--warn); }
  .state.connecting::before, .state.reconnecting::before { background: var(--warn); }
  .state.closed { background: #fbe9e9; color: var(--bad); }
  .state.closed::before { background: var(--bad); }
  #who { margin-left: auto; color: var(--muted); font-size: 14px; }
  button { font: inherit; padding: 6px 12px; border-radius: 7px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
  button:hover:not(:disabled) { filter: brightness(1.1); }
  button:disabled { opacity: .45; cursor: not-allowed; }
  button.secondary { background: #fff; color: var(--accent); }
  input { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; min-width: 0; }
  .problem { color: var(--bad); font-size: 14px; min-height: 1.4em; margin: 8px 0 0; }
  #login { margin: 12vh auto 0; width: min(380px, 92vw); background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 24px; }
  #login h2 { font-size: 14px; }
  #login form { display: flex; gap: 8px; }
  #login input { flex: 1; }
  #chat { flex: 1; display: none; grid-template-columns: 240px 1fr; min-height: 0; }
  #chat.shown { display: grid; }
  aside { background: var(--panel); border-right: 1px solid var(--line); padding: 16px; display: flex; flex-direction: column; gap: 18px; overflow-y: auto; }
  #rooms { list-style: none; margin: 0; padding: 0; }
  #rooms li { display: flex; justify-content: space-between; align-items: center; padding: 6px 10px; border-radius: 7px; cursor: pointer; }
  #rooms li.current { background: var(--mine); font-weight: 600; }
  #rooms li .count { color: var(--muted); font-size: 12px; font-weight: normal; }
  #rooms li .unread { background: var(--accent); color: #fff; border-radius: 999px; padding: 0 7px; font-size: 12px; margin-left: 6px; }
  #join-form { display: flex; gap: 6px; }
  #join-form input { flex: 1; width: 0; }
  .tools { display: flex; flex-direction: column; gap: 8px; }
  .tools .note { font-size: 13px; color: var(--muted); min-height: 1.3em; }
  main { display: flex; flex-direction: column; min-height: 0; }
  #room-head { display: flex; align-items: center; gap: 10px; padding: 12px 20px; border-bottom: 1px solid var(--line); background: var(--panel); }
  #room-title { font-weight: 600; }
  #members { color: var(--muted); font-size: 13px; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  #messages { flex: 1; overflow-y: auto; list-style: none; margin: 0; padding: 14px 20px; display: flex; flex-direction: column; gap: 8px; }
  #messages li { max-width: 75%; padding: 7px 11px; border-radius: 10px; background: var(--panel); border: 1px solid var(--line); align-self: flex-start; }
  #messages li.mine { background: var(--mine); border-color: #cdd9fb; align-self: flex-end; }
  #messages li.system { background: none; border: 0; color: var(--muted); font-size: 13px; align-self: center; padding: 0; }
  #messages .from { font-weight: 600; font-size: 13px; margin-right: 6px; }
  #messages .text { white-space: pre-wrap; word-break: break-word; }
  #messages .ack { display: block; text-align: right; font-size: 11px; color: var(--muted); margin-top: 2px; }
  #messages .ack.failed { color: var(--bad); }
  #say-form { display: flex; gap: 8px; padding: 12px 20px; border-top: 1px solid var(--line); background: var(--panel); }
  #say-form input { flex: 1; }
  @media (max-width: 700px) { #chat.shown { grid-template-columns: 1fr; } aside { border-right: 0; border-bottom: 1px solid var(--line); } }
</style>
</head>
<body>
<header>
  <h1>finch chat</h1>
  <span id="state" class="state">not connected</span>
  <span id="who"></span>
</header>

<section id="login">
  <h2>Choose a nickname</h2>
  <form id="login-form">
    <input id="nick" maxlength="20" placeholder="e.g. ada" autocomplete="off" autofocus>
    <button id="enter">Enter</button>
  </form>
  <p id="login-problem" class="problem"></p>
</section>

<div id="chat">
  <aside>
    <div>
      <h2>Your rooms</h2>
      <ul id="rooms"></ul>
    </div>
    <div>
      <h2>Join a room</h2>
      <form id="join-form">
        <input id="room-name" maxlength="30" placeholder="room name" autocomplete="off">
        <button id="join" class="secondary">Join</button>
      </form>
      <p id="join-problem" class="problem"></p>
    </div>
    <div class="tools">
      <h2>Server</h2>
      <button id="list-rooms" class="secondary">All rooms</button>
      <button id="latency" class="secondary">Measure latency</button>
      <div id="tool-note" class="note"></div>
    </div>
  </aside>
  <main>
    <div id="room-head">
      <span id="room-title"></span>
      <span id="members"></span>
      <button id="leave" class="secondary">Leave</button>
    </div>
    <ul id="messages"></ul>
    <form id="say-form">
      <input id="text" maxlength="2000" placeholder="Write a message" autocomplete="off">
      <button id="send">Send</button>
    </form>
  </main>
</div>

<script type="module">
// finch's JavaScript client, served by this example at /finch.js. It
// reconnects by itself (with backoff), matches answers to requests, answers
// the server's requests registered with onRequest, and calls the handlers
// registered with on(path) for everything else the server sends.
import { connect } from "/finch.js";

const $ = (id) => document.getElementById(id);
let client = null;
let myNick = "";
let attempt = 0;        // the reconnection attempt under way, 0 once open
let opened = false;     // whether this client has been open before
let connection = 0;     // counts the openings, to tell a stale rejoin from the current one
let ready = false;      // open, and back in its rooms
const rooms = new Map(); // name -> {messages: [elements], count, unread}
let current = null;

function wsUrl() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  return scheme + location.host + "/ws?nick=" + encodeURIComponent(myNick);
}

// The badge: connecting, open, reconnecting (attempt n) or closed.
function showState() {
  let name = client ? client.state : "";
  let text = client ? name : "not connected";
  if ((name === "reconnecting" || name === "connecting") && attempt > 0) {
    name = "reconnecting";
    text = "reconnecting (attempt " + attempt + ")";
  }
  $("state").textContent = text;
  $("state").className = "state " + name;
  updateControls();
}

// What needs the server is disabled until the page is back in its rooms.
function updateControls() {
  const online = ready && client !== null && client.state === "open";
  $("text").disabled = current === null;
  $("send").disabled = $("leave").disabled = !online || current === null;
  $("join").disabled = $("list-rooms").disabled = $("latency").disabled = !online;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function roomEntry(name) {
  if (!rooms.has(name)) rooms.set(name, {messages: [], count: 1, unread: 0});
  return rooms.get(name);
}

function addLine(room, node) {
  const entry = roomEntry(room);
  entry.messages.push(node);
  if (room === current) {
    $("messages").appendChild(node);
    node.scrollIntoView({block: "end"});
  } else if (!node.classList.contains("system")) {
    entry.unread++;
  }
  drawRooms();
}

function systemLine(room, text) {
  addLine(room, element("li", "system", text));
}

function messageLine(room, from, text, mine) {
  const li = element("li", mine ? "mine" : "");
  li.appendChild(element("span", "from", from));
  li.appendChild(element("span", "text", text));
  addLine(room, li);
  return li;
}

function drawRooms() {
  const list = $("rooms");
  list.replaceChildren();
  for (const [name, entry] of rooms) {
    const li = element("li", name === current ? "current" : "");
    li.dataset.room = name;
    const label = element("span", "", "#" + name);
    if (entry.unread > 0) label.appendChild(element("span", "unread", String(entry.unread)));
    li.appendChild(label);
    li.appendChild(element("span", "count", entry.count + " online"));
    li.addEventListener("click", () => show(name));
    list.appendChild(li);
  }
  $("members").textContent = current !== null && rooms.has(current) ? rooms.get(current).count + " online" : "";
}

function show(name) {
  current = name;
  const entry = name === null ? null : roomEntry(name);
  $("room-title").textContent = name === null ? "no room" : "#" + name;
  $("messages").replaceChildren(...(entry ? entry.messages : []));
  if (entry) entry.unread = 0;
  updateControls();
  drawRooms();
  if (name !== null) {
    $("messages").lastElementChild?.scrollIntoView({block: "end"});
    $("text").focus();
  }
}

// Joins a room, or joins it again after a reconnection (the server forgets
// its rooms when it restarts, and a new connection is in none anyway).
async function join(name, again = false) {
  const answer = await client.request("join", name);
  roomEntry(answer.room).count = answer.members.length;
  if (!again || current === null) show(answer.room);
  systemLine(answer.room, (again ? "you rejoined #" : "you joined #") + answer.room + ": " + answer.members.join(", "));
}

// Back to the nickname form, explaining why.
function showLogin(problem) {
  $("chat").classList.remove("shown");
  $("login").style.display = "";
  $("who").textContent = "";
  $("login-problem").textContent = problem;
  $("enter").disabled = false;
}

// Asks the server whether `nick` may connect: "" if so, else why not.
async function nickProblem(nick) {
  try {
    const answer = await fetch("/check?nick=" + encodeURIComponent(nick));
    return answer.ok ? "" : (await answer.text()).trim();
  } catch (error) {
    return "the server cannot be reached";
  }
}

function start(nick) {
  myNick = nick;
  attempt = 0;
  opened = false;
  ready = false;
  rooms.clear();
  show(null);
  // The URL is a function: the client calls it before every attempt.
  // 4009 is the chat's "nickname taken": coming back would not help.
  const self = connect(wsUrl, {terminalCloseCodes: [1008, 4009]});
  client = self;
  self.addEventListener("statechange", () => {
    if (client === self) showState();
  });
  self.addEventListener("open", () => {
    attempt = 0;
    const first = !opened;
    opened = true;
    const generation = ++connection;
    $("login").style.display = "none";
    $("chat").classList.add("shown");
    $("who").textContent = "you are " + myNick;
    // The first time into the lobby; after a reconnection back into every
    // room the user had joined.
    const names = first ? ["lobby"] : [...rooms.keys()];
    Promise.allSettled(names.map((name) => join(name, !first).catch((error) => {
      if (generation === connection) $("join-problem").textContent = "#" + name + ": " + error.message;
    }))).then(() => {
      if (generation !== connection || self.state !== "open") return;
      ready = true;
      updateControls();
    });
    showState();
  });
  self.addEventListener("close", (event) => {
    if (client !== self) return;
    ready = false;
    const why = "disconnected (code " + event.code + (event.reason ? ", " + event.reason : "") + ")";
    if (current !== null) systemLine(current, why + (event.willReconnect ? ", reconnecting…" : ""));
    updateControls();
    // A close the client does not retry (say "nickname taken"): start over.
    if (!event.willReconnect) showLogin(why);
  });
  self.addEventListener("reconnecting", async (event) => {
    attempt = event.attempt;
    showState();
    if (opened) return;
    // Never in yet: a browser hides why an upgrade was refused, so ask.
    const problem = await nickProblem(nick);
    if (problem && client === self && self.state !== "open") {
      client = null;
      self.close();
      showState();
      showLogin(problem);
    }
  });
  self.on("welcome", (data) => { myNick = data.nick; });
  self.on("message", (data) => { messageLine(data.room, data.from, data.text, false); });
  self.on("joined", (data) => {
    roomEntry(data.room).count = data.count;
    systemLine(data.room, data.nick + " joined");
  });
  self.on("left", (data) => {
    if (rooms.has(data.room)) {
      roomEntry(data.room).count = data.count;
      systemLine(data.room, data.nick + " left");
    }
  });
  self.on("error", (data) => { $("tool-note").textContent = data && data.message || "error"; });
  // The server's latency route asks us "ping": answering is all it takes.
  self.onRequest("ping", () => null);
  showState();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const nick = $("nick").value.trim();
  $("login-problem").textContent = "";
  $("enter").disabled = true;
  const problem = await nickProblem(nick);
  if (problem) {
    $("login-problem").textContent = problem;
    $("enter").disabled = false;
    return;
  }
  start(nick);
});

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("room-name").value.trim().toLowerCase();
  $("join-problem").textContent = "";
  join(name).then(() => { $("room-name").value = ""; })
            .catch((error) => { $("join-problem").textContent = error.message; });
});

$("leave").addEventListener("click", () => {
  const name = current;
  client.request("leave", name).then(() => {
    rooms.delete(name);
    show(rooms.size ? rooms.keys().next().value : null);
  }).catch((error) => { $("tool-note").textContent = error.message; });
});

$("say-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value;
  if (!text || current === null || $("send").disabled) return;
  $("text").value = "";
  const li = messageLine(current, myNick, text, true);
  const ack = element("span", "ack", "sending…");
  li.appendChild(ack);
  client.request("say", {room: current, text}).then((answer) => {
    ack.textContent = "✓ delivered to " + answer.delivered;
  }).catch((error) => {
    ack.textContent = "✗ " + error.message;
    ack.classList.add("failed");
  });
});

$("list-rooms").addEventListener("click", () => {
  client.request("rooms", null).then((list) => {
    $("tool-note").textContent = list.length
      ? list.map((room) => "#" + room.name + " (" + room.count + ")").join(", ")
      : "no rooms";
  }).catch((error) => { $("tool-note").textContent = error.message; });
});

$("latency").addEventListener("click", () => {
  client.request("latency", null).then((answer) => {
    $("tool-note").textContent = "round trip: " + answer.ms.toFixed(2) + " ms";
  }).catch((error) => { $("tool-note").textContent = error.message; });
});

// A nickname in the page's address (/?nick=ada) fills in the form.
const suggested = new URLSearchParams(location.search).get("nick");
if (suggested) $("nick").value = suggested;
show(null);
showState();
</script>
</body>
</html>
)page";

#endif
