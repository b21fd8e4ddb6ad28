import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnRedis } from '../../services/broker/test/helpers/own-redis.js';
import { OwnPostgres } from '../../services/registry/test/helpers/own-postgres.js';
import { DemoHub } from '../support/demo-hub.js';
import { freePort, type HubProcess, isPortFree, sleep, waitUntil } from '../support/hub-processes.js';
import { type ProbeAnswer, RegistryProbe } from '../support/registry-probe.js';
import { StandIn } from '../support/stand-in.js';
import { clientToken, EventStream, GatewayTraffic, type Sample } from '../support/traffic.js';

/**
 * The whole hub as real processes under steady traffic while faults are injected one after
 * another (issue 6 §1). The hub runs as test/support/demo-hub.ts starts it: `scripts/start.ts`
 * loads the demo through its approval gates on free ports, a Redis, a PostgreSQL and a state
 * folder of the suite's own; then every service is started again as its own process so each
 * can be SIGKILLed and restarted alone.
 *
 *   paced client ──► gateway ──► stand-in :8090 (/status)          registry ──► PostgreSQL
 *   publisher ─────► broker API ──► Redis (AOF, fsync always) ──► worker ──► stand-in :8090 (/webhooks)
 *
 * Each phase: 1 s steady, the fault for `faultMs`, the heal, then wait until the hub is
 * normal again — a gateway 200 and a publish 202 after the heal, every event acknowledged so
 * far delivered, and in the PostgreSQL phases the registry answering 200 again — and 1 s
 * steady. Recovery time is heal → normal.
 */

/** The demo upstream's address is fixed in demo/hub.yaml; the quick-start test uses it too. */
const UPSTREAM_PORT = 8090;
/** The demo API version's `timeoutMs` (demo/hub.yaml). */
const UPSTREAM_TIMEOUT_MS = 5000;
/** A gateway answer later than this is a hang: the timeout plus slack for a loaded machine. */
const CLIENT_DEADLINE_MS = UPSTREAM_TIMEOUT_MS + 3000;
/** The gateway's circuit open time in this suite (production default 30 s). */
const CIRCUIT_OPEN_SECONDS = 5;
/**
 * The stated bound: the hub is back to normal within this after each fault is healed —
 * a restarted worker's predecessor's job locks expire within 2 × SPL_BROKER_LOCK_MS (10 s), an
 * open circuit closes after CIRCUIT_OPEN_SECONDS and one probe.
 */
const RECOVERY_BOUND_MS = 20_000;
/** How long an acknowledged event may take to arrive before it counts as lost. */
const DRAIN_MS = 15_000;

type Outcome = Sample['outcome'];

interface Phase {
  name: string;
  faultMs: number;
  /** Gateway outcomes the contract allows during this phase besides 200 (docs/gateway.md). */
  allowed: Outcome[];
  /** Evidence that the fault took effect, so a phase cannot pass by injecting nothing. */
  tookEffect?: (row: Row) => boolean;
  inject: () => Promise<void>;
  heal: () => Promise<void>;
  /**
   * Probe the registry itself (readiness, a database read, the token endpoint) through the
   * phase; the hub is normal again only once all three answered 200 after the heal.
   */
  probeRegistry?: boolean;
}

interface Row {
  fault: string;
  requests: number;
  errors: Record<string, number>;
  unexpected: string[];
  published: number;
  publishRetries: number;
  webhookRefusals: number;
  delivered: number;
  lost: number;
  duplicated: number;
  recoveryMs: number;
  maxLatencyMs: number;
  /** The registry probe's answers other than 200, e.g. `apis 503 SPL_UNAVAILABLE: 12`; null when not probed. */
  registry: Record<string, number> | null;
  /** Registry answers the contract does not allow (a 500, a hang, a 503 without its code). */
  registryUnexpected: string[];
}

/**
 * What the registry may answer while its database is away (docs/registry.md): /readyz 503
 * not-ready, a database-backed route 503 problem+json SPL_UNAVAILABLE, the token endpoint 503
 * `temporarily_unavailable`. Never a 500 and never a hang.
 */
function isAllowedRegistryAnswer(a: ProbeAnswer): boolean {
  if (a.outcome === 200) return true;
  if (a.outcome !== 503) return false;
  if (a.what === 'readyz') return a.code === 'not-ready';
  if (a.what === 'apis')
    return a.code === 'SPL_UNAVAILABLE' && !!a.contentType?.startsWith('application/problem+json');
  return a.code === 'temporarily_unavailable';
}

