/**
 * Three webhook receivers in their own process (so their CPU is not the broker's or the load
 * generator's). Each answers 204 and records publish-to-delivery latency from the `sentAt`
 * the bench put in the event data. The parent asks over IPC: `ports`, `reset`, `stats`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let count = 0;
let latencies: number[] = [];
let isMeasuring = false;

const servers = await Promise.all(
  [0, 1, 2].map(
    () =>
      new Promise<number>((ok) => {
        const server = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            count++;
            if (isMeasuring) {
              const body = Buffer.concat(chunks).toString();
              const at = body.indexOf('"sentAt":');
              if (at >= 0) latencies.push(Date.now() - Number.parseInt(body.slice(at + 9), 10));
            }
            res.writeHead(204).end();
          });
        });
        server.keepAliveTimeout = 60_000;
        server.listen(0, '127.0.0.1', () => ok((server.address() as AddressInfo).port));
      }),
  ),
);

process.on('message', (msg: { type: string; measure?: boolean }) => {
  if (msg.type === 'ports') process.send?.({ type: 'ports', ports: servers });
  else if (msg.type === 'reset') {
    count = 0;
    latencies = [];
    isMeasuring = Boolean(msg.measure);
    process.send?.({ type: 'reset' });
  } else if (msg.type === 'stats') process.send?.({ type: 'stats', count, latencies });
});
process.send?.({ type: 'ready' });
