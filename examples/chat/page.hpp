#ifndef FINCH_CHAT_PAGE_HPP
#define FINCH_CHAT_PAGE_HPP

// The browser page of the chat example: one self-contained HTML document (no
// external scripts, styles or fonts). It asks for a nickname, checks it with
// GET /check (a browser cannot read the status of a refused WebSocket
// upgrade), connects to ws://<host>/ws?nick=<nickname>, joins "lobby", and
// then lets its user join and leave rooms and talk in them.
//
// Every request carries an id; the page keeps a promise per id and settles it
// when the answer (with "replyTo") arrives, which is how a message shows
// "delivered to N". The server's "ping" requests are answered with
// {"replyTo": id}. Everything other people wrote is shown with textContent,
// never innerHTML.

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
        <button class="secondary">Join</button>
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

<script>
"use strict";
const $ = (id) => document.getElementById(id);
let ws = null;
let myNick = "";
let nextId = 1;
const pending = new Map();   // request id -> {resolve, reject}
const rooms = new Map();     // name -> {messages: [elements], count, unread}
let current = null;

function setState(text, kind) {
  $("state").textContent = text;
  $("state").className = "state " + (kind || "");
}

// Sends a request and resolves with the answer's data; rejects with the
// server's message when the answer's status is 400 or more.
function request(path, data) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, {resolve, reject});
    ws.send(JSON.stringify({path, id, data}));
  });
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
  $("leave").disabled = $("send").disabled = $("text").disabled = name === null;
  drawRooms();
  if (name !== null) {
    $("messages").lastElementChild?.scrollIntoView({block: "end"});
    $("text").focus();
  }
}

async function join(name) {
  const answer = await request("join", name);
  roomEntry(answer.room).count = answer.members.length;
  show(answer.room);
  systemLine(answer.room, "you joined #" + answer.room + ": " + answer.members.join(", "));
}

function connect(nick) {
  setState("connecting");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  ws = new WebSocket(scheme + location.host + "/ws?nick=" + encodeURIComponent(nick));
  ws.onopen = () => {
    setState("online", "open");
    $("login").style.display = "none";
    $("chat").classList.add("shown");
    $("who").textContent = "you are " + nick;
    join("lobby").catch((error) => { $("join-problem").textContent = error.message; });
  };
  ws.onclose = (event) => {
    setState("disconnected" + (event.reason ? ": " + event.reason : ""), "closed");
    for (const waiting of pending.values()) waiting.reject(new Error("disconnected"));
    pending.clear();
    $("send").disabled = $("leave").disabled = true;
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if ("replyTo" in message) {
      const waiting = pending.get(message.replyTo);
      if (!waiting) return;
      pending.delete(message.replyTo);
      if (message.status >= 400) waiting.reject(new Error(message.data && message.data.message || "error " + message.status));
      else waiting.resolve(message.data);
      return;
    }
    if ("id" in message) {   // a request of the server: answer it at once
      ws.send(JSON.stringify({replyTo: message.id, data: null}));
      return;
    }
    const data = message.data;
    switch (message.path) {
    case "welcome":
      myNick = data.nick;
      break;
    case "message":
      messageLine(data.room, data.from, data.text, false);
      break;
    case "joined":
      roomEntry(data.room).count = data.count;
      systemLine(data.room, data.nick + " joined");
      break;
    case "left":
      if (rooms.has(data.room)) {
        roomEntry(data.room).count = data.count;
        systemLine(data.room, data.nick + " left");
      }
      break;
    case "error":
      $("tool-note").textContent = data && data.message || "error";
      break;
    }
  };
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const nick = $("nick").value.trim();
  $("login-problem").textContent = "";
  try {
    const answer = await fetch("/check?nick=" + encodeURIComponent(nick));
    if (!answer.ok) {
      $("login-problem").textContent = (await answer.text()).trim();
      return;
    }
  } catch (error) {
    $("login-problem").textContent = "the server cannot be reached";
    return;
  }
  myNick = nick;
  connect(nick);
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
  request("leave", name).then(() => {
    rooms.delete(name);
    show(rooms.size ? rooms.keys().next().value : null);
  }).catch((error) => { $("tool-note").textContent = error.message; });
});

$("say-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value;
  if (!text || current === null) return;
  $("text").value = "";
  const li = messageLine(current, myNick, text, true);
  const ack = element("span", "ack", "sending…");
  li.appendChild(ack);
  request("say", {room: current, text}).then((answer) => {
    ack.textContent = "✓ delivered to " + answer.delivered;
  }).catch((error) => {
    ack.textContent = "✗ " + error.message;
    ack.classList.add("failed");
  });
});

$("list-rooms").addEventListener("click", () => {
  request("rooms", null).then((list) => {
    $("tool-note").textContent = list.length
      ? list.map((room) => "#" + room.name + " (" + room.count + ")").join(", ")
      : "no rooms";
  });
});

$("latency").addEventListener("click", () => {
  request("latency", null).then((answer) => {
    $("tool-note").textContent = "round trip: " + answer.ms.toFixed(2) + " ms";
  }).catch((error) => { $("tool-note").textContent = error.message; });
});

show(null);
</script>
</body>
</html>
)page";

#endif
