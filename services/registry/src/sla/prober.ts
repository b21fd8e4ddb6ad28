import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EgressPolicy } from '@spl/egress';
import type { Histogram } from '@spl/metrics';
import type { SecretBox } from '@spl/secret-box';
import type { Redis } from 'ioredis';
import { openUpstreamSecret } from '../apis/version-store.js';
import type { Upstream, UpstreamAuth } from '../routes/apis/schemas.js';
import type { Database } from '../store/database.js';
import { createProbeLease } from './probe-lease.js';
import { insertProbeResults, type ProbeResult } from './probe-results.js';
import { healthUrl, type ProbeOutcome, type ProbeTls, probeUpstream } from './probe-upstream.js';

/**
 * The SLA prober (issue 5 §1; BKS 60(3)(m)): on every round, one HEAD per published or
 * deprecated API version to its health URL, results stored in `probe_results`.
 *
 *   every lease/3:      lease.hold()                 (take or renew; see probe-lease.ts)
 *   every tick:         held and round due?  ──► SET probeRound now ──► probe all ──► INSERT
 *
 * Only the instance holding the lease probes, so several registry instances probe once;
 * `probeRound` in Redis carries the pace over to a new leader, so a takeover neither
 * doubles a round nor waits a whole interval more than needed.
 *
 * A version with several upstream URLs is up when one of them answers (the gateway fails
 * over between them); the URLs are tried in order and the first live one decides.
 */
export interface Prober {
  start(): void;
  /** Stops probing and gives the lease up (unless `release: false`, as a crash would). Safe twice. */
  stop(options?: { release?: boolean }): Promise<void>;
  /** Probes every version once now, lease or not (tests, `spl` tooling); the results stored. */
  probeAll(): Promise<ProbeResult[]>;
  readonly isLeader: boolean;
}

export interface ProberOptions {
  db: Database;
  redis: Redis;
  keys: { probeLease: string; probeRound: string };
  secretBox: SecretBox;
  egress: EgressPolicy;
  clock: () => Date;
  /** Between two rounds, milliseconds. */
  intervalMs: number;
  /** Lease lifetime, milliseconds; renewed every third of it. */
  leaseMs: number;
  /** Per probe, milliseconds. */
  timeoutMs: number;
  /** Observes each probe's latency, seconds, by org, api, version. */
  duration?: Histogram<'org' | 'api' | 'version'>;
  /** Called after each stored round (tests wait on it; metrics refresh on it). */
  onRound?: (results: ProbeResult[]) => void;
  onError?: (err: unknown, what: string) => void;
}

interface DbProbeTargetRow {
  id: string;
  org: string;
  api: string;
  version: string;
  upstream: Upstream;
  upstream_auth: UpstreamAuth;
  upstream_secret: string | null;
}

/** Probes at most this many versions at once. */
const CONCURRENCY = 16;

export class ProberOptionsError extends Error {
  override name = 'ProberOptionsError';
}

