import { createEgressPolicy } from '@spl/egress';
import type { Registry } from '@spl/metrics';
import type { RegistryContext } from '../registry-context.js';
import { createProber, type Prober } from './prober.js';
import { createSlaMetrics } from './sla-metrics.js';

export interface SlaOptions {
  ctx: RegistryContext;
  metrics: Registry;
  /** Milliseconds; defaults from SPL_PROBE_SECONDS, SPL_PROBE_LEASE_SECONDS, SPL_PROBE_TIMEOUT_MS. */
  timing?: { intervalMs?: number; leaseMs?: number; timeoutMs?: number };
  onError?: (err: unknown, what: string) => void;
}

/**
 * SPL_EGRESS_ALLOW as the probes read it. Unset: any public address; in development
 * loopback too, so the quick start's demo upstream on 127.0.0.1 is probed.
 */
export function probeEgressAllow(config: RegistryContext['config']): string {
  if (config.SPL_EGRESS_ALLOW !== undefined) return config.SPL_EGRESS_ALLOW;
  return config.SPL_MODE === 'development' ? '*,127.0.0.0/8,::1' : '*';
}

/** Starts the prober (unless SPL_PROBE_SECONDS is 0) and registers the SLA metrics. */
export function startSla(options: SlaOptions): { prober: Prober | null; stop(): Promise<void> } {
  const { ctx } = options;
  const config = ctx.config;
  const intervalMs = options.timing?.intervalMs ?? config.SPL_PROBE_SECONDS * 1000;
  const metrics = createSlaMetrics({
    registry: options.metrics,
    db: ctx.db,
    clock: ctx.clock,
    cacheMs: Math.min(intervalMs || 60_000, 60_000),
    onError: (err) => options.onError?.(err, 'availability metrics'),
  });
  if (!(intervalMs > 0)) return { prober: null, stop: async () => {} };
  const prober = createProber({
    db: ctx.db,
    redis: ctx.redis,
    keys: ctx.keys,
    secretBox: ctx.secretBox,
    egress: createEgressPolicy(probeEgressAllow(config)),
    clock: ctx.clock,
    intervalMs,
    leaseMs: options.timing?.leaseMs ?? config.SPL_PROBE_LEASE_SECONDS * 1000,
    timeoutMs: options.timing?.timeoutMs ?? config.SPL_PROBE_TIMEOUT_MS,
    duration: metrics.probeDuration,
    onRound: () => metrics.invalidate(),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  prober.start();
  return { prober, stop: () => prober.stop() };
}
