// Compiled by package.test.mjs with `tsc --strict --noEmit`: the declarations
// of finch.d.ts must accept what the client's README shows, and refuse misuse
// (the lines marked @ts-expect-error fail the compile if they type-check).
import { connect, FinchClient, FinchError, type Envelope, type CloseEvent, type ReconnectingEvent } from 'finch-client';
import { WebSocket } from 'ws';

interface Chat { from: string; text: string }

const client: FinchClient = connect(() => 'ws://127.0.0.1:8080/ws?nick=ann', {
  WebSocket,
  reconnect: { minDelay: 100, maxDelay: 5000 },
  heartbeat: { interval: 25000 },
  bufferSize: 10,
  bufferPolicy: 'reject',
  terminalCloseCodes: [1008, 4009],
});
client.on<Chat>('chat', (data, envelope: Envelope<Chat>) => console.log(data.from, data.text, envelope.timestamp));
client.onRequest('ping', async () => 'pong');
client.addEventListener('close', (event) => {
  const close = event as CloseEvent;
  console.log(close.code, close.reason, close.willReconnect);
});
client.addEventListener('reconnecting', (event) => console.log((event as ReconnectingEvent).attempt));
const sent: boolean = client.send('chat', 'hello');
async function ask(): Promise<number> {
  try {
    return await client.request<number>('sum', [1, 2], { timeout: 1000 });
  } catch (error) {
    if (error instanceof FinchError && error.code === 'status') return error.status ?? 0;
    throw error;
  }
}
void ask();
void sent;
const state: 'connecting' | 'open' | 'reconnecting' | 'closed' = client.state;
void state;
const protocol: string = client.protocol;
void protocol;
// @ts-expect-error: the buffer policy is 'dropOldest' or 'reject'
connect('ws://x', { bufferPolicy: 'dropNewest' });
// @ts-expect-error: send takes a path first
client.send({ path: 'chat' });
client.close(1000, 'bye');