export function createProber(options: ProberOptions): Prober {
  const { db, redis, keys, intervalMs, leaseMs, timeoutMs } = options;
  if (!(intervalMs > 0)) throw new ProberOptionsError('intervalMs must be positive');
  if (!(leaseMs > 0)) throw new ProberOptionsError('leaseMs must be positive');
  if (!(timeoutMs > 0)) throw new ProberOptionsError('timeoutMs must be positive');
  const token = `${hostname()}-${process.pid}-${randomUUID()}`;
  const lease = createProbeLease({ redis, key: keys.probeLease, token, ttlMs: leaseMs });
  const renewEveryMs = Math.max(10, Math.floor(leaseMs / 3));
  const tickMs = Math.max(10, Math.min(renewEveryMs, Math.floor(intervalMs / 4)));
  let leaseTimer: NodeJS.Timeout | null = null;
  let roundTimer: NodeJS.Timeout | null = null;
  let round: Promise<unknown> | null = null;
  let isStopped = false;

  const tlsOf = (row: DbProbeTargetRow): ProbeTls | undefined => {
    if (row.upstream_auth.kind !== 'mtls') return undefined;
    const secret = openUpstreamSecret(options.secretBox, row);
    if (!secret || !('privateKeyPem' in secret)) return undefined;
    return {
      cert: row.upstream_auth.certificatePem,
      key: secret.privateKeyPem,
      ...(row.upstream_auth.caPem ? { ca: row.upstream_auth.caPem } : {}),
    };
  };

  const probeVersion = async (row: DbProbeTargetRow, at: Date): Promise<ProbeResult> => {
    let outcome: ProbeOutcome = { ok: false, status: null, latencyMs: 0, error: 'no upstream URL' };
    let tls: ProbeTls | undefined;
    try {
      tls = tlsOf(row);
    } catch (err) {
      options.onError?.(err, `opening the mTLS key of ${row.org}/${row.api}/${row.version}`);
    }
    for (const url of row.upstream.urls) {
      let target: URL;
      try {
        target = healthUrl(url, row.upstream.healthPath);
      } catch {
        outcome = { ok: false, status: null, latencyMs: 0, error: 'unusable upstream URL' };
        continue;
      }
      outcome = await probeUpstream(target, { timeoutMs, egress: options.egress, tls });
      options.duration?.observe(
        { org: row.org, api: row.api, version: row.version },
        outcome.latencyMs / 1000,
      );
      if (outcome.ok) break;
    }
    return { versionId: row.id, at, ...outcome };
  };

  const probeAll = async (): Promise<ProbeResult[]> => {
    const rows = await db.query<DbProbeTargetRow>(
      `SELECT v.id, o.slug AS org, a.slug AS api, v.version, v.upstream, v.upstream_auth, v.upstream_secret
         FROM api_versions v JOIN apis a ON a.id = v.api_id JOIN organisations o ON o.id = a.org_id
        WHERE v.state IN ('published', 'deprecated')
        ORDER BY o.slug, a.slug, v.version`,
    );
    // One timestamp per round: a round is one observation of every version.
    const at = options.clock();
    const results: ProbeResult[] = [];
    for (let i = 0; i < rows.length; i += CONCURRENCY)
      results.push(...(await Promise.all(rows.slice(i, i + CONCURRENCY).map((r) => probeVersion(r, at)))));
    if (results.length) await insertProbeResults(db, results);
    options.onRound?.(results);
    return results;
  };

  const holdLease = async () => {
    try {
      await lease.hold();
    } catch (err) {
      options.onError?.(err, 'probe lease');
    }
  };

  /** Starts a round if we lead and the last one (by whichever instance) is an interval old. */
  const maybeRound = async () => {
    if (!lease.isHeld || round || isStopped) return;
    let done = (): void => {};
    round = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      const last = Number((await redis.get(keys.probeRound)) ?? 0);
      const now = Date.now();
      if (now - last < intervalMs) return;
      await redis.set(keys.probeRound, String(now), 'PX', Math.max(intervalMs * 10, leaseMs * 2));
      await probeAll();
    } catch (err) {
      options.onError?.(err, 'probe round');
    } finally {
      round = null;
      done();
    }
  };

  return {
    start() {
      if (leaseTimer || isStopped) return;
      void holdLease().then(() => maybeRound());
      leaseTimer = setInterval(() => void holdLease(), renewEveryMs);
      roundTimer = setInterval(() => void maybeRound(), tickMs);
      leaseTimer.unref();
      roundTimer.unref();
    },
    async stop({ release = true } = {}) {
      if (isStopped) return;
      isStopped = true;
      if (leaseTimer) clearInterval(leaseTimer);
      if (roundTimer) clearInterval(roundTimer);
      await round?.catch(() => {});
      if (release) await lease.release().catch((err) => options.onError?.(err, 'releasing the probe lease'));
    },
    probeAll,
    get isLeader() {
      return lease.isHeld;
    },
  };
}
