// node_ws_server: the benchmark's two routes on Node.js and the `ws` package.
//
//   node server.js [--port N] [--threads N]
//
// Node runs JavaScript on one thread, so --threads is accepted for a uniform
// command line and otherwise ignored. Messages are parsed with JSON.parse;
// {"path":"echo","data":D} is answered with {"path":"echo","data":D},
// {"path":"broadcast","data":D} sends {"path":"broadcast","data":D} to everyone.
'use strict';

const { WebSocketServer } = require('ws');

function parseArguments(argv) {
  const settings = { port: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if ((argv[i] !== '--port' && argv[i] !== '--threads') || !/^[0-9]{1,5}$/.test(value ?? '')) {
      console.error(`node_ws_server: bad argument '${argv[i]}'\nusage: node server.js [--port N] [--threads N]`);
      process.exit(2);
    }
    if (argv[i] === '--port') settings.port = Number(value);
  }
  return settings;
}

const settings = parseArguments(process.argv.slice(2));
// No compression (the C++ servers have none), and a backlog like theirs, so
// that a burst of connections is not refused by a shorter queue.
const server = new WebSocketServer({ host: '127.0.0.1', port: settings.port, perMessageDeflate: false, backlog: 4096 });

server.on('connection', (socket) => {
  socket.on('message', (frame, isBinary) => {
    if (isBinary) return;
    let message;
    try {
      message = JSON.parse(frame);
    } catch {
      return;
    }
    if (message === null || typeof message !== 'object') return;
    if (message.path === 'echo') {
      socket.send(JSON.stringify({ path: 'echo', data: message.data }));
    } else if (message.path === 'broadcast') {
      // Encoded once: a string would be converted to bytes for every receiver.
      const text = Buffer.from(JSON.stringify({ path: 'broadcast', data: message.data }));
      for (const receiver of server.clients) receiver.send(text, { binary: false });
    }
  });
  // A client that vanishes must not end the process.
  socket.on('error', () => {});
});

server.on('listening', () => {
  console.log(`node_ws_server listening on 127.0.0.1:${server.address().port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
