/**
 * The ceiling: raw BullMQ on the same Redis — `Queue.add` from 50 concurrent producers and a
 * `Worker` with the broker's concurrency (50) running together, no HTTP, no-op jobs. Prints
 * completed jobs per second over the measured window, as JSON on stdout.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const url = process.env.REDIS_URL!;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const warmup = Number(process.env.BENCH_WARMUP ?? 3);
const prefix = `bench-raw-${process.pid}`;
const connection = new Redis(url, { maxRetriesPerRequest: null });
const queue = new Queue('raw', { connection, prefix });
const data = { payload: 'x'.repeat(500) };
let completed = 0;
const worker = new Worker('raw', async () => 'ok', {
  connection: new Redis(url, { maxRetriesPerRequest: null }),
  prefix,
  concurrency: 50,
});
worker.on('completed', () => completed++);
let isRunning = true;
const producers = Array.from({ length: 50 }, async () => {
  while (isRunning) await queue.add('job', data, { removeOnComplete: 1000, removeOnFail: 1000 });
});
await new Promise((r) => setTimeout(r, warmup * 1000));
const start = completed;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const jobs = completed - start;
const elapsed = (performance.now() - t0) / 1000;
isRunning = false;
await Promise.all(producers);
await worker.close();
await queue.obliterate({ force: true }).catch(() => {});
await queue.close();
process.stdout.write(`${JSON.stringify({ jobsPerSecond: jobs / elapsed })}\n`);
process.exit(0);
