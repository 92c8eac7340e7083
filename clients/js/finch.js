// finch's JavaScript client: routing, requests in both directions, an offline
// buffer, reconnection with backoff and a heartbeat, over one WebSocket that
// speaks finch's envelopes in JSON, or in MessagePack or CBOR with a codec the
// caller passes (the `encoding` option). No dependencies: browsers use their
// own WebSocket, Node passes the `ws` package's in the `WebSocket` option.
//
//   import { connect } from './finch.js';
//   const client = connect('ws://127.0.0.1:8080/ws');
//   client.on('chat', (data) => console.log(data));
//   const sum = await client.request('sum', [1, 2]);
//
// The protocol and every option are described in README.md and finch.d.ts.

/** The error every request rejects with; `code` tells why. */
export class FinchError extends Error {
  /**
   * @param {'status'|'timeout'|'disconnected'|'closed'|'bufferOverflow'} code
   * @param {string} message
   * @param {{status?: number, envelope?: object}} [details]
   */
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'FinchError';
    this.code = code;
    if (details.status !== undefined) this.status = details.status;
    if (details.envelope !== undefined) this.envelope = details.envelope;
  }
}

const reconnectDefaults = { minDelay: 500, maxDelay: 10000, factor: 2 };
const heartbeatDefaults = { interval: 25000, timeout: 10000, path: '$ping' };

// WebSocket.OPEN is 1 everywhere; reading it from the constructor would fail
// for minimal stand-ins that tests or other runtimes may pass.
const OPEN = 1;

// `true` means "the defaults", an object overrides some of them, `false` (or
// null) turns the feature off.
function settingsOf(value, defaults) {
  if (value === false || value === null) return null;
  if (value === undefined || value === true) return { ...defaults };
  return { ...defaults, ...value };
}

// The encoding option: 'json' (null), or a binary codec that the page
// brings ({name: 'msgpack' | 'cbor', encode, decode}), so that the client
// itself stays free of dependencies.
function codecOf(encoding) {
  if (encoding === 'json') return null;
  if (encoding !== null && typeof encoding === 'object' && (encoding.name === 'msgpack' || encoding.name === 'cbor') &&
      typeof encoding.encode === 'function' && typeof encoding.decode === 'function')
    return { name: encoding.name, encode: encoding.encode, decode: encoding.decode };
  throw new RangeError("finch: encoding is 'json' or {name: 'msgpack' | 'cbor', encode(value), decode(bytes)}");
}

/** Opens a client; the first attempt starts at once. */
export function connect(url, options = {}) {
  return new FinchClient(url, options);
}

/**
 * One logical connection to a finch server, across as many WebSockets as
 * reconnection needs. Lifecycle events come through EventTarget; envelopes
 * through on() and onRequest().
 */
export class FinchClient extends EventTarget {
  #url;
  #WebSocket;
  #protocols;
  #codec;                   // null for JSON, else the encoding option's {name, encode, decode}
  #reconnect;
  #heartbeat;
  #random;
  #terminalCloseCodes;
  #terminalHttpStatuses;
  #bufferSize;
  #bufferPolicy;
  #requestTimeout;
  #connectTimeout;

  #state = 'connecting';
  #socket = null;           // the socket of the current attempt or connection
  #refusedStatus = null;    // the HTTP status that refused the current attempt, when the platform says
  #attempt = 0;             // failed attempts since the last open connection
  #nextId = 1;
  #handlers = new Map();    // path -> Set of on() handlers
  #requestHandlers = new Map();  // path -> onRequest() handler
  #pending = new Map();     // request id -> {resolve, reject, timer, entry}
  #buffer = [];             // {text, id?}: what waits for the next open connection (id: a request's)
  #reconnectTimer = null;
  #connectTimer = null;
  #heartbeatTimer = null;
  #pingId = null;           // the heartbeat request still waiting for its answer
  #pingTimer = null;
  #onlineListener = null;

  constructor(url, options = {}) {
    super();
    if (typeof url !== 'string' && typeof url !== 'function' && !(url instanceof URL))
      throw new TypeError('finch: connect() needs a URL, or a function returning one');
    const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketClass !== 'function')
      throw new TypeError("finch: no WebSocket: pass one as the WebSocket option (in Node: import { WebSocket } from 'ws')");
    const codec = codecOf(options.encoding ?? 'json');
    const bufferPolicy = options.bufferPolicy ?? 'dropOldest';
    if (bufferPolicy !== 'dropOldest' && bufferPolicy !== 'reject')
      throw new RangeError(`finch: bufferPolicy is 'dropOldest' or 'reject', not '${bufferPolicy}'`);

