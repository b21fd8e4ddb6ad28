import { createRequire } from 'node:module';

interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  on(event: 'reqError', listener: (err: Error) => void): void;
  stop(): void;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  statusCodeStats: Record<string, { count: number }>;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: Record<string, unknown>,
) => AutocannonInstance;

/** How many connections the peak run keeps busy: enough to saturate one gateway process. */
const PEAK_CONNECTIONS = 50;
/** The paced run's connections: room for a slow spell at half the peak without queueing. */
const PACED_CONNECTIONS = 20;
/** A gateway answer later than this is counted as an error (`timeout`), not a latency. */
const CLIENT_TIMEOUT_SECONDS = 10;

export interface PeakResult {
  rps: number;
  requests: number;
  byStatus: Record<string, number>;
  errors: number;
}

/** Closed loop, as fast as the gateway answers: requests per second averaged over the run. */
export async function measurePeak(url: string, token: string, seconds: number): Promise<PeakResult> {
  const result = await autocannon({
    url,
    connections: PEAK_CONNECTIONS,
    duration: seconds,
    timeout: CLIENT_TIMEOUT_SECONDS,
    headers: { authorization: `Bearer ${token}` },
  });
  const byStatus: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) byStatus[status] = count;
  return { rps: result.requests.average, requests: result.requests.total, byStatus, errors: result.errors };
}

/** One sampling window of the paced run, as the client saw it. */
export interface LoadWindow {
  requests: number;
  byStatus: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Open loop at a fixed rate (autocannon `overallRate`) for the whole soak. Latencies and
 * statuses are kept only for the current window and handed over by `takeWindow()`, so the
 * harness's own memory stays flat however long it runs.
 */
export class PacedLoad {
  private latencies: number[] = [];
  private byStatus: Record<string, number> = {};
  private instance: AutocannonInstance | null = null;
  private done: Promise<AutocannonResult> | null = null;

  constructor(
    private readonly url: string,
    private readonly token: () => string,
    readonly rate: number,
  ) {}

  start(seconds: number): void {
    const instance = autocannon({
      url: this.url,
      connections: PACED_CONNECTIONS,
      overallRate: this.rate,
      duration: seconds,
      timeout: CLIENT_TIMEOUT_SECONDS,
      // The token is refreshed during the run (bench/soak/tokens.ts): set on each request.
      requests: [
        {
          setupRequest: (req: { headers?: Record<string, string> }) => ({
            ...req,
            headers: { ...req.headers, authorization: `Bearer ${this.token()}` },
          }),
        },
      ],
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      this.latencies.push(ms);
      this.count(String(status));
    });
    instance.on('reqError', (err) => this.count(/timeout/i.test(err.message) ? 'timeout' : 'conn'));
    this.instance = instance;
    this.done = Promise.resolve(instance);
  }

  private count(outcome: string): void {
    this.byStatus[outcome] = (this.byStatus[outcome] ?? 0) + 1;
  }

  takeWindow(): LoadWindow {
    const sorted = this.latencies.sort((a, b) => a - b);
    const window: LoadWindow = {
      requests: Object.values(this.byStatus).reduce((a, b) => a + b, 0),
      byStatus: this.byStatus,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? Number.NaN,
    };
    this.latencies = [];
    this.byStatus = {};
    return window;
  }

  /** Ends the run early (Ctrl-C); resolves when autocannon has. */
  async stop(): Promise<void> {
    this.instance?.stop();
    await this.done;
  }

  async finished(): Promise<void> {
    await this.done;
  }
}
