/**
 * pnpm bench:broker — the broker (publish API and one delivery worker, separate processes)
 * publishing over HTTP to a topic with three push subscriptions whose endpoints are local
 * servers (issue 4 "Speed"), beside raw BullMQ on the same Redis as the ceiling.
 *
 *   1. maximum load: 50 publishing connections, closed loop, BENCH_WARMUP s then BENCH_SECONDS s:
 *      deliveries per second, and CPU µs per delivery of the broker processes and of Redis
 *      (utime+stime from /proc/<pid>/stat across the window);
 *   2. steady load: BENCH_RATE events/s (default 1,000), open loop paced by a 1 ms timer,
 *      BENCH_WARMUP s of warm-up then BENCH_SECONDS s measured: publish-to-delivery p50/p99/max;
 *   3. raw BullMQ: Queue.add from 50 producers + a Worker of concurrency 50, no HTTP.
 *
 * Redis is started by the bench (no persistence, noeviction) on a free port, so its CPU can be
 * read; every process shares the machine's cores with the load generator.
 *
 *   BENCH_SECONDS=10 BENCH_WARMUP=3 BENCH_RATE=1000 BENCH_PROFILE=1 pnpm bench:broker
 *
 * BENCH_PROFILE=1 runs both broker processes under --cpu-prof and prints their top self time.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import {
  HubFixture,
  MASTER_KEY,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from '../../services/broker/test/helpers/hub-fixture.js';
import { summariseProfile } from '../gateway/profile-summary.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const CONNECTIONS = 50;
const PROFILE = process.env.BENCH_PROFILE === '1';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** utime+stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]!;
}

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`${url} did not become ready`);
}

function ask<T>(child: ChildProcess, msg: object, type: string): Promise<T> {
  return new Promise((ok) => {
    const on = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', on);
      ok(m as T);
    };
    child.on('message', on);
    child.send(msg);
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'spl-bench-broker-'));
  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  };
  process.on('exit', stopAll);
  try {
    const redisPort = await freePort();
    const redis = spawn(
      'redis-server',
      [
        '--port',
        String(redisPort),
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    children.push(redis);
    await sleep(300);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;

    const receivers = fork(join(here, 'receivers.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: 'inherit',
    });
    children.push(receivers);
    await new Promise((ok) => receivers.once('message', ok));
    const { ports } = await ask<{ ports: number[] }>(receivers, { type: 'ports' }, 'ports');

    const hub = await HubFixture.create();
    const topic = hub.topic({
      limits: { maxEventBytes: 8192, publishPerMinute: 10_000_000, duplicateWindowSeconds: 60 },
    });
    for (const port of ports) hub.push(topic, `http://127.0.0.1:${port}/hook`);
    const snapshotFile = join(dir, 'snapshot.json');
    writeFileSync(snapshotFile, JSON.stringify(hub.snapshot()));
    const brokerPort = await freePort();
    const env = {
      ...process.env,
      SPL_PUBLIC_URL: TEST_ISSUER,
      SPL_TOKEN_AUDIENCE: TEST_AUDIENCE,
      SPL_SNAPSHOT_FILE: snapshotFile,
      SPL_REDIS_PREFIX: 'bench',
      REDIS_URL: redisUrl,
      SPL_DATA_DIR: dir,
      SPL_EGRESS_ALLOW: '127.0.0.1',
      SPL_MASTER_KEY: MASTER_KEY.toString('base64'),
      SPL_BROKER_PORT: String(brokerPort),
      SPL_BROKER_WORKER_PORT: '-1',
      SPL_BROKER_MAX_BACKLOG: '1000000',
      SPL_LOG_LEVEL: 'warn',
    };
    const entry = (f: string) => join(root, 'services/broker/src', f);
    const profArgs = (name: string) =>
      PROFILE ? ['--cpu-prof', '--cpu-prof-dir', join(dir, 'prof', name)] : [];
    const api = spawn(process.execPath, [...profArgs('api'), '--import', 'tsx', entry('server.ts')], {
      env,
      stdio: 'inherit',
    });
    const worker = spawn(process.execPath, [...profArgs('worker'), '--import', 'tsx', entry('worker.ts')], {
      env,
      stdio: 'inherit',
    });
    children.push(api, worker);
    const base = `http://127.0.0.1:${brokerPort}`;
    await waitForHttp(`${base}/readyz`);
    await sleep(1000);

    const token = await hub.token();
    const pool = new Pool(base, { connections: CONNECTIONS, pipelining: 1 });
    const data = { nik: '3171000000000001', name: 'B'.repeat(400) };
    let seq = 0;
    const publish = async () => {
      const id = `e-${seq++}`;
      const res = await pool.request({
        path: '/v1/topics/disdukcapil/kelahiran/events',
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${token}` },
        body: `{"specversion":"1.0","id":"${id}","source":"/bench","type":"bench","data":${JSON.stringify(data).slice(0, -1)},"sentAt":${Date.now()}}}`,
      });
      await res.body.dump();
      return res.statusCode;
    };
    // The event data carries sentAt; the schema allows extra members.

    // 1. Maximum load, closed loop.
    let isRunning = true;
    let refused = 0;
    const loop = async () => {
      while (isRunning) if ((await publish()) !== 202) refused++;
    };
    const loops = Array.from({ length: CONNECTIONS }, loop);
    await sleep(WARMUP * 1000);
    await ask(receivers, { type: 'reset', measure: false }, 'reset');
    const cpu0 = {
      api: cpuSeconds(api.pid!),
      worker: cpuSeconds(worker.pid!),
      redis: cpuSeconds(redis.pid!),
    };
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const { count: delivered } = await ask<{ count: number }>(receivers, { type: 'stats' }, 'stats');
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = {
      api: cpuSeconds(api.pid!),
      worker: cpuSeconds(worker.pid!),
      redis: cpuSeconds(redis.pid!),
    };
    isRunning = false;
    await Promise.all(loops);
    const deliveriesPerSecond = delivered / elapsed;
    const us = (s: number) => ((s * 1e6) / delivered).toFixed(0);
    // Drain before the next phase.
    for (let i = 0; i < 600; i++) {
      const r = await fetch(`${base}/readyz`).then(
        (x) => x.json() as Promise<{ redis: { backlog?: number } }>,
      );
      if ((r.redis.backlog ?? 0) === 0) break;
      await sleep(100);
    }
    await sleep(2000);

    // 2. Steady open-loop load.
    const steady = async (seconds: number) => {
      const start = performance.now();
      let sent = 0;
      const inflight: Promise<unknown>[] = [];
      while (performance.now() - start < seconds * 1000) {
        const due = Math.floor(((performance.now() - start) * RATE) / 1000);
        while (sent < due) {
          inflight.push(publish().catch(() => 0));
          sent++;
        }
        await sleep(1);
        if (inflight.length > 10_000) await Promise.all(inflight.splice(0));
      }
      await Promise.all(inflight);
      return sent;
    };
    await ask(receivers, { type: 'reset', measure: false }, 'reset');
    await steady(WARMUP);
    await ask(receivers, { type: 'reset', measure: true }, 'reset');
    const sentSteady = await steady(SECONDS);
    await sleep(2000);
    const { latencies, count: steadyDelivered } = await ask<{ latencies: number[]; count: number }>(
      receivers,
      { type: 'stats' },
      'stats',
    );
    const sorted = latencies.sort((a, b) => a - b);
    await pool.close();

    // 3. Raw BullMQ on the same Redis.
    const raw = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'raw-bullmq.ts')], {
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        BENCH_SECONDS: String(SECONDS),
        BENCH_WARMUP: String(WARMUP),
      },
    }).toString();
    const { jobsPerSecond } = JSON.parse(raw.trim().split('\n').at(-1)!) as { jobsPerSecond: number };

    const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
    console.log(
      `\nbroker bench — ${cpus().length} vCPU, ${SECONDS} s measured after ${WARMUP} s warm-up, 3 push subscriptions\n`,
    );
    console.log(row(['measure', 'value']));
    console.log(row(['---', '---']));
    console.log(row(['deliveries/s at maximum load (50 connections)', deliveriesPerSecond.toFixed(0)]));
    console.log(row(['raw BullMQ jobs/s (add + worker, concurrency 50)', jobsPerSecond.toFixed(0)]));
    console.log(row(['deliveries ÷ raw jobs', (deliveriesPerSecond / jobsPerSecond).toFixed(2)]));
    console.log(row(['publishes refused at maximum load', refused]));
    console.log(row(['CPU µs per delivery: publish API', us(cpu1.api - cpu0.api)]));
    console.log(row(['CPU µs per delivery: worker', us(cpu1.worker - cpu0.worker)]));
    console.log(row(['CPU µs per delivery: Redis', us(cpu1.redis - cpu0.redis)]));
    console.log(
      row([`steady ${RATE}/s: events sent / deliveries seen`, `${sentSteady} / ${steadyDelivered}`]),
    );
    console.log(row([`steady ${RATE}/s: publish-to-delivery p50`, `${percentile(sorted, 0.5)} ms`]));
    console.log(row([`steady ${RATE}/s: publish-to-delivery p99`, `${percentile(sorted, 0.99)} ms`]));
    console.log(row([`steady ${RATE}/s: publish-to-delivery max`, `${sorted.at(-1)} ms`]));
    if (PROFILE) {
      for (const [name, child] of [
        ['api', api],
        ['worker', worker],
      ] as const) {
        const exited = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGINT');
        await exited;
        // One profile per thread (tsx's loader runs in its own); the main thread's is the largest.
        const profDir = join(dir, 'prof', name);
        const main = readdirSync(profDir)
          .map((f) => join(profDir, f))
          .sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
        console.log(`\n${name} (whole run, self time):\n${summariseProfile(main, 20)}`);
      }
    }
  } finally {
    stopAll();
    await rm(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

await main();