describe('the hub under faults', () => {
  const state = mkdtempSync(join(tmpdir(), 'spl-faults-'));
  const logs = join(state, 'logs');
  // As root the suite's PostgreSQL runs as `postgres`, which must reach its folder in here.
  chmodSync(state, 0o711);
  const rows: Row[] = [];
  let hub: DemoHub;
  let redis: OwnRedis;
  let postgres: OwnPostgres;
  let standIn: StandIn;
  let registry: HubProcess;
  let gateway: HubProcess;
  let brokerApi: HubProcess;
  let brokerWorker: HubProcess;
  let traffic: GatewayTraffic;
  let events: EventStream;
  /** The running phase's registry probe, stopped by afterAll if the phase failed before stopping it. */
  let probe: RegistryProbe | null = null;

  beforeAll(async () => {
    await waitUntil(`port ${UPSTREAM_PORT} free`, () => isPortFree(UPSTREAM_PORT), 120_000);
    // A PostgreSQL of the suite's own (not the shared one on 5432), stoppable.
    postgres = new OwnPostgres();
    postgres.port = await freePort();
    postgres.dir = join(state, 'postgres');
    await postgres.start();
    hub = new DemoHub({
      state,
      databaseUrl: postgres.url,
      upstreamPort: UPSTREAM_PORT,
      // A circuit opened by the upstream faults stays open 30 s by default; 5 s keeps the
      // phases short. Recovery after an upstream fault is this plus one probe.
      gatewayEnv: { SPL_CIRCUIT_OPEN_SECONDS: String(CIRCUIT_OPEN_SECONDS) },
      // The flapping subscriber's retries within a phase, not the production 10 s first backoff.
      brokerEnv: { SPL_BROKER_RETRY_BASE_MS: '500', SPL_BROKER_RETRY_MAX_MS: '2000' },
      // A hung PostgreSQL is answered 503 after these (15 s and 5 s by default), within the
      // probe's 6 s deadline.
      registryEnv: { SPL_DATABASE_QUERY_TIMEOUT_MS: '2000', SPL_DATABASE_CONNECT_TIMEOUT_MS: '2000' },
    });
    // The stand-in takes the demo upstream's port once the demo upstream has let it go.
    standIn = new StandIn(UPSTREAM_PORT);
    await hub.start();
    await standIn.listenWhenFree();
    ({ redis, registry, gateway, brokerApi, brokerWorker } = hub);
    const { demo, gatewayUrl, brokerUrl } = hub;
    process.stdout.write(`fault suite: state and service logs in ${state}\n`);

    const consumerToken = await clientToken(
      `${gatewayUrl}/oauth2/token`,
      demo.consumer.clientId,
      demo.consumer.clientSecret,
    );
    const publisherToken = await clientToken(
      `${gatewayUrl}/oauth2/token`,
      demo.publisher.clientId,
      demo.publisher.clientSecret,
    );
    // 8 requests/s, under the demo plan's 600/minute; 10 events/s.
    traffic = new GatewayTraffic(
      `${gatewayUrl}/disdukcapil/kependudukan/v1/status`,
      consumerToken,
      125,
      8,
      CLIENT_DEADLINE_MS,
    );
    events = new EventStream(
      `${brokerUrl}/v1/topics/disdukcapil/kelahiran-tercatat/events`,
      publisherToken,
      100,
    );
    traffic.start();
    events.start();
  }, 240_000);

  afterAll(async () => {
    try {
      await probe?.stop();
      await traffic?.stop();
      await events?.stop();
      await hub?.stop();
      await standIn?.refuse();
    } finally {
      // Whatever failed above, the suite's PostgreSQL does not outlive it.
      await postgres?.remove();
    }
    if (process.env.SPL_FAULTS_KEEP_STATE) process.stdout.write(`fault suite state kept in ${state}\n`);
    else rmSync(state, { recursive: true, force: true });
  }, 30_000);

  async function runPhase(phase: Phase): Promise<Row> {
    const t0 = performance.now();
    const ackedBefore = events.acked.length;
    const refusalsBefore = standIn.webhookRefusals;
    await sleep(1000);
    probe = phase.probeRegistry ? new RegistryProbe(hub.registryUrl, hub.demo.operator) : null;
    await probe?.start();
    await phase.inject();
    await sleep(phase.faultMs);
    const healAt = performance.now();
    await phase.heal();
    // Normal again: a 200 and a 202 that began after the heal, and every acknowledged event delivered.
    let recoveryMs = Number.NaN;
    while (performance.now() - healAt < RECOVERY_BOUND_MS * 2) {
      const gatewayOk = traffic.samples.some((s) => s.at >= healAt && s.outcome === 200);
      const publishOk = events.acked.some((a) => a.at >= healAt);
      const caughtUp = events.acked.every((a) => standIn.delivered.has(a.id));
      const registryOk = !probe || probe.answeredSince(healAt);
      if (gatewayOk && publishOk && caughtUp && registryOk) {
        recoveryMs = performance.now() - healAt;
        break;
      }
      await sleep(100);
    }
    await sleep(1000);
    await probe?.stop();
    const t1 = performance.now();
    const samples = traffic.samples.filter((s) => s.at >= t0 && s.at < t1);
    const errors: Record<string, number> = {};
    const unexpected = new Set<string>();
    for (const s of samples) {
      if (s.outcome === 200) continue;
      errors[String(s.outcome)] = (errors[String(s.outcome)] ?? 0) + 1;
      if (!phase.allowed.includes(s.outcome)) unexpected.add(String(s.outcome));
    }
    // Events acknowledged in the last second may still be on their way: a loss is an event not
    // delivered after DRAIN_MS, not one in flight when the window closed.
    const acked = events.acked.slice(ackedBefore).filter((a) => a.at < t1);
    const drainStart = performance.now();
    while (acked.some((a) => !standIn.delivered.has(a.id)) && performance.now() - drainStart < DRAIN_MS)
      await sleep(100);
    const row: Row = {
      fault: phase.name,
      requests: samples.length,
      errors,
      unexpected: [...unexpected],
      published: acked.length,
      publishRetries: events.refusedAt.filter((at) => at >= t0 && at < t1).length,
      webhookRefusals: standIn.webhookRefusals - refusalsBefore,
      delivered: acked.filter((a) => standIn.delivered.has(a.id)).length,
      lost: acked.filter((a) => !standIn.delivered.has(a.id)).length,
      duplicated: acked.reduce((n, a) => n + Math.max(0, (standIn.delivered.get(a.id) ?? 0) - 1), 0),
      recoveryMs,
      maxLatencyMs: Math.max(0, ...samples.map((s) => s.ms)),
      registry: null,
      registryUnexpected: [],
    };
    if (probe) {
      const registryErrors: Record<string, number> = {};
      const registryUnexpected = new Set<string>();
      for (const a of probe.answers) {
        if (a.outcome === 200) continue;
        const key = [a.what, a.outcome, a.code].filter(Boolean).join(' ');
        registryErrors[key] = (registryErrors[key] ?? 0) + 1;
        if (!isAllowedRegistryAnswer(a)) registryUnexpected.add(key);
      }
      row.registry = registryErrors;
      row.registryUnexpected = [...registryUnexpected];
    }
    rows.push(row);
    return row;
  }

  // The PostgreSQL phases: nothing but 200 from the gateway (no database on its path), the
  // registry probed, and the fault seen in its answers (not ready, 503 where it needs the database).
  const databaseAway: Pick<Phase, 'allowed' | 'probeRegistry' | 'tookEffect'> = {
    allowed: [],
    probeRegistry: true,
    tookEffect: (r) =>
      (r.registry?.['readyz 503 not-ready'] ?? 0) > 0 && (r.registry?.['apis 503 SPL_UNAVAILABLE'] ?? 0) > 0,
  };
  const restart = (p: () => HubProcess, downMs: number): Pick<Phase, 'faultMs' | 'inject' | 'heal'> => ({
    faultMs: downMs,
    inject: () => p().kill(),
    heal: async () => {
      await p().start();
    },
  });

  const phases: Phase[] = [
    { name: 'none (baseline)', faultMs: 2000, allowed: [], inject: async () => {}, heal: async () => {} },
    // While the gateway is down its port refuses; requests in flight at the kill are reset.
    {
      name: 'gateway kill -9',
      allowed: ['conn'],
      tookEffect: (r) => (r.errors.conn ?? 0) > 0,
      ...restart(() => gateway, 2000),
    },
    { name: 'broker worker kill -9', allowed: [], ...restart(() => brokerWorker, 2000) },
    {
      name: 'broker API kill -9',
      allowed: [],
      tookEffect: (r) => r.publishRetries > 0,
      ...restart(() => brokerApi, 2000),
    },
    { name: 'registry kill -9', allowed: [], ...restart(() => registry, 2000) },
    {
      // `pg_ctl stop -m fast`: every session is ended (57P01) and the port closes. Gateway and
      // broker run from their stored snapshots, so nothing they answer changes; the registry
      // stays up, answers 503 where it needs the database, and is back without a restart.
      name: 'PostgreSQL stop + start',
      faultMs: 3000,
      ...databaseAway,
      inject: () => postgres.stop('fast'),
      heal: () => postgres.resume(),
    },
    {
      // A crash, not a shutdown: every PostgreSQL process SIGKILLed, the registry's pooled
      // connections cut without a goodbye; the restart replays the WAL.
      name: 'PostgreSQL kill -9 + restart',
      faultMs: 3000,
      ...databaseAway,
      inject: () => postgres.kill(),
      heal: () => postgres.resume(),
    },
    {
      // SIGSTOP on the server and every backend: connections stay open, the port still accepts,
      // nothing answers — a hung host, a stalled disk, a partition without resets. The registry
      // gives up on a statement or a new connection after 2 s here and answers 503.
      name: 'PostgreSQL hangs',
      faultMs: 4000,
      ...databaseAway,
      inject: () => postgres.freeze(),
      heal: () => postgres.thaw(),
    },
    {
      // Rate limits and usage go to Redis: 503 while it is away is the contract (docs/gateway.md).
      name: 'Redis kill -9 + restart',
      faultMs: 3000,
      allowed: [503],
      tookEffect: (r) => r.publishRetries > 0,
      inject: () => redis.kill(),
      heal: async () => {
        await redis.start();
      },
    },
    {
      name: 'upstream hangs',
      faultMs: 7000,
      allowed: [504, 503],
      tookEffect: (r) => (r.errors['504'] ?? 0) > 0,
      inject: async () => standIn.setMode('hang'),
      heal: async () => standIn.setMode('normal'),
    },
    {
      // Also the webhook subscriber: the same address refuses the broker's deliveries.
      name: 'upstream refuses',
      faultMs: 4000,
      allowed: [503],
      tookEffect: (r) => (r.errors['503'] ?? 0) > 0,
      inject: () => standIn.refuse(),
      heal: () => standIn.listen(),
    },
    {
      name: 'upstream slow (1.5 s)',
      faultMs: 5000,
      allowed: [],
      tookEffect: (r) => r.maxLatencyMs >= 1500,
      inject: async () => standIn.setMode('slow'),
      heal: async () => standIn.setMode('normal'),
    },
    {
      name: 'webhook subscriber flaps',
      faultMs: 6000,
      allowed: [],
      tookEffect: (r) => r.webhookRefusals > 0,
      inject: async () => standIn.setMode('flap'),
      heal: async () => standIn.setMode('normal'),
    },
  ];

  for (const phase of phases) {
    it(`recovers from: ${phase.name}`, async () => {
      const row = await runPhase(phase);
      if (phase.tookEffect) expect(phase.tookEffect(row), 'the fault took effect').toBe(true);
      expect(row.unexpected, `unexpected gateway outcomes (logs in ${logs})`).toEqual([]);
      expect(row.registryUnexpected, `unexpected registry answers (logs in ${logs})`).toEqual([]);
      expect(row.lost, 'acknowledged events lost').toBe(0);
      expect(row.recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
      expect(row.maxLatencyMs).toBeLessThan(CLIENT_DEADLINE_MS);
      for (const p of [registry, gateway, brokerApi, brokerWorker])
        expect(p.isAlive, `${p.name} alive`).toBe(true);
    }, 120_000);
  }

  it('prints the fault table', () => {
    const header = [
      'fault',
      'requests',
      'errors by status',
      'published (202)',
      'publish retries',
      'webhook 503s',
      'delivered',
      'lost',
      'duplicated',
      'recovery',
      'max latency',
      'registry probes (not 200)',
    ];
    const lines = rows.map((r) => [
      r.fault,
      String(r.requests),
      Object.entries(r.errors)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || '—',
      String(r.published),
      String(r.publishRetries),
      String(r.webhookRefusals),
      String(r.delivered),
      String(r.lost),
      String(r.duplicated),
      Number.isNaN(r.recoveryMs) ? 'never' : `${(r.recoveryMs / 1000).toFixed(1)} s`,
      `${(r.maxLatencyMs / 1000).toFixed(2)} s`,
      r.registry
        ? Object.entries(r.registry)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ') || 'none'
        : 'not probed',
    ]);
    const table = [header, header.map(() => '---'), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n');
    process.stdout.write(`\nfault suite (events attempted ${events.attempts}):\n${table}\n\n`);
    expect(rows.length).toBe(phases.length);
  });

  it('delivered every event acknowledged during the whole run, each phase and between them', async () => {
    await events.stop();
    const drainStart = performance.now();
    while (
      events.acked.some((a) => !standIn.delivered.has(a.id)) &&
      performance.now() - drainStart < DRAIN_MS
    )
      await sleep(100);
    const lost = events.acked.filter((a) => !standIn.delivered.has(a.id));
    const duplicated = [...standIn.delivered.values()].reduce((n, c) => n + c - 1, 0);
    process.stdout.write(
      `whole run: ${events.acked.length} events acknowledged, ${lost.length} lost, ${duplicated} duplicate deliveries\n`,
    );
    expect(lost.map((a) => a.id)).toEqual([]);
  });
});