    this.#url = url;
    this.#WebSocket = WebSocketClass;
    this.#codec = codec;
    // The encoding's subprotocol first: the server takes the first it speaks.
    this.#protocols = codec === null
      ? options.protocols
      : [`finch.${codec.name}`, ...[options.protocols ?? []].flat()];
    this.#reconnect = settingsOf(options.reconnect, reconnectDefaults);
    this.#heartbeat = settingsOf(options.heartbeat, heartbeatDefaults);
    this.#random = options.random ?? Math.random;
    this.#terminalCloseCodes = options.terminalCloseCodes ?? [1008];
    this.#terminalHttpStatuses = options.terminalHttpStatuses ?? [400, 401, 403, 404, 409];
    this.#bufferSize = options.bufferSize ?? 100;
    this.#bufferPolicy = bufferPolicy;
    this.#requestTimeout = options.requestTimeout ?? 10000;
    this.#connectTimeout = options.connectTimeout ?? 10000;

    // The WebSocket's events come later (they are queued as tasks), so a
    // caller that adds listeners right after connect() misses none of them.
    this.#attemptNow(true);
  }

  /** 'connecting' | 'open' | 'reconnecting' | 'closed' */
  get state() {
    return this.#state;
  }

  /**
   * The subprotocol the server chose for the open connection (the
   * WebSocket's `protocol`); '' when it chose none, or while not open.
   */
  get protocol() {
    return this.#state === 'open' ? this.#socket?.protocol ?? '' : '';
  }

  on(path, handler) {
    if (typeof handler !== 'function') throw new TypeError('finch: on() needs a handler function');
    let handlers = this.#handlers.get(path);
    if (!handlers) this.#handlers.set(path, (handlers = new Set()));
    handlers.add(handler);
    return this;
  }

  off(path, handler) {
    if (handler === undefined) {
      this.#handlers.delete(path);
    } else {
      const handlers = this.#handlers.get(path);
      handlers?.delete(handler);
      if (handlers?.size === 0) this.#handlers.delete(path);
    }
    return this;
  }

  onRequest(path, handler) {
    if (handler === null || handler === undefined) this.#requestHandlers.delete(path);
    else if (typeof handler !== 'function') throw new TypeError('finch: onRequest() needs a handler function');
    else this.#requestHandlers.set(path, handler);
    return this;
  }

  send(path, data) {
    if (this.#state === 'closed') return false;
    // Serialized now, so that a message waiting in the buffer carries the
    // value it had when it was sent, and a value JSON cannot hold throws here.
    const text = this.#encode({ path, data });
    if (this.#isOpen()) {
      this.#socket.send(text);
      return true;
    }
    return this.#enqueue({ text });
  }

  request(path, data, { timeout = this.#requestTimeout } = {}) {
    if (this.#state === 'closed')
      return Promise.reject(new FinchError('closed', 'finch: the client is closed'));
    const id = this.#nextId++;
    let text;
    try {
      text = this.#encode({ path, data, id });
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject, timer: null, entry: null };
      this.#pending.set(id, pending);
      // From the call, not from the send: the caller's patience does not
      // depend on whether the connection happened to be up.
      if (timeout > 0 && timeout < Infinity) {
        pending.timer = setTimeout(
          () => this.#settle(id, new FinchError('timeout', `finch: no answer to '${path}' within ${timeout} ms`)),
          timeout);
      }
      if (this.#isOpen()) {
        this.#socket.send(text);
      } else {
        pending.entry = { text, id };
        if (!this.#enqueue(pending.entry))
          this.#settle(id, new FinchError('bufferOverflow', `finch: the offline buffer refused the request '${path}'`));
      }
    });
  }

  close(code = 1000, reason = '') {
    if (this.#state === 'closed') return;
    const socket = this.#socket;
    if (socket) {
      // First, so that a code the platform refuses (browsers take 1000 and
      // 3000-4999 only) throws before anything has changed.
      socket.close(code, reason);
      this.#socket = null;
    }
    // 'closed' rather than 'disconnected': the caller ended it, nothing dropped.
    this.#rejectAllClosed();
    this.#finish(code, reason);
  }

  // An envelope as the connection's encoding writes it: JSON text, or the
  // binary codec's bytes (sent as a binary frame).
  #encode(envelope) {
    if (this.#codec === null) return JSON.stringify(envelope);
    // JSON.stringify leaves out members that are undefined; binary codecs
    // would write them (CBOR's undefined, which the server refuses).
    const defined = {};
    for (const [key, value] of Object.entries(envelope)) if (value !== undefined) defined[key] = value;
    return this.#codec.encode(defined);
  }

  // --- connection attempts ---------------------------------------------------

  #isOpen() {
    return this.#state === 'open' && this.#socket?.readyState === OPEN;
  }

  #attemptNow(first = false) {
    if (this.#state === 'closed') return;
    // A browser that knows it is offline would fail at once; waiting for
    // 'online' spares the attempts and lets the client come back without delay.
    if (globalThis.navigator?.onLine === false && typeof globalThis.addEventListener === 'function') {
      if (!this.#onlineListener) {
        this.#onlineListener = () => {
          this.#removeOnlineListener();
          this.#attemptNow();
        };
        globalThis.addEventListener('online', this.#onlineListener);
      }
      return;
    }
    let socket;
    try {
      const url = typeof this.#url === 'function' ? this.#url() : this.#url;
      socket = this.#protocols === undefined
        ? new this.#WebSocket(url)
        : new this.#WebSocket(url, this.#protocols);
    } catch (error) {
      // A bad URL or protocol list: a programming error that no retry fixes.
      // From connect() itself it is thrown, as nobody listens yet.
      if (first) throw error;
      this.#emit('error', { error });
      this.#finish(1006, `cannot open a WebSocket: ${error?.message ?? error}`);
      return;
    }
    this.#socket = socket;
    this.#refusedStatus = null;
    socket.binaryType = 'arraybuffer';
    // Every handler first checks that its socket is still the current one: an
    // abandoned socket keeps its handlers (ws throws on an 'error' event
    // without a listener) but may no longer act.
    socket.onopen = () => {
      if (socket === this.#socket) this.#opened();
    };
    socket.onmessage = (event) => {
      if (socket === this.#socket) this.#receive(socket, event.data);
    };
    socket.onerror = (event) => {
      if (socket === this.#socket) this.#socketError(event);
    };
    socket.onclose = (event) => {
      if (socket === this.#socket) this.#socketClosed(event.code, event.reason);
    };
    if (this.#connectTimeout > 0 && this.#connectTimeout < Infinity) {
      this.#connectTimer = setTimeout(() => {
        this.#connectTimer = null;
        // A server that accepts TCP but never answers the upgrade (frozen,
        // overloaded) would otherwise hold the client for ever.
        this.#abandon();
        this.#emit('error', {
          error: new FinchError('timeout', `finch: the connection did not open within ${this.#connectTimeout} ms`),
        });
        this.#retryOrFinish(1006, 'connect timeout', false);
      }, this.#connectTimeout);
    }
  }

  #opened() {
    this.#clearConnectTimer();
    // A server that does not speak the asked binary encoding answers without
    // its subprotocol (or with another of ours): its envelopes would be JSON
    // and ours bytes it cannot read. Retrying would not change its mind.
    if (this.#codec !== null && this.#socket.protocol !== `finch.${this.#codec.name}`) {
      this.#emit('error', {
        error: new Error(`finch: the server did not choose finch.${this.#codec.name} ` +
          `(it answered '${this.#socket.protocol}'); enable it on the server (Options::encodings)`),
      });
      this.close(1000, 'encoding not negotiated');
      return;
    }
    this.#attempt = 0;
    this.#setState('open');
    if (this.#state !== 'open') return;  // a statechange listener closed the client
    // The buffer goes first: what was sent while offline precedes what the
    // 'open' listeners send.
    const waiting = this.#buffer;
    this.#buffer = [];
    for (const entry of waiting) {
      if (entry.id !== undefined) this.#pending.get(entry.id).entry = null;
      this.#socket.send(entry.text);
    }
    this.#startHeartbeat();
    if (this.#state === 'open') this.#emit('open');
  }

  #socketError(event) {
    // Only Node's ws says why an upgrade was refused; browsers hide the
    // HTTP status from scripts, so there the close event (1006) is all we get.
    const error = event?.error ?? new Error(event?.message || 'finch: WebSocket error');
    const refused = /Unexpected server response: (\d+)/.exec(error?.message ?? '');
    if (refused) this.#refusedStatus = Number(refused[1]);
    this.#emit('error', { error });
  }

  #socketClosed(code, reason) {
    const wasOpen = this.#state === 'open';
    this.#dropSocket();
    const terminal = this.#terminalCloseCodes.includes(code) ||
      (this.#refusedStatus !== null && this.#terminalHttpStatuses.includes(this.#refusedStatus));
    this.#retryOrFinish(code, reason, wasOpen, terminal);
  }

  // The heartbeat or the connect timer gave up on a socket that never said
  // goodbye: close it without waiting for a closing handshake that a frozen
  // server would never finish.
  #abandon() {
    const socket = this.#socket;
    this.#dropSocket();
    if (!socket) return;
    try {
      if (typeof socket.terminate === 'function') socket.terminate();  // ws: no handshake
      else socket.close();
    } catch {
      // Already closing: nothing more to do with it.
    }
  }

  // Forgets the current socket: its timers stop and the requests it carried
  // cannot be answered any more.
  #dropSocket() {
    this.#socket = null;
    this.#clearConnectTimer();
    this.#stopHeartbeat();
    for (const [id, pending] of this.#pending) {
      if (pending.entry === null)
        this.#settle(id, new FinchError('disconnected', 'finch: the connection closed before the answer'));
    }
  }

  // After a connection or an attempt ended: reconnect, or end for good.
  #retryOrFinish(code, reason, wasOpen, terminal = false) {
    if (this.#state === 'closed') return;
    if (terminal || !this.#reconnect) {
      this.#finish(code, reason);
      return;
    }
    // Listeners may close the client from any of these events: after each,
    // a client closed meanwhile is left alone.
    this.#setState('reconnecting');
    if (wasOpen && this.#state === 'reconnecting') this.#emit('close', { code, reason, willReconnect: true });
    if (this.#state !== 'reconnecting') return;
    const attempt = ++this.#attempt;
    const { minDelay, maxDelay, factor } = this.#reconnect;
    // Full jitter: clients dropped together by one server restart spread
    // their attempts over the whole window instead of arriving in waves.
    const delay = this.#random() * Math.min(maxDelay, minDelay * factor ** (attempt - 1));
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#attemptNow();
    }, delay);
    this.#emit('reconnecting', { attempt, delay });
  }

  // The client is closed for good: by close(), a terminal close code or HTTP
  // status, or a failure with reconnection turned off.
  #finish(code, reason) {
    this.#dropSocket();
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#removeOnlineListener();
    this.#rejectAllClosed();
    this.#buffer = [];
    this.#setState('closed');
    this.#emit('close', { code, reason, willReconnect: false });
  }

  // --- the offline buffer ----------------------------------------------------

  #enqueue(entry) {
    if (this.#buffer.length >= this.#bufferSize) {
      if (this.#bufferPolicy === 'reject' || this.#bufferSize <= 0) return false;
      const dropped = this.#buffer.shift();
      if (dropped.id !== undefined)
        this.#settle(dropped.id, new FinchError('bufferOverflow', 'finch: the offline buffer dropped this request for a newer message'));
    }
    this.#buffer.push(entry);
    return true;
  }

  // --- incoming messages -----------------------------------------------------

  #receive(socket, raw) {
    let envelope;
    try {
      // Text is JSON whatever the encoding; binary only in a binary encoding.
      if (typeof raw === 'string') envelope = JSON.parse(raw);
      else if (this.#codec !== null) envelope = this.#codec.decode(new Uint8Array(raw));
      else throw new TypeError('a binary message');
      if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope))
        throw new TypeError('not a JSON object');
    } catch (error) {
      this.#emit('error', { error: new TypeError(`finch: a message that is not an envelope (${error.message})`) });
      return;
    }
    if (envelope.replyTo !== undefined && envelope.replyTo !== null) {
      this.#answered(envelope);
    } else if (envelope.id !== undefined && envelope.id !== null) {
      this.#answerServerRequest(socket, envelope);
    } else {
      this.#dispatch(envelope);
    }
  }

  // An answer (reply or error envelope) to one of our requests. An answer
  // nobody waits for any more (timed out, or from an older connection) is
  // dropped: it was meant for a request, never for on() handlers.
  #answered(envelope) {
    const id = envelope.replyTo;
    if (id === this.#pingId) {
      // Any answer proves the server alive, an error envelope too: a server
      // without the heartbeat route answers 404, and that is still an answer.
      this.#pingId = null;
      clearTimeout(this.#pingTimer);
      this.#pingTimer = null;
      return;
    }
    if (!this.#pending.has(id)) return;
    const status = envelope.status ?? 200;
    if (status >= 400) {
      const message = envelope.data?.message ?? `finch: the server answered status ${status}`;
      this.#settle(id, new FinchError('status', String(message), { status, envelope }));
    } else {
      this.#settle(id, null, envelope.data);
    }
  }

  #dispatch(envelope) {
    const handlers = this.#handlers.get(envelope.path);
    if (!handlers) return;
    // A copy: a handler may off() itself or others while we go through them.
    for (const handler of [...handlers]) {
      try {
        handler(envelope.data, envelope);
      } catch (error) {
        // One handler's bug must not keep the message from the others.
        this.#emit('error', { error });
      }
    }
  }

  #answerServerRequest(socket, envelope) {
    const { id, path } = envelope;
    // Only on the connection that asked: the server forgets its requests when
    // a connection ends, and ids are per connection.
    const answer = (message) => {
      if (socket !== this.#socket || !this.#isOpen()) return;
      let text;
      try {
        text = this.#encode(message);
      } catch (error) {
        text = this.#encode(failure(id, error));
      }
      socket.send(text);
    };
    const handler = this.#requestHandlers.get(path);
    if (!handler) {
      answer({ replyTo: id, status: 404, data: { message: `no request handler for path "${path}"` } });
      return;
    }
    let result;
    try {
      result = handler(envelope.data, envelope);
    } catch (error) {
      answer(failure(id, error));
      return;
    }
    if (typeof result?.then === 'function') {
      Promise.resolve(result).then(
        (value) => answer({ replyTo: id, data: value ?? null }),
        (error) => answer(failure(id, error)));
    } else {
      answer({ replyTo: id, data: result ?? null });
    }
  }

  #rejectAllClosed() {
    for (const id of [...this.#pending.keys()])
      this.#settle(id, new FinchError('closed', 'finch: the client is closed'));
  }

  // Resolves or rejects one of our requests, wherever it waits.
  #settle(id, error, value) {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (pending.entry) {
      // Still in the buffer: it must not be sent any more.
      const index = this.#buffer.indexOf(pending.entry);
      if (index >= 0) this.#buffer.splice(index, 1);
    }
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  // --- heartbeat -------------------------------------------------------------

  #startHeartbeat() {
    if (!this.#heartbeat) return;
    const { interval, timeout, path } = this.#heartbeat;
    this.#heartbeatTimer = setInterval(() => {
      // One ping at a time: its own deadline is what decides.
      if (this.#pingId !== null || !this.#isOpen()) return;
      this.#pingId = this.#nextId++;
      this.#socket.send(this.#encode({ path, id: this.#pingId }));
      this.#pingTimer = setTimeout(() => {
        this.#pingTimer = null;
        // The server (or the network to it) is gone without a close frame:
        // TCP may take minutes to notice, so we decide now.
        this.#abandon();
        this.#retryOrFinish(1006, 'heartbeat timeout', true);
      }, timeout);
    }, interval);
  }

  #stopHeartbeat() {
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#pingTimer);
    this.#heartbeatTimer = null;
    this.#pingTimer = null;
    this.#pingId = null;
  }

  // --- small helpers -----------------------------------------------------------

  #clearConnectTimer() {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
  }

  #removeOnlineListener() {
    if (!this.#onlineListener) return;
    globalThis.removeEventListener?.('online', this.#onlineListener);
    this.#onlineListener = null;
  }

  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit('statechange', { state });
  }

  // Plain Event objects with the details as own properties: CustomEvent only
  // became global in Node 19, and `event.code` reads better than `event.detail.code`.
  #emit(type, details = {}) {
    this.dispatchEvent(Object.assign(new Event(type), details));
  }
}

// How a request handler's failure is answered: status 500 and its message.
function failure(id, error) {
  return { replyTo: id, status: 500, data: { message: String(error?.message ?? error) } };
}
