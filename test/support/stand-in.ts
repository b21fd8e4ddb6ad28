import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sleep } from './hub-processes.js';

/**
 * What answers at the demo upstream's address (127.0.0.1:8090 in demo/hub.yaml, or the port
 * scripts/start.ts was given) while a suite runs: the demo API's `/status` and the demo
 * subscription's webhook receiver, in a process of the suite's own so faults can be switched
 * on and every delivery counted.
 *
 *   normal  — `/status` answers 200 at once; webhooks 204
 *   hang    — `/status` never answers (the gateway's timeout must)
 *   slow    — `/status` answers after `slowMs`
 *   flap    — webhooks alternate 503 / 204 every `flapMs`
 *   refuse  — call `refuse()`: the listener closes, connections are refused
 */
export type StandInMode = 'normal' | 'hang' | 'slow' | 'flap';

export class StandIn {
  mode: StandInMode = 'normal';
  slowMs = 1500;
  flapMs = 1000;
  /** Event id → how many times it was POSTed and answered 2xx. */
  readonly delivered = new Map<string, number>();
  webhookRefusals = 0;
  private server: Server | null = null;
  private hung = new Set<ServerResponse>();

  constructor(readonly port: number) {}

  async listen(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(this.port, '127.0.0.1', () => ok());
    });
    this.server = server;
  }

  /** Listens as soon as the port is free (the demo upstream scripts/start.ts ran may still hold it). */
  async listenWhenFree(timeoutMs = 10_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      try {
        return await this.listen();
      } catch (err) {
        if (performance.now() > until) throw err;
        await sleep(100);
      }
    }
  }

  /** Stop accepting and cut every open connection: the next connect is refused. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    this.releaseHung();
    const closed = new Promise((ok) => server.close(ok));
    server.closeAllConnections();
    await closed;
  }

  setMode(mode: StandInMode): void {
    if (this.mode === 'hang' && mode !== 'hang') this.releaseHung();
    this.mode = mode;
  }

  private releaseHung(): void {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'POST' && req.url?.startsWith('/webhooks/kelahiran')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.mode === 'flap' && Math.floor(Date.now() / this.flapMs) % 2 === 0) {
          this.webhookRefusals++;
          res.writeHead(503, { 'retry-after': '1' }).end();
          return;
        }
        try {
          const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id;
          this.delivered.set(id, (this.delivered.get(id) ?? 0) + 1);
        } catch {
          // an undecodable delivery is not counted as delivered
        }
        res.writeHead(204).end();
      });
      return;
    }
    const body = JSON.stringify({ status: 'ok', layanan: 'kependudukan', versi: 'v1' });
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    if (this.mode === 'hang') {
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      return;
    }
    if (this.mode === 'slow') {
      setTimeout(answer, this.slowMs);
      return;
    }
    answer();
  }
}
