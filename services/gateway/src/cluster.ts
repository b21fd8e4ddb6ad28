import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * SPL_GATEWAY_WORKERS > 1: the primary forks that many gateway workers on one port
 * (node:cluster hands connections out round-robin), restarts a worker that dies, and on
 * SIGTERM/SIGINT asks every worker to drain and waits for them.
 *
 * Each worker is a whole gateway: its own snapshot client, evidence chain (one per process,
 * never shared), usage records and rate-limit leases — so the rate limit's bound counts
 * workers as instances (docs/gateway.md). Prometheus scrapes one port and must see every
 * worker: a worker answering /metrics asks the primary, which gathers all workers' registries
 * with prom-client's AggregatorRegistry (counters and histograms summed, gauges by their
 * `aggregator`).
 */

const METRICS_REQUEST = 'spl:cluster-metrics-request';
const METRICS_RESPONSE = 'spl:cluster-metrics-response';

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

export function workerCount(configured: number): number {
  return configured === 0 ? availableParallelism() : configured;
}

/** Runs the primary: forks, restarts, shuts down, and answers the workers' metrics requests. */
export function runClusterPrimary(
  workers: number,
  log: (message: string) => void = (m) => process.stderr.write(`gateway: ${m}\n`),
): void {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let lastRestart = 0;

  cluster.on('message', (worker: Worker, message: unknown) => {
    const m = message as Partial<MetricsRequest> | null;
    if (m?.type !== METRICS_REQUEST || typeof m.id !== 'number') return;
    const id = m.id;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_RESPONSE, id, text } satisfies MetricsResponse),
      (err: Error) =>
        worker.send({ type: METRICS_RESPONSE, id, error: err.message } satisfies MetricsResponse),
    );
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    // A worker that dies at once (bad config) must not spin the CPU: at most one restart a second.
    const wait = Math.max(0, lastRestart + 1000 - Date.now());
    lastRestart = Date.now() + wait;
    setTimeout(() => cluster.fork(), wait);
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {});
    if (alive.length === 0) process.exit(0);
    for (const w of alive) w?.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < workers; i++) cluster.fork();
  log(`primary ${process.pid} started ${workers} workers`);
}

/**
 * In a worker: registers the worker's registry for aggregation and returns what /metrics
 * should serve — every worker's metrics, gathered by the primary. Outside a cluster, null.
 */
export function clusterMetricsSource(registry: Registry, timeoutMs = 5000): (() => Promise<string>) | null {
  if (!cluster.isWorker) return null;
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs prom-client's listener that answers the primary's requests.
  new AggregatorRegistry();
  let nextId = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  process.on('message', (message: unknown) => {
    const m = message as Partial<MetricsResponse> | null;
    if (m?.type !== METRICS_RESPONSE || typeof m.id !== 'number') return;
    const waiter = pending.get(m.id);
    if (!waiter) return;
    pending.delete(m.id);
    if (typeof m.text === 'string') waiter.resolve(m.text);
    else waiter.reject(new Error(`the cluster's metrics could not be gathered: ${m.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the cluster primary did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}
