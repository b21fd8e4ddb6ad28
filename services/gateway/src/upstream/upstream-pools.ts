import { createEgressAgent, createEgressConnector, type EgressPolicy } from '@spl/egress';
import { type Agent, Pool } from 'undici';
import { type CircuitBreaker, type CircuitState, createCircuitBreaker } from './circuit-breaker.js';
import { createRetryBudget, type RetryBudget, type RetryBudgetOptions } from './retry-budget.js';

/** Client certificate for mutual TLS to an upstream (BKS 60(3)(i)). */
export interface ClientTls {
  cert: string;
  key: string;
  ca?: string;
}

/**
 * One keep-alive pool per upstream origin (and client certificate), with its circuit
 * (passive health: real traffic), its retry budget, and what the active health check
 * (health-checker.ts) last found.
 */
export interface Upstream {
  readonly origin: string;
  readonly pool: Pool;
  readonly circuit: CircuitBreaker;
  readonly retryBudget: RetryBudget;
  /** The last active probe failed (false while active checks are off or have not run). */
  isDown: boolean;
}

export interface UpstreamPools {
  /** The pool for an origin; `identity` separates pools dialled with different client certificates. */
  get(origin: string, tls?: { identity: string; tls: ClientTls }): Upstream;
  /** An agent for other outbound calls (upstream token endpoints), under the same egress policy. */
  readonly agent: Agent;
  /** Closes pools the current route table no longer names, after `graceMs` (in-flight requests finish). */
  retainOnly(keys: ReadonlySet<string>): void;
  close(): Promise<void>;
}

export interface UpstreamPoolOptions {
  egress: EgressPolicy;
  /** Keep-alive connections per origin. */
  connections: number;
  circuit: { failureThreshold: number; openMs: number };
  /** Each upstream's retry budget; default 20 % of requests plus 5 per second over 10 s. */
  retryBudget?: RetryBudgetOptions;
  /** Before an unused pool is closed, milliseconds; default 30 000. */
  graceMs?: number;
  onCircuitChange?: (origin: string, state: CircuitState) => void;
}

export function poolKey(origin: string, identity?: string): string {
  return identity ? `${origin}#${identity}` : origin;
}

export function createUpstreamPools(options: UpstreamPoolOptions): UpstreamPools {
  const upstreams = new Map<string, Upstream>();
  const retiring = new Map<string, NodeJS.Timeout>();
  const graceMs = options.graceMs ?? 30_000;
  const retryBudget = options.retryBudget ?? { ratio: 0.2, minPerSecond: 5, windowSeconds: 10 };
  const agent = createEgressAgent(options.egress, { connections: 8 });

  const closeUpstream = (key: string) => {
    const upstream = upstreams.get(key);
    retiring.delete(key);
    if (!upstream) return;
    upstreams.delete(key);
    upstream.pool.close().catch(() => {});
  };

  return {
    agent,
    get(origin, tls) {
      const key = poolKey(origin, tls?.identity);
      let upstream = upstreams.get(key);
      if (upstream) return upstream;
      const pool = new Pool(origin, {
        connections: options.connections,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: createEgressConnector(options.egress, tls?.tls),
      });
      upstream = {
        origin,
        pool,
        circuit: createCircuitBreaker({
          ...options.circuit,
          onStateChange: (state) => options.onCircuitChange?.(origin, state),
        }),
        retryBudget: createRetryBudget(retryBudget),
        isDown: false,
      };
      upstreams.set(key, upstream);
      return upstream;
    },
    retainOnly(keys) {
      for (const key of upstreams.keys()) {
        const timer = retiring.get(key);
        if (keys.has(key)) {
          if (timer) {
            clearTimeout(timer);
            retiring.delete(key);
          }
        } else if (!timer) {
          const t = setTimeout(() => closeUpstream(key), graceMs);
          t.unref();
          retiring.set(key, t);
        }
      }
    },
    async close() {
      for (const timer of retiring.values()) clearTimeout(timer);
      retiring.clear();
      const all = [...upstreams.values()];
      upstreams.clear();
      await Promise.allSettled([...all.map((u) => u.pool.close()), agent.close()]);
    },
  };
}
