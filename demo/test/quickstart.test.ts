import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepRunLogText } from '../../test/support/run-logs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

interface DemoFile {
  publicUrl: string;
  registryUrl: string;
  api: { url: string; probe: string };
  operator: { clientId: string; clientSecret: string };
  consumer: { clientId: string; clientSecret: string };
  upstreamUrl: string;
  publisher?: { clientId: string; clientSecret: string };
  topic?: { publishUrl: string; receivedUrl: string };
}

// The README's first command ends in `pnpm start`. This runs it as a newcomer would (on
// free ports — but the demo upstream's 8090 — and its own state folder) and checks what
// the quick start promises: the registry up with the demo, .spl/demo.json (0600) holding
// the credentials, no secret on the console, and an OAuth2 client library nobody here
// wrote discovering the token endpoint from the issuer and validating the token it gets.
describe('the quick start (pnpm start)', () => {
  const state = mkdtempSync(join(tmpdir(), 'spl-quickstart-'));
  let hub: ChildProcess;
  let output = '';
  let demo: DemoFile;

  beforeAll(async () => {
    // demo/hub.yaml names the demo upstream at 127.0.0.1:8090, so that port is the default one;
    // the registry and gateway take free ports.
    const [registryPort, upstreamPort, gatewayPort, brokerPort, brokerWorkerPort] = [
      await freePort(),
      8090,
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    hub = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/start.ts'], {
      cwd: root,
      env: {
        ...process.env,
        SPL_STATE_DIR: state,
        SPL_REGISTRY_PORT: String(registryPort),
        SPL_DEMO_UPSTREAM_PORT: String(upstreamPort),
        SPL_GATEWAY_PORT: String(gatewayPort),
        SPL_BROKER_PORT: String(brokerPort),
        SPL_BROKER_WORKER_PORT: String(brokerWorkerPort),
        SPL_REDIS_PREFIX: `quickstart-${randomBytes(4).toString('hex')}`,
        SPL_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    hub.stdout!.on('data', (chunk) => {
      output += chunk;
    });
    hub.stderr!.on('data', (chunk) => {
      output += chunk;
    });
    const until = Date.now() + 150_000;
    while (!output.includes('SPL is running') && Date.now() < until) {
      if (hub.exitCode !== null) throw new Error(`pnpm start exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!output.includes('SPL is running')) throw new Error(`pnpm start did not finish:\n${output}`);
    demo = JSON.parse(readFileSync(join(state, 'demo.json'), 'utf8'));
  }, 180_000);

  afterAll(async () => {
    if (hub?.pid) process.kill(-hub.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    keepRunLogText('quickstart', output);
    rmSync(state, { recursive: true, force: true });
  });

  it('writes demo.json with mode 0600 and prints no secret', () => {
    expect(statSync(join(state, 'demo.json')).mode & 0o777).toBe(0o600);
    expect(demo.operator.clientId).toBeTruthy();
    expect(demo.consumer.clientId).toBeTruthy();
    for (const secret of [
      demo.operator.clientSecret,
      demo.consumer.clientSecret,
      demo.publisher!.clientSecret,
    ])
      expect(output).not.toContain(secret);
    expect(output).not.toMatch(/spl_sk_|whsec_/);
    // The demo push subscription's signing secret is kept for the receiver, owner-only.
    expect(statSync(join(state, 'webhook-secret')).mode & 0o777).toBe(0o600);
  });

  it('lets a third-party OAuth2 client discover the hub, get a token and verify it against jwks_uri', async () => {
    const insecure = { [oauth.allowInsecureRequests]: true };
    const issuer = new URL(demo.publicUrl);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    const client: oauth.Client = { client_id: demo.consumer.clientId };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(demo.consumer.clientSecret),
      new URLSearchParams(),
      insecure,
    );
    const { access_token } = await oauth.processClientCredentialsResponse(as, client, response);
    const request = new Request(`${demo.registryUrl}/v1/apis`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    const claims = await oauth.validateJwtAccessToken(as, request, 'spl', insecure);
    expect(claims).toMatchObject({
      client_id: demo.consumer.clientId,
      spl_org: 'dinkes',
      spl_roles: ['consumer'],
    });

    // The demo consumer finds the published demo API in the catalog …
    const catalog = (await (await fetch(request)).json()) as {
      items: Array<{ slug: string; versions: unknown }>;
    };
    const api = catalog.items.find((a) => a.slug === 'kependudukan');
    expect(api?.versions).toEqual([{ version: 'v1', state: 'published' }]);
    // … holds an approved subscription to it …
    const subs = await getJson<Array<{ state: string }>>(
      `${demo.registryUrl}/v1/subscriptions`,
      access_token,
    );
    expect(subs.map((x) => x.state)).toEqual(['approved']);
    // … and the demo API answers its probe through the gateway with that token, not without it.
    const probe = `${demo.api.url}${demo.api.probe}`;
    expect(probe.startsWith(demo.publicUrl)).toBe(true);
    expect((await fetch(probe, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(200);
    const anonymous = await fetch(probe);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('delivers an event the demo publisher sends to the demo subscription, signed', async () => {
    expect(demo.topic?.publishUrl).toMatch(/\/v1\/topics\/disdukcapil\/kelahiran-tercatat\/events$/);
    // `pnpm demo:publish` does what a PD's system would: a hub token, then a CloudEvent.
    const run = spawnSync(
      process.execPath,
      [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/publish-demo-event.ts'],
      { cwd: root, env: { ...process.env, SPL_STATE_DIR: state }, encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/published .*: 202/);
    expect(run.stdout).toMatch(/signature verified/);
    for (const secret of [demo.publisher!.clientSecret])
      expect(run.stdout + run.stderr).not.toContain(secret);
    const received = (await (await fetch(demo.topic!.receivedUrl)).json()) as {
      deliveries: Array<{ verified: boolean; event: { type: string; data: { kelurahan: string } } }>;
    };
    expect(received.deliveries[0]).toMatchObject({
      verified: true,
      event: { type: 'id.go.contoh.disdukcapil.kelahiran.tercatat.v1', data: { kelurahan: 'Sukamaju' } },
    });
  });

  it('went through every approval gate, each recorded in a verifying audit trail', async () => {
    const basic = Buffer.from(`${demo.operator.clientId}:${demo.operator.clientSecret}`).toString('base64');
    const tokenResponse = await fetch(`${demo.publicUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: 'grant_type=client_credentials',
    });
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const history = await getJson<Array<{ action: string }>>(
      `${demo.registryUrl}/v1/apis/disdukcapil/kependudukan/versions/v1/transitions`,
      token,
    );
    expect(history.map((t) => t.action)).toEqual(['submit', 'approve', 'approve', 'publish']);
    const verdict = await getJson<{ ok: boolean }>(`${demo.registryUrl}/v1/audit/verify`, token);
    expect(verdict.ok).toBe(true);
  });
});

async function getJson<T>(url: string, token: string): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
