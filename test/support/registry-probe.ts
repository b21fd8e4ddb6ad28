import { sleep } from './hub-processes.js';
import { clientToken } from './traffic.js';

/** One registry call: readiness, a problem+json API read (`apis`), or the token endpoint. */
export interface ProbeAnswer {
  at: number;
  what: 'readyz' | 'apis' | 'token';
  /** HTTP status, or `conn` (refused/reset) or `hang` (no answer by the deadline). */
  outcome: number | 'conn' | 'hang';
  /** The problem's `code` (apis), the OAuth2 `error` (token), or `status` (readyz). */
  code?: string;
  contentType?: string;
}

/**
 * The registry's own answers while its database is away: /readyz, `GET /v1/apis` (read from
 * the database, problem+json) and the token endpoint (the client is looked up in the
 * database, RFC 6749 JSON), each every `intervalMs`.
 */
export class RegistryProbe {
  readonly answers: ProbeAnswer[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  private inFlight = 0;
  private bearer = '';

  constructor(
    private readonly registryUrl: string,
    private readonly operator: { clientId: string; clientSecret: string },
    private readonly intervalMs = 250,
    private readonly deadlineMs = 6000,
  ) {}

  /** Takes an operator token while the registry is healthy, then probes until stopped. */
  async start(): Promise<void> {
    this.bearer = await clientToken(
      `${this.registryUrl}/oauth2/token`,
      this.operator.clientId,
      this.operator.clientSecret,
    );
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        if (this.inFlight < 6) for (const what of ['readyz', 'apis', 'token'] as const) void this.one(what);
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    while (this.inFlight > 0) await sleep(50);
  }

  /** Every kind of probe answered 200 in a request begun at or after `since`. */
  answeredSince(since: number): boolean {
    return (['readyz', 'apis', 'token'] as const).every((what) =>
      this.answers.some((a) => a.what === what && a.at >= since && a.outcome === 200),
    );
  }

  private async one(what: ProbeAnswer['what']): Promise<void> {
    this.inFlight++;
    const at = performance.now();
    const basic = Buffer.from(
      `${encodeURIComponent(this.operator.clientId)}:${encodeURIComponent(this.operator.clientSecret)}`,
    ).toString('base64');
    const init: RequestInit =
      what === 'token'
        ? {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
            body: 'grant_type=client_credentials',
          }
        : what === 'apis'
          ? { headers: { authorization: `Bearer ${this.bearer}` } }
          : {};
    const path = what === 'token' ? '/oauth2/token' : what === 'apis' ? '/v1/apis' : '/readyz';
    let answer: ProbeAnswer;
    try {
      const res = await fetch(`${this.registryUrl}${path}`, {
        ...init,
        signal: AbortSignal.timeout(this.deadlineMs),
      });
      const contentType = res.headers.get('content-type') ?? '';
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      const code = body.code ?? body.error ?? body.status;
      answer = {
        at,
        what,
        outcome: res.status,
        contentType,
        ...(typeof code === 'string' ? { code } : {}),
      };
    } catch (err) {
      answer = { at, what, outcome: (err as Error).name === 'TimeoutError' ? 'hang' : 'conn' };
    }
    this.answers.push(answer);
    this.inFlight--;
  }
}
