// TypeScript declarations of finch's JavaScript client (finch.js).

/** Why a request failed: the `code` of a {@link FinchError}. */
export type FinchErrorCode = 'status' | 'timeout' | 'disconnected' | 'closed' | 'bufferOverflow';

/** An envelope as a finch server sends it. */
export interface Envelope<T = unknown> {
  /** Present first when the server enables `Options::includeClientId`. */
  client?: string;
  /** The route; `"error"` for finch's error envelopes. */
  path: string;
  /** 200 for normal messages; 4xx/5xx for errors. */
  status: number;
  /** Milliseconds since the Unix epoch, when the server sent it. */
  timestamp: number;
  /** On a reply: the id of the request it answers. On a server request: the id to answer with `replyTo`. */
  id?: string | number;
  /** On a reply or an error envelope that answers a request: that request's id. */
  replyTo?: string | number;
  data: T;
  [member: string]: unknown;
}

/** The `data` of finch's error envelopes (path `"error"`). */
export interface ErrorData {
  message: string;
  /** The path of the message that was refused, when it is known. */
  path?: string;
}

/**
 * What a request rejects with (and what connectTimeout reports in an `error`
 * event, with code `'timeout'`).
 */
export class FinchError extends Error {
  constructor(code: FinchErrorCode, message: string, details?: { status?: number; envelope?: Envelope });
  readonly name: 'FinchError';
  /**
   * - `'status'`: the server answered with status 400 or more (an error envelope, or a reply with such a status);
   * - `'timeout'`: no answer within the request's timeout (buffered time included);
   * - `'disconnected'`: the connection dropped after the request was sent and before its answer;
   * - `'closed'`: the client is closed (by `close()`, or for good after a terminal close);
   * - `'bufferOverflow'`: the offline buffer refused the request, or dropped it for a newer message.
   */
  readonly code: FinchErrorCode;
  /** With code `'status'`: the answer's status. */
  readonly status?: number;
  /** With code `'status'`: the whole answer. */
  readonly envelope?: Envelope;
}

/** Backoff of reconnection: the delay before attempt n is `random() * min(maxDelay, minDelay * factor ** (n - 1))`. */
export interface ReconnectOptions {
  /** Milliseconds; default 500. */
  minDelay?: number;
  /** Milliseconds; default 10000. */
  maxDelay?: number;
  /** Default 2. */
  factor?: number;
}

/** While open, a request on `path` every `interval`; no answer within `timeout` closes the connection and reconnects. */
export interface HeartbeatOptions {
  /** Milliseconds; default 25000. */
  interval?: number;
  /** Milliseconds; default 10000. */
  timeout?: number;
  /** Default `'$ping'` (finch's `Options::heartbeatPath`). Any answer counts, an error envelope too. */
  path?: string;
}

/** The constructor of a WebSocket: the browser's, or `ws`'s in Node. */
export interface WebSocketConstructor {
  new (url: string | URL, protocols?: string | string[]): WebSocketLike;
}

/** What the client uses of a WebSocket. */
export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server chose; `''` for none. */
  readonly protocol?: string;
  binaryType: string;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: closes at once, without a closing handshake. */
  terminate?(): void;
}

/** A binary envelope encoding for the `encoding` option. */
export interface FinchCodec {
  /** Which one: the client offers the subprotocol `finch.<name>`. */
  name: 'msgpack' | 'cbor';
  /** An envelope (a plain object) to the bytes of one binary frame. */
  encode(value: unknown): Uint8Array;
  /** The bytes of one binary frame to the envelope they hold. */
  decode(bytes: Uint8Array): any;
}

export interface ConnectOptions {
  /** Default `globalThis.WebSocket`; in Node 18 and 20 pass `ws`'s `WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Subprotocols, passed to the WebSocket constructor. */
  protocols?: string | string[];
  /** Default `{ minDelay: 500, maxDelay: 10000, factor: 2 }` (`true`: the defaults); `false`: never reconnect. */
  reconnect?: ReconnectOptions | boolean;
  /** Returns a number in [0, 1): the jitter of reconnection delays. Default `Math.random`. */
  random?: () => number;
  /** Close codes after which the client does not reconnect (it becomes `'closed'`). Default `[1008]`. */
  terminalCloseCodes?: number[];
  /**
   * HTTP statuses of a refused upgrade after which the client does not reconnect,
   * where the platform reveals them (Node's ws; browsers hide them). Default `[400, 401, 403, 404, 409]`.
   */
  terminalHttpStatuses?: number[];
  /** Messages (sends and requests) that may wait while the client is not open. Default 100. */
  bufferSize?: number;
  /**
   * When the buffer is full: `'dropOldest'` (default) drops the oldest waiting
   * message (a request rejects with `'bufferOverflow'`); `'reject'` refuses the new one.
   */
  bufferPolicy?: 'dropOldest' | 'reject';
  /** Default timeout of `request()`, in milliseconds, counted from the call. Default 10000; 0 or Infinity: none. */
  requestTimeout?: number;
  /** An attempt that has not opened within this many milliseconds is abandoned and retried. Default 10000; 0 or Infinity: none. */
  connectTimeout?: number;
  /** Default `{ interval: 25000, timeout: 10000, path: '$ping' }` (`true`: the defaults); `false`: no heartbeat. */
  heartbeat?: HeartbeatOptions | boolean;
  /**
   * How envelopes are written: 'json' (text frames, the default), or a
   * binary codec that the page brings, such as @msgpack/msgpack's
   * `{ name: 'msgpack', encode, decode }` or cbor-x's
   * `{ name: 'cbor', encode, decode }`. With a codec the client offers the
   * subprotocol `finch.<name>` (before `protocols`), sends binary frames,
   * and decodes binary frames with it; text frames are still read as JSON.
   * The server must list that encoding (`Options::encodings`). When the
   * connection opens without `finch.<name>` chosen, the client reports an
   * `error` event and closes for good: the server would read none of its
   * binary envelopes, and retrying would not change that. (Node's `ws` fails
   * a handshake that names no subprotocol at all before that point.)
   */
  encoding?: 'json' | FinchCodec;
}

