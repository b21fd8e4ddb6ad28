import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { EgressPolicy } from '@spl/egress';

/** What one probe of one upstream URL found. */
export interface ProbeOutcome {
  /** Answered below 500 (as the gateway's active checks judge: 401 or 404 is alive). */
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

/** Client credentials for an mTLS upstream, opened from the version's sealed secret. */
export interface ProbeTls {
  cert: string;
  key: string;
  ca?: string;
}

/**
 * The URL a version's health is probed at: its `healthPath` on the upstream's origin (the
 * gateway's reading of the same field), else the upstream URL itself.
 */
export function healthUrl(upstreamUrl: string, healthPath: string | undefined): URL {
  const url = new URL(upstreamUrl);
  if (healthPath === undefined) return url;
  return new URL(healthPath, url.origin);
}

/**
 * One HEAD to `url` without credentials, through the egress policy (checked on the address
 * dialled), within `timeoutMs`. Never throws: a refusal, a reset, a timeout or a 5xx is a
 * failed probe with its reason.
 */
export function probeUpstream(
  url: URL,
  options: { timeoutMs: number; egress: EgressPolicy; tls?: ProbeTls | undefined },
): Promise<ProbeOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const why = options.egress.check(host, host);
    if (why)
      return Promise.resolve({ ok: false, status: null, latencyMs: 0, error: `egress refused: ${why}` });
  }
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'HEAD',
      agent: false,
      lookup: options.egress.lookup,
      headers: { 'user-agent': 'spl-registry-sla-probe', connection: 'close' },
      ...(options.tls ?? {}),
    });
    const timer = setTimeout(() => {
      settle({
        ok: false,
        status: null,
        latencyMs: elapsed(),
        error: `no answer within ${options.timeoutMs} ms`,
      });
      req.destroy();
    }, options.timeoutMs);
    req.on('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      settle({
        ok: status > 0 && status < 500,
        status,
        latencyMs: elapsed(),
        error: status >= 500 ? `answered ${status}` : null,
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const reason =
        err.name === 'EgressRefusedError' ? `egress refused: ${err.message}` : (err.code ?? err.message);
      settle({ ok: false, status: null, latencyMs: elapsed(), error: reason });
    });
    req.end();
  });
}
