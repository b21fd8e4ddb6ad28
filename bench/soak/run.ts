/**
 * pnpm soak — the whole hub for an hour (SPL_SOAK_MINUTES or --minutes N) at half its measured
 * peak rate, sampling memory, event-loop delay and errors; a leak or a drift fails it (exit 1).
 * Issue 6 §2; docs/soak.md. Not part of `pnpm test` or CI.
 *
 *   1. The hub as four processes with the demo loaded, a redis-server of its own and a stand-in
 *      upstream + webhook receiver on free ports (bench/soak/hub.ts).
 *   2. A steady event stream through the broker to the stand-in's webhook receiver starts and
 *      runs to the end; peak: closed-loop gateway GETs through the demo consumer's token for
 *      PEAK_SECONDS beside it (the hub's peak with its broker busy, which is what the soak runs).
 *   3. The soak: paced GETs at 50 % of the peak; every SAMPLE_SECONDS each service's /metrics
 *      and Redis's memory, every WINDOW_SECONDS a window of client latencies and statuses.
 *   4. The verdict (bench/soak/verdict.ts), a summary table, soak-report.{json,md} in a temp dir.
 *
 * SPL_SOAK_KEEP_STATE=1 keeps the hub's state folder (service logs in logs/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sleep } from '../../test/support/hub-processes.js';
import { EventStream } from '../../test/support/traffic.js';
import { type SoakHub, startSoakHub } from './hub.js';
import { measurePeak, PacedLoad } from './load.js';
import { renderSummary, type SoakReport, writeReport } from './report.js';
import { type HubSample, HubSampler } from './sampling.js';
import { TokenSource } from './tokens.js';
import { judge, type TimedWindow } from './verdict.js';

/** The gateway warmed (JIT, token cache, upstream connections) before the peak is measured. */
const PEAK_WARMUP_SECONDS = 5;
const PEAK_SECONDS = 20;
/** Half the peak: loaded, with headroom, as the issue asks. */
const SOAK_FRACTION = 0.5;
/** Memory and event-loop scrapes: often enough that each minute's lowest heap is near its GC floor. */
const SAMPLE_SECONDS = 2;
/** Client latency percentiles and statuses per window. */
const WINDOW_SECONDS = 10;
/** The publisher sends its next event this long after the last one was acknowledged (≤ 10/s). */
const EVENT_INTERVAL_MS = 100;
/** How long an acknowledged event may take to arrive after the run before it counts as lost. */
const DRAIN_MS = 30_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

function soakMinutes(): number {
  const { values } = parseArgs({ options: { minutes: { type: 'string' } }, strict: true });
  const minutes = Number(values.minutes ?? process.env.SPL_SOAK_MINUTES ?? 60);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`not a number of minutes: ${minutes}`);
  return minutes;
}

let interrupted = false;
let load: PacedLoad | null = null;

process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  say('\nSIGINT: stopping the load, then the hub (Ctrl-C again does not hurry it)');
  void load?.stop();
});

