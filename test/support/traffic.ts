import { randomUUID } from 'node:crypto';
import { sleep } from './hub-processes.js';

/** One gateway call: its HTTP status, or `conn` (refused/reset) or `hang` (no answer by the client deadline). */
export interface Sample {
  at: number;
  outcome: number | 'conn' | 'hang';
  ms: number;
}

/**
 * Paced traffic through the gateway: a request every `intervalMs`, up to `concurrency` in
 * flight. Paced rather than closed-loop so a fast-failing gateway is not hammered, and kept
 * under the demo plan's 600 requests/minute so a 429 would be a fault, not the plan.
 */
export class GatewayTraffic {
  readonly samples: Sample[] = [];
  private running = false;
  private inFlight = 0;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly intervalMs: number,
    private readonly concurrency: number,
    private readonly deadlineMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      let next = performance.now();
      while (this.running) {
        next += this.intervalMs;
        if (this.inFlight < this.concurrency) void this.one();
        await sleep(Math.max(0, next - performance.now()));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    while (this.inFlight > 0) await sleep(50);
  }

  private async one(): Promise<void> {
    this.inFlight++;
    const at = performance.now();
    let outcome: Sample['outcome'];
    try {
      const res = await fetch(this.url, {
        headers: { authorization: `Bearer ${this.token}` },
        signal: AbortSignal.timeout(this.deadlineMs),
      });
      await res.arrayBuffer();
      outcome = res.status;
    } catch (err) {
      outcome = (err as Error).name === 'TimeoutError' ? 'hang' : 'conn';
    }
    this.samples.push({ at, outcome, ms: performance.now() - at });
    this.inFlight--;
  }
}

export interface Ack {
  id: string;
  at: number;
}

/**
 * The demo publisher's event stream, one at a time every `intervalMs`; an event not
 * acknowledged (anything but 202, or no answer) is sent again with the same `ce-id` until it is,
 * as docs/broker.md asks of publishers.
 */
export class EventStream {
  readonly acked: Ack[] = [];
  /** When an attempt was not acknowledged (and so sent again). */
  readonly refusedAt: number[] = [];
  attempts = 0;
  private running = false;
  private loop: Promise<void> | null = null;

  /** `token` may be a function, for a run longer than a token's lifetime (it is called per attempt). */
  constructor(
    private readonly url: string,
    private readonly token: string | (() => string),
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      let n = 0;
      while (this.running) {
        const id = randomUUID();
        n++;
        while (this.running) {
          this.attempts++;
          if (await this.publish(id, n)) {
            this.acked.push({ id, at: performance.now() });
            break;
          }
          this.refusedAt.push(performance.now());
          await sleep(200);
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async publish(id: string, n: number): Promise<boolean> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${typeof this.token === 'string' ? this.token : this.token()}`,
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': id,
          'ce-source': '/disdukcapil/siak',
          'ce-type': 'id.go.contoh.disdukcapil.kelahiran.tercatat.v1',
          'ce-time': new Date().toISOString(),
        },
        body: JSON.stringify({
          nomorAkta: `3299-LU-FAULT-${String(n).padStart(6, '0')}`,
          tanggalLahir: '2026-11-26',
          kelurahan: 'Sukamaju',
        }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      return res.status === 202;
    } catch {
      return false;
    }
  }
}

export async function clientToken(tokenUrl: string, clientId: string, clientSecret: string): Promise<string> {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
    'base64',
  );
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    body: 'grant_type=client_credentials',
  });
  if (!res.ok) throw new Error(`token for ${clientId}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
