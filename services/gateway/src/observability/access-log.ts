import pino, { type DestinationStream, type Logger } from 'pino';
import { maskPersonalData } from './mask-personal-data.js';

export { compileUrlMasker, maskPersonalData } from './mask-personal-data.js';

/**
 * The access log: one pino JSON line per request (issue 3, point 10).
 *
 * What a line holds is this allow-list and nothing else: no header is ever logged, so no
 * bearer token, upstream secret or cookie can reach it; the URL is masked (personal data, and
 * the route's `dikecualikan` query parameters when the route's masker is passed), and no body
 * is logged at all.
 */
export interface AccessLogEntry {
  requestId: string;
  /** Route template; absent when no route matched. */
  org?: string;
  api?: string;
  version?: string;
  /** The calling application's slug; absent before authentication. */
  application?: string;
  method: string;
  /** The raw path and query string; masked before it is written. */
  url: string;
  status: number;
  /** From receiving the request to the end of the answer, ms. */
  durationMs: number;
  /** The upstream's part, ms; absent when the upstream was not called. */
  upstreamMs?: number;
  bytesIn: number;
  bytesOut: number;
  clientIp: string;
  /** The client's verified TLS certificate (mutual TLS, BKS 60(3)(i)): not secret, identifies the caller. */
  clientCertSubject?: string;
  clientCertFingerprint?: string;
}

export interface AccessLog {
  /**
   * Writes one line. `maskUrl` is the route's compiled masker (`compileUrlMasker`, built per
   * snapshot); personal-data masking only when absent.
   */
  write(entry: AccessLogEntry, maskUrl?: (url: string) => string): void;
  /** Writes out what the async destination still buffers. */
  flush(): void;
}

export interface AccessLogOptions {
  /**
   * Where lines go. Default: stdout through `pino.destination({ sync: false, minLength })`, an
   * async writer batching lines (written at 8 KiB or every ACCESS_LOG_FLUSH_MS); call
   * `flush()` on shutdown.
   */
  destination?: DestinationStream;
}

/** Longest a line waits in the buffer before it is written, milliseconds. */
export const ACCESS_LOG_FLUSH_MS = 250;

export function createAccessLog(options: AccessLogOptions = {}): AccessLog {
  // Lines are gathered up to 8 KiB and written together: one write(2) per line was a
  // system call per request on the hot path. sonic-boom's periodic flush writes out what
  // waits, so a quiet gateway's lines reach the log within ACCESS_LOG_FLUSH_MS.
  const destination =
    options.destination ??
    pino.destination({ dest: 1, sync: false, minLength: 8 * 1024, periodicFlush: ACCESS_LOG_FLUSH_MS });
  const logger: Logger = pino(
    {
      base: null,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );

  return {
    write(entry, maskUrl = maskPersonalData) {
      logger.info({
        reqId: entry.requestId,
        org: entry.org,
        api: entry.api,
        version: entry.version,
        application: entry.application,
        method: entry.method,
        url: maskUrl(entry.url),
        status: entry.status,
        durationMs: entry.durationMs,
        upstreamMs: entry.upstreamMs,
        bytesIn: entry.bytesIn,
        bytesOut: entry.bytesOut,
        clientIp: entry.clientIp,
        clientCertSubject: entry.clientCertSubject,
        clientCertFingerprint: entry.clientCertFingerprint,
      });
    },
    flush() {
      // On shutdown: the lines still gathered are written before the process exits.
      if (options.destination === undefined) {
        try {
          (destination as ReturnType<typeof pino.destination>).flushSync();
          return;
        } catch {
          // a write in progress: fall back to the asynchronous flush
        }
      }
      logger.flush();
    },
  };
}