async function soak(minutes: number, hub: SoakHub): Promise<SoakReport> {
  const startedAt = new Date().toISOString();
  const { gatewayUrl } = hub.hub;
  const tokenUrl = `${gatewayUrl}/oauth2/token`;
  const { consumer, publisher } = hub.hub.demo;
  const consumerToken = await new TokenSource(tokenUrl, consumer.clientId, consumer.clientSecret).start();
  const publisherToken = await new TokenSource(tokenUrl, publisher.clientId, publisher.clientSecret).start();
  const sampler = new HubSampler(
    {
      registry: `${hub.hub.registryUrl}/metrics`,
      gateway: `${gatewayUrl}/metrics`,
      'broker-api': `${hub.hub.brokerUrl}/metrics`,
      'broker-worker': `${hub.hub.brokerWorkerUrl}/metrics`,
    },
    hub.hub.redis.url,
  );
  const events = new EventStream(hub.publishUrl, () => publisherToken.current, EVENT_INTERVAL_MS);
  try {
    events.start();
    say(`· peak: ${PEAK_WARMUP_SECONDS} s warm-up, then ${PEAK_SECONDS} s closed loop (events flowing)`);
    await measurePeak(hub.consumerUrl, consumerToken.current, PEAK_WARMUP_SECONDS);
    const peak = await measurePeak(hub.consumerUrl, consumerToken.current, PEAK_SECONDS);
    const rate = Math.max(1, Math.round(peak.rps * SOAK_FRACTION));
    say(`  ${Math.round(peak.rps)} req/s (${JSON.stringify(peak.byStatus)}, ${peak.errors} errors)`);
    say(`· soak: ${minutes} min at ${rate} req/s, events every ${EVENT_INTERVAL_MS} ms after each ack`);
    await sleep(5000); // let the peak's backlog (usage records, evidence log) settle

    load = new PacedLoad(hub.consumerUrl, () => consumerToken.current, rate);
    const windows: TimedWindow[] = [];
    const samples: HubSample[] = [];
    const seconds = Math.round(minutes * 60);
    const t0 = performance.now();
    load.start(seconds);
    samples.push(await sampler.sample(0));
    const perWindow = WINDOW_SECONDS / SAMPLE_SECONDS;
    for (let tick = 1; tick * SAMPLE_SECONDS <= seconds && !interrupted; tick++) {
      await sleep(t0 + tick * SAMPLE_SECONDS * 1000 - performance.now());
      // Ctrl-C reaches the services too: what they answer from now on is their shutdown.
      if (interrupted) break;
      const t = (performance.now() - t0) / 1000;
      const sample = await sampler.sample(t);
      samples.push(sample);
      if (tick % perWindow !== 0) continue;
      const window = { t, ...load.takeWindow() };
      windows.push(window);
      const gw = sample.services.gateway;
      say(
        `  ${String(Math.round(t)).padStart(5)} s  ${String(window.requests).padStart(6)} req  p50 ${window.p50Ms.toFixed(1)} p99 ${window.p99Ms.toFixed(1)} ms  ` +
          `gateway rss ${gw ? (gw.rssBytes / 2 ** 20).toFixed(0) : '?'} MiB heap ${gw ? (gw.heapUsedBytes / 2 ** 20).toFixed(0) : '?'} MiB  ` +
          `events ${events.acked.length}/${hub.standIn.delivered.size}  ${JSON.stringify(window.byStatus)}`,
      );
    }
    await (interrupted ? load.stop() : load.finished());
    await events.stop();
    say(`· draining: events acknowledged but not yet delivered get ${DRAIN_MS / 1000} s`);
    const drainStart = performance.now();
    while (
      events.acked.some((a) => !hub.standIn.delivered.has(a.id)) &&
      performance.now() - drainStart < DRAIN_MS
    )
      await sleep(200);

    const delivered = events.acked.filter((a) => hub.standIn.delivered.has(a.id)).length;
    const eventCounts = {
      published: events.acked.length,
      attempts: events.attempts,
      publishRetries: events.refusedAt.length,
      webhookRefusals: hub.standIn.webhookRefusals,
      delivered,
      lost: events.acked.length - delivered,
      duplicated: events.acked.reduce(
        (n, a) => n + Math.max(0, (hub.standIn.delivered.get(a.id) ?? 0) - 1),
        0,
      ),
    };
    const ranSeconds = windows.at(-1)?.t ?? 0;
    // Over the windows, so a run stopped early is not credited with requests after its last one.
    const requests = windows.reduce((n, w) => n + w.requests, 0);
    const queueDepths = samples.flatMap((s) => Object.values(s.services).map((p) => p?.queueDepth ?? 0));
    return {
      startedAt,
      minutes: Math.round((ranSeconds / 60) * 10) / 10,
      peak,
      soakRate: rate,
      achievedRate: ranSeconds > 0 ? requests / ranSeconds : 0,
      requests,
      events: eventCounts,
      tokenRefreshFailures: consumerToken.refreshFailures + publisherToken.refreshFailures,
      redisUsedBytes: {
        start: samples[0]?.redisUsedBytes ?? null,
        end: samples.at(-1)?.redisUsedBytes ?? null,
      },
      queueDepthMax: Math.max(0, ...queueDepths),
      verdict: judge(samples, windows, eventCounts, ranSeconds),
      windows,
      samples,
    };
  } finally {
    await events.stop();
    consumerToken.stop();
    publisherToken.stop();
    sampler.close();
  }
}

async function main(): Promise<number> {
  const minutes = soakMinutes();
  const state = mkdtempSync(join(tmpdir(), 'spl-soak-'));
  let hub: SoakHub | null = null;
  try {
    say(`· starting the hub (state and service logs in ${state})`);
    hub = await startSoakHub(state);
    say(
      `  gateway ${hub.hub.gatewayUrl}, registry ${hub.hub.registryUrl}, broker ${hub.hub.brokerUrl}, ` +
        `redis ${hub.hub.redis.url}, stand-in upstream :${hub.standIn.port}`,
    );
    const report = await soak(minutes, hub);
    const reportDir = mkdtempSync(join(tmpdir(), 'spl-soak-report-'));
    const files = writeReport(reportDir, report);
    say(`\n${renderSummary(report)}`);
    say(`report: ${files.markdown} and ${files.json}`);
    if (interrupted) say('interrupted: the figures cover only the part that ran');
    return report.verdict.failures.length > 0 || interrupted ? 1 : 0;
  } finally {
    await hub?.hub.stop();
    await hub?.standIn.refuse();
    if (process.env.SPL_SOAK_KEEP_STATE === '1') say(`state kept in ${state}`);
    else rmSync(state, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${(err as Error).stack ?? err}\n`);
    process.exit(2);
  },
);