export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * An open connection ended (`willReconnect: true` unless its code is
 * terminal or reconnection is off), or the client ended for good (then
 * `willReconnect: false`, also when no connection was open: `close()`, a
 * terminal HTTP refusal, a failure with `reconnect: false`). A heartbeat
 * failure is `{code: 1006, reason: 'heartbeat timeout', willReconnect: true}`.
 */
export interface CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly willReconnect: boolean;
}

/** A reconnection is scheduled: attempt n (from 1, reset by an open connection) after `delay` ms. */
export interface ReconnectingEvent extends Event {
  readonly attempt: number;
  readonly delay: number;
}

/**
 * The WebSocket reported an error (an attempt failed, an upgrade was refused),
 * an attempt hit connectTimeout (a FinchError with code `'timeout'`), a
 * message was not a JSON object, or an `on()` handler threw.
 */
export interface ErrorEvent extends Event {
  readonly error: unknown;
}

/** `state` changed; the event carries the new one. */
export interface StateChangeEvent extends Event {
  readonly state: ClientState;
}

export interface FinchClientEventMap {
  open: Event;
  close: CloseEvent;
  reconnecting: ReconnectingEvent;
  error: ErrorEvent;
  statechange: StateChangeEvent;
}

/** Handles server envelopes on one path: the envelope's data, and the whole envelope. */
export type MessageHandler<T = any> = (data: T, envelope: Envelope<T>) => void;

/**
 * Answers a server request: its value (or what its Promise resolves to) is
 * sent as `{replyTo, data}`; a throw or rejection as status 500 with the
 * error's message.
 */
export type RequestHandler<T = any, R = unknown> = (data: T, envelope: Envelope<T>) => R | Promise<R>;

export interface RequestOptions {
  /** Milliseconds from the call, buffered time included; default the client's `requestTimeout`. 0 or Infinity: none. */
  timeout?: number;
}

export class FinchClient extends EventTarget {
  constructor(url: string | URL | (() => string | URL), options?: ConnectOptions);

  /** `'connecting'` (first attempt), `'open'`, `'reconnecting'` (waiting or retrying), `'closed'` (for good). */
  readonly state: ClientState;

  /**
   * The subprotocol the server chose for the open connection (the
   * WebSocket's `protocol`, one of the `protocols` option's); `''` when it
   * chose none, or while the client is not open.
   */
  readonly protocol: string;

  /**
   * Calls `handler` for every server envelope on `path` that answers no
   * request of this client. Error envelopes have path `"error"`. Several
   * handlers per path; the same function once. Returns the client.
   */
  on<T = any>(path: string, handler: MessageHandler<T>): this;
  /** Removes `handler` from `path`, or every handler of `path`. Returns the client. */
  off(path: string, handler?: MessageHandler<any>): this;

  /**
   * Answers the server's requests on `path` (one handler per path; `null`
   * removes it). Requests on a path without handler are answered with 404.
   */
  onRequest<T = any, R = unknown>(path: string, handler: RequestHandler<T, R> | null): this;

  /**
   * Sends `{path, data}` now if open, else puts it in the offline buffer.
   * Returns false when it was refused (buffer full with `'reject'`, or the client closed).
   * Throws what `JSON.stringify` throws for data JSON cannot hold.
   */
  send(path: string, data?: unknown): boolean;

  /**
   * Sends `{path, data, id}` (now, or from the buffer) and resolves with the
   * `data` of the answer; rejects with a {@link FinchError}.
   */
  request<R = any>(path: string, data?: unknown, options?: RequestOptions): Promise<R>;

  /** Ends the client for good: no reconnect, waiting requests reject with `'closed'`, state `'closed'`. */
  close(code?: number, reason?: string): void;

  addEventListener<K extends keyof FinchClientEventMap>(
    type: K,
    listener: (event: FinchClientEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof FinchClientEventMap>(
    type: K,
    listener: (event: FinchClientEventMap[K]) => void,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions): void;
}

/**
 * Creates a client and starts its first attempt. `url` may be a function,
 * called before every attempt (a fresh token in the query string, say).
 * Throws a TypeError when there is no WebSocket constructor, and what the
 * constructor throws for the first attempt (a bad URL: SyntaxError).
 */
export function connect(url: string | URL | (() => string | URL), options?: ConnectOptions): FinchClient;
