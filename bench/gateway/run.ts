/**
 * pnpm bench:gateway — the gateway with every policy on, side by side with the upstream hit
 * directly, nginx (1 worker, keepalive 64, no access log) and @fastify/http-proxy (issue 3,
 * "Speed"; method of /work/shared/notes/gateway-hot-path.md).
 *
 * wrk -t1 -c50, 3 s warm-up then 10 s, two rounds interleaved; POST of a 202-byte JSON body
 * with a bearer token taken in turn from a few hundred distinct tokens. CPU per request is the
 * proxy process's utime+stime from /proc/<pid>/stat across the 10 s run, divided by requests.
 *
 *   BENCH_ROUNDS=2 BENCH_SECONDS=10 BENCH_WARMUP=3 BENCH_PROFILE=1 BENCH_ONLY=spl pnpm bench:gateway
 *
 * BENCH_PROFILE=1 runs the gateway under --cpu-prof for one extra 10 s run and prints the top
 * self-time functions (bench/gateway/profile-summary.ts).
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HubFixture,
  MASTER_KEY,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from '../../services/gateway/test/helpers/hub-fixture.js';
import { summariseProfile } from './profile-summary.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const TOKENS = Number(process.env.BENCH_TOKENS_COUNT ?? 300);
const PROFILE = process.env.BENCH_PROFILE === '1';
/** BENCH_PACED=0 skips the fixed-rate latency runs. */
const PACED = process.env.BENCH_PACED !== '0';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function which(cmd: string): string | null {
  try {
    return (
      execFileSync('sh', ['-c', `command -v ${cmd}`])
        .toString()
        .trim() || null
    );
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.on('error', ko);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

async function waitFor(url: string, init: RequestInit = {}, expect = 200, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      if (res.status === expect) return;
      last = `${res.status} ${text.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready: ${last}`);
}

/** utime+stime of the process and its children's threads (nginx: master + workers), µs. */
function cpuMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of stat(5)
  }
  return (ticks * 1e6) / CLK_TCK;
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const f = `/proc/${pid}/task/${task}/children`;
    if (existsSync(f)) out.push(...readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: string;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

function runWrk(url: string, seconds: number, env: NodeJS.ProcessEnv): Promise<WrkResult> {
  return new Promise((ok, ko) => {
    const p = spawn('wrk', ['-t1', '-c50', `-d${seconds}s`, '--latency', '-s', join(here, 'post.lua'), url], {
      env,
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', ko);
    p.on('close', () => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
      const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
      const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
      const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
      const errs = [/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[0], /Socket errors:.*/.exec(out)?.[0]]
        .filter(Boolean)
        .join('; ');
      if (!Number.isFinite(rps)) return ko(new Error(`wrk output not understood:\n${out}`));
      ok({ rps, p50, p99, requests, errors: errs });
    });
  });
}

interface PacedResult {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
}

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: Record<string, unknown>,
) => Promise<AutocannonResult>;

/**
 * Latency at a fixed rate (open loop): autocannon paces `rate` requests a second over 50
 * connections and corrects for coordinated omission (a late answer counts from when the
 * request should have been sent), as wrk2 does. Tokens rotate as in post.lua.
 */
async function runPaced(
  url: string,
  rate: number,
  seconds: number,
  tokens: string[],
  body: string,
): Promise<PacedResult> {
  let i = 0;
  const r = await autocannon({
    url,
    connections: 50,
    overallRate: rate,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    requests: [
      {
        setupRequest: (req: { headers: Record<string, string> }) => {
          req.headers = { ...req.headers, authorization: `Bearer ${tokens[i++ % tokens.length]}` };
          return req;
        },
      },
    ],
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

interface Target {
  name: string;
  url: string;
  pids: () => number[];
}

const procs: ChildProcess[] = [];
let nginxPrefix: string | null = null;
let nginxConf = '';

function startNode(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: 'ignore' | 'inherit' = 'inherit',
  execArgv: string[] = [],
) {
  const p = fork(file, args, {
    cwd: root,
    env,
    execArgv: ['--import', 'tsx', ...execArgv],
    stdio: ['ignore', out, 'inherit', 'ipc'],
  });
  procs.push(p);
  return p;
}

async function main(): Promise<void> {
  const hasWrk = which('wrk');
  const hasNginx = which('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null);
  if (!hasWrk) {
    console.log(
      'wrk is missing: nothing can be measured (scripts/install-bench-tools.sh installs it). Skipping.',
    );
    return;
  }
  if (!hasNginx)
    console.log('nginx is missing: its row is skipped (scripts/install-bench-tools.sh installs it).');

  const work = await mkdtemp(join(tmpdir(), 'spl-bench-gateway-'));
  try {
    const [upPort, gwPort, fpPort, ngPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const upstreamUrl = `http://127.0.0.1:${upPort}`;

    // The snapshot: one published route validating its body, the bench application subscribed.
    const hub = await HubFixture.create();
    hub.openapi = { h1: benchOpenapi };
    const route = hub.route({
      api: 'bench',
      version: 'v1',
      urls: [upstreamUrl],
      methods: ['POST'],
      openapiHash: 'h1',
      plan: { requestsPerMinute: 1_000_000_000, bodyLimitBytes: 1024 },
    });
    route.upstreamAuth = hub.headerAuth(route.id, 'x-api-key', 'bench-upstream-secret');
    hub.subscribe('app-portal', 'bench', 'v1');
    const snapshotFile = join(work, 'snapshot.json');
    writeFileSync(snapshotFile, JSON.stringify(hub.snapshot()));
    const tokens = await Promise.all(
      Array.from({ length: TOKENS }, () => hub.token('portal-client', { lifetimeSeconds: 3600 })),
    );
    const tokensFile = join(work, 'tokens.txt');
    writeFileSync(tokensFile, `${tokens.join('\n')}\n`);
    const body = JSON.stringify({
      nik: '3299010101850001',
      nama: 'Siti Aminah binti Abdullah Rahman Wijayakusuma Pratiwi Sulistyaningrum',
      tanggalLahir: '1985-01-01',
    }).padEnd(202, ' ');
    const bodyFile = join(work, 'body.json');
    writeFileSync(bodyFile, body);
    const wrkEnv = { ...process.env, BENCH_TOKENS: tokensFile, BENCH_BODY: bodyFile };
    const post: RequestInit = {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` },
      body,
    };

    const upstream = startNode(join(here, 'upstream.ts'), [String(upPort)]);
    await waitFor(`${upstreamUrl}/verifikasi`, post);

    const gatewayEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
      ...process.env,
      SPL_MODE: 'development',
      SPL_HOST: '127.0.0.1',
      SPL_GATEWAY_PORT: String(gwPort),
      SPL_PUBLIC_URL: TEST_ISSUER,
      SPL_TOKEN_AUDIENCE: TEST_AUDIENCE,
      SPL_SNAPSHOT_FILE: snapshotFile,
      SPL_SNAPSHOT_POLL_SECONDS: '0',
      SPL_DATA_DIR: join(work, 'data'),
      SPL_MASTER_KEY: MASTER_KEY.toString('base64'),
      SPL_EGRESS_ALLOW: '127.0.0.1',
      SPL_LOG_LEVEL: 'warn',
      SPL_REDIS_PREFIX: `bench-${randomBytes(5).toString('hex')}`,
      // Every wrk connection comes from 127.0.0.1: the per-IP flood guard stays on but wide.
      SPL_FLOOD_PER_SECOND: '10000000',
      SPL_FLOOD_BURST: '10000000',
      ...extra,
    });
    const gwUrl = `http://127.0.0.1:${gwPort}/dinkes/bench/v1/verifikasi`;
    const startGateway = async (execArgv: string[] = []) => {
      // stdout (the access log) to /dev/null so a terminal is never the bottleneck.
      const gw = startNode(
        join(root, 'services/gateway/src/server.ts'),
        [],
        gatewayEnv(),
        'ignore',
        execArgv,
      );
      await waitFor(gwUrl, post);
      return gw;
    };
    const gateway = await startGateway();

    const fproxy = startNode(join(here, 'fastify-proxy.ts'), [String(fpPort), upstreamUrl]);
    await waitFor(`http://127.0.0.1:${fpPort}/verifikasi`, post);

    let nginxPid = 0;
    if (hasNginx) {
      nginxPrefix = join(work, 'nginx');
      execFileSync('mkdir', ['-p', join(nginxPrefix, 'logs'), join(nginxPrefix, 'tmp')]);
      nginxConf = join(nginxPrefix, 'nginx.conf');
      writeFileSync(
        nginxConf,
        `worker_processes 1;
daemon off;
pid ${nginxPrefix}/nginx.pid;
error_log ${nginxPrefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${nginxPrefix}/tmp/body;
  proxy_temp_path ${nginxPrefix}/tmp/proxy;
  fastcgi_temp_path ${nginxPrefix}/tmp/fastcgi;
  uwsgi_temp_path ${nginxPrefix}/tmp/uwsgi;
  scgi_temp_path ${nginxPrefix}/tmp/scgi;
  upstream up { server 127.0.0.1:${upPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${ngPort};
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
      );
      const ng = spawn(hasNginx, ['-p', nginxPrefix, '-c', nginxConf], { stdio: 'inherit' });
      procs.push(ng);
      nginxPid = ng.pid ?? 0;
      await waitFor(`http://127.0.0.1:${ngPort}/verifikasi`, post);
    }

    const targets: Target[] = [
      {
        name: 'upstream direct (node:http)',
        url: `${upstreamUrl}/verifikasi`,
        pids: () => [upstream.pid ?? 0],
      },
      ...(hasNginx
        ? [
            {
              name: 'nginx (1 worker, keepalive 64)',
              url: `http://127.0.0.1:${ngPort}/verifikasi`,
              pids: () => [nginxPid, ...childPids(nginxPid)],
            },
          ]
        : []),
      {
        name: '@fastify/http-proxy',
        url: `http://127.0.0.1:${fpPort}/verifikasi`,
        pids: () => [fproxy.pid ?? 0],
      },
      {
        name: 'SPL gateway, all policies',
        url: gwUrl,
        // With SPL_GATEWAY_WORKERS > 1 the workers are the primary's children.
        pids: () => [gateway.pid ?? 0, ...childPids(gateway.pid ?? 0)],
      },
    ];

    // BENCH_ONLY=spl,fastify (substrings of the target names, case-insensitive) measures only those.
    const only = process.env.BENCH_ONLY?.toLowerCase().split(',');
    if (only)
      targets.splice(
        0,
        targets.length,
        ...targets.filter((t) => only.some((o) => t.name.toLowerCase().includes(o))),
      );
    const results = new Map<string, (WrkResult & { cpuUs: number })[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of targets) {
        await runWrk(t.url, WARMUP, wrkEnv);
        const before = cpuMicros(t.pids());
        const r = await runWrk(t.url, SECONDS, wrkEnv);
        const cpuUs = (cpuMicros(t.pids()) - before) / r.requests;
        console.log(
          `round ${round} ${t.name.padEnd(32)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ${cpuUs.toFixed(1)} µs/req${r.errors ? `  !! ${r.errors}` : ''}`,
        );
        results.set(t.name, [...(results.get(t.name) ?? []), { ...r, cpuUs }]);
      }
    }

    if (ROUNDS > 0) {
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const summary = targets.map((t) => {
        const rs = results.get(t.name) ?? [];
        return {
          name: t.name,
          rps: mean(rs.map((r) => r.rps)),
          rounds: rs.map((r) => r.rps.toFixed(0)).join(' / '),
          p50: mean(rs.map((r) => r.p50)),
          p99: mean(rs.map((r) => r.p99)),
          cpu: mean(rs.map((r) => r.cpuUs)),
          errors: rs
            .map((r) => r.errors)
            .filter(Boolean)
            .join('; '),
        };
      });
      const fp = summary.find((s) => s.name === '@fastify/http-proxy');
      const ng = summary.find((s) => s.name.startsWith('nginx'));
      const lines = [
        `| target | req/s (mean; rounds) | p50 / p99 ms | proxy CPU µs/req | × @fastify/http-proxy | × nginx |`,
        `|---|---|---|---|---|---|`,
        ...summary.map(
          (s) =>
            `| ${s.name} | ${s.rps.toFixed(0)} (${s.rounds}) | ${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} | ${s.name.startsWith('upstream') ? `(${s.cpu.toFixed(1)}, upstream)` : s.cpu.toFixed(1)} | ${fp ? (s.rps / fp.rps).toFixed(2) : '–'} | ${ng ? (s.rps / ng.rps).toFixed(2) : 'skipped'} |`,
        ),
      ];
      console.log(
        `\n${machine()}\nwrk -t1 -c50, ${WARMUP} s warm-up + ${SECONDS} s, ${ROUNDS} rounds interleaved, ${TOKENS} distinct tokens\n`,
      );
      console.log(lines.join('\n'));
      for (const s of summary) if (s.errors) console.log(`!! ${s.name}: ${s.errors}`);
      const gw = summary.find((s) => s.name.startsWith('SPL gateway'));
      if (gw && fp)
        console.log(
          `\ntargets: throughput ≥ 1.2× @fastify/http-proxy: ${(gw.rps / fp.rps).toFixed(2)}× ${gw.rps / fp.rps >= 1.2 ? 'MET' : 'MISSED'}; gateway CPU ≤ 120 µs/req: ${gw.cpu.toFixed(1)} µs ${gw.cpu <= 120 ? 'MET' : 'MISSED'}`,
        );
    }
    // Latency at a fixed rate: half the SPL gateway's peak, the same rate for every target.
    const gwRounds = [...results.entries()].find(([name]) => name.startsWith('SPL gateway'))?.[1];
    if (PACED && gwRounds?.length) {
      const rate = Math.round(gwRounds.reduce((a, r) => a + r.rps, 0) / gwRounds.length / 2);
      const lines = [
        `| target | rate asked | req/s | p50 / p99 / max ms | non-2xx / errors |`,
        `|---|---|---|---|---|`,
      ];
      for (const t of targets) {
        if (t.name.startsWith('upstream')) continue;
        await runPaced(t.url, rate, WARMUP, tokens, body);
        const r = await runPaced(t.url, rate, SECONDS, tokens, body);
        console.log(
          `paced ${t.name.padEnd(32)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  max ${r.max} ms`,
        );
        lines.push(
          `| ${t.name} | ${rate}/s | ${r.rps.toFixed(0)} | ${r.p50} / ${r.p99} / ${r.max} | ${r.non2xx} / ${r.errors} |`,
        );
      }
      console.log(
        `\nopen loop (autocannon --overallRate, 50 connections, coordinated omission corrected), ${SECONDS} s after ${WARMUP} s:\n`,
      );
      console.log(lines.join('\n'));
    }
    if (PROFILE) {
      gateway.kill('SIGTERM');
      await new Promise((r) => gateway.once('exit', r));
      const profDir = join(root, 'bench/gateway/profiles');
      const prof = await startGateway(['--cpu-prof', `--cpu-prof-dir=${profDir}`]); // not allowed in NODE_OPTIONS on Node 20;
      await runWrk(gwUrl, WARMUP, wrkEnv);
      const r = await runWrk(gwUrl, SECONDS, wrkEnv);
      console.log(`\nprofiled run: ${r.rps.toFixed(0)} req/s (profiler overhead included)`);
      prof.kill('SIGTERM');
      await new Promise((res) => prof.once('exit', res));
      const files = readdirSync(profDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort();
      const latest = files.at(-1);
      if (latest) {
        console.log(`profile: ${join(profDir, latest)}`);
        console.log(summariseProfile(join(profDir, latest), 25));
      }
    }
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await rm(work, { recursive: true, force: true });
  }
}

function machine(): string {
  const c = cpus();
  let kernel = '';
  try {
    kernel = execFileSync('uname', ['-sr']).toString().trim();
  } catch {}
  return `machine: ${c.length} × ${c[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${kernel}, node ${process.version}`;
}

const benchOpenapi = {
  openapi: '3.1.0',
  info: { title: 'Bench verifikasi', version: 'v1' },
  paths: {
    '/verifikasi': {
      post: {
        operationId: 'verifikasiNik',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['nik', 'nama'],
                additionalProperties: false,
                properties: {
                  nik: { type: 'string', pattern: '^[0-9]{16}$' },
                  nama: { type: 'string', minLength: 1, maxLength: 200 },
                  tanggalLahir: { type: 'string', format: 'date' },
                },
              },
            },
          },
        },
        responses: { '200': { description: 'Hasil verifikasi' } },
      },
    },
  },
};

await main();
