// Starts a finch server binary for a test and stops it again. Every example
// server (and the client tests' server) prints, once listening, a line that
// holds "http://HOST:PORT/" ("https://HOST:PORT/" when it serves TLS, with
// --tls-cert and --tls-key); start() waits for it and returns the port.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

// The binary of an example or test server, from the environment ctest sets
// (FINCH_DEMO, FINCH_CHAT, FINCH_JS_TEST_SERVER).
export function binaryFrom(variable) {
  const path = process.env[variable];
  if (!path) throw new Error(`${variable} is not set: run this test through ctest (it sets the server binaries)`);
  return path;
}

export class FinchServer {
  constructor(binary, args = []) {
    this.binary = binary;
    this.args = args;
    this.port = 0;
    this.child = null;
    this.output = '';
    this.secure = false;  // whether the startup line said https://
  }

  // Starts the server on 127.0.0.1, on `this.port` (0 the first time: any
  // free port, kept for restarts), and resolves once it listens.
  async start() {
    const child = spawn(this.binary, ['--address', '127.0.0.1', '--port', String(this.port), ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr.on('data', (chunk) => { this.output += chunk; });
    const listening = new Promise((resolve, reject) => {
      let seen = '';
      child.stdout.on('data', (chunk) => {
        seen += chunk;
        this.output += chunk;
        const found = /http(s?):\/\/[^\s/]+:(\d+)\//.exec(seen);
        if (found) {
          this.secure = found[1] === 's';
          resolve(Number(found[2]));
        }
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.binary} ended before listening (${code ?? signal}): ${this.output}`)));
    });
    this.port = await listening;
    return this.port;
  }

  get url() { return `${this.secure ? 'https' : 'http'}://127.0.0.1:${this.port}`; }
  get wsUrl() { return `${this.secure ? 'wss' : 'ws'}://127.0.0.1:${this.port}/ws`; }

  // Stops it as Ctrl-C does (SIGINT: finch closes every connection with
  // 1001) and resolves once the process has exited.
  async stop(signal = 'SIGINT') {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
    this.child = null;
  }

  // Freezes the process (its sockets stay open, nothing answers) and thaws it.
  pause() { this.child.kill('SIGSTOP'); }
  resume() { this.child.kill('SIGCONT'); }
}
