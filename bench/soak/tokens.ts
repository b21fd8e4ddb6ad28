import { clientToken } from '../../test/support/traffic.js';

/** Well inside the registry's default token lifetime (SPL_TOKEN_LIFETIME_SECONDS, 300 s). */
const REFRESH_MS = 60_000;

/**
 * A client's access token, fetched again every minute so a run of an hour never sends an
 * expired one. A failed refresh keeps the current token and is counted.
 */
export class TokenSource {
  current = '';
  refreshFailures = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly tokenUrl: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
  ) {}

  async start(): Promise<this> {
    this.current = await clientToken(this.tokenUrl, this.clientId, this.clientSecret);
    this.timer = setInterval(() => {
      clientToken(this.tokenUrl, this.clientId, this.clientSecret).then(
        (token) => {
          this.current = token;
        },
        () => {
          this.refreshFailures++;
        },
      );
    }, REFRESH_MS);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
