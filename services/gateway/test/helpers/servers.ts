import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Snapshot } from '@spl/snapshot';

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An upstream on port 0 that records what reached it; `handler` decides the answer. */
export class TestUpstream {
  server!: Server;
  url = '';
  seen: SeenRequest[] = [];
  handler: (req: SeenRequest, res: ServerResponse) => void = (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
  };

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen = {
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        };
        this.seen.push(seen);
        this.handler(seen, res);
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.url = await listen(this.server);
    return this;
  }

  async stop(): Promise<void> {
    await stop(this.server);
  }
}

/**
 * A stand-in registry: `GET /v1/snapshot` with ETag / If-None-Match for the data-plane
 * token, client credentials at `/oauth2/token`, and the two other OAuth2 paths.
 */
export class FakeRegistry {
  server!: Server;
  url = '';
  snapshot: Snapshot | null = null;
  snapshotRequests = 0;
  tokenRequests = 0;
  oauthSeen: SeenRequest[] = [];
  readonly clientId = 'gateway-dataplane';
  readonly clientSecret = 'gateway-dataplane-secret-0123456789';
  private readonly accessToken = 'dataplane-token-1';

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((ok) => this.server.listen(port, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await stop(this.server);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const path = req.url!.split('?')[0];
      if (path === '/oauth2/token' && req.method === 'POST') {
        this.oauthSeen.push({ method: req.method, url: req.url!, headers: req.headers, body });
        const expected = `Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')}`;
        const form = new URLSearchParams(body);
        if (req.headers.authorization === expected) {
          this.tokenRequests++;
          return res
            .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
            .end(JSON.stringify({ access_token: this.accessToken, token_type: 'Bearer', expires_in: 300 }));
        }
        if (form.get('client_id') === 'portal-client' && form.get('client_secret') === 'portal-secret')
          return res
            .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
            .end(JSON.stringify({ access_token: 'consumer-token', token_type: 'Bearer', expires_in: 300 }));
        return res
          .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="spl"' })
          .end(JSON.stringify({ error: 'invalid_client' }));
      }
      if (path === '/.well-known/oauth-authorization-server') {
        this.oauthSeen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        return res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            issuer: 'http://gateway.test',
            token_endpoint: 'http://gateway.test/oauth2/token',
            jwks_uri: 'http://gateway.test/oauth2/jwks',
          }),
        );
      }
      if (path === '/oauth2/jwks') {
        return res
          .writeHead(200, { 'content-type': 'application/jwk-set+json' })
          .end(JSON.stringify({ keys: this.snapshot?.hubKeys.keys ?? [] }));
      }
      if (path === '/v1/snapshot') {
        this.snapshotRequests++;
        if (req.headers.authorization !== `Bearer ${this.accessToken}`) return res.writeHead(401).end();
        if (!this.snapshot) return res.writeHead(503).end();
        const etag = `"${this.snapshot.etag}"`;
        if (req.headers['if-none-match'] === etag) return res.writeHead(304, { etag }).end();
        return res
          .writeHead(200, { etag, 'content-type': 'application/json' })
          .end(JSON.stringify(this.snapshot));
      }
      res.writeHead(404).end();
    });
  }
}

/** A request with the path exactly as given (no client-side normalisation of `..` or `//`). */
export function rawRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
