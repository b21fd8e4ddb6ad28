/**
 * `pnpm start`: the whole hub on this machine with its demo loaded.
 *
 * 1. Redis at REDIS_URL, or a local redis-server started with its data in .spl/redis.
 * 2. The demo upstream (Disdukcapil population API) on 8090.
 * 3. The registry on 8081 (PostgreSQL at DATABASE_URL, or embedded PGlite in .spl/data), and
 *    the gateway on 8080 — the hub's public address and token issuer (SPL_PUBLIC_URL).
 * 4. The demo content from demo/hub.yaml, applied with `spl apply` by the people whose act
 *    each step is — the bootstrap operator creates, the publisher submits, the Dinas Kominfo
 *    operator grants kelaikan operasi, the security reviewer kelaikan keamanan, the publisher
 *    publishes, the consumer asks for access and the data owner consents — so the demo goes
 *    through the same approval gates as everything else.
 * 5. .spl/demo.json (0600) for people and scripts; secrets are never printed.
 *
 * SPL_DEMO_HUB_FILE loads another hub file instead of demo/hub.yaml (the soak's, with a plan
 * that does not throttle it). demo/hub.yaml names the demo upstream at 127.0.0.1:8090; with
 * SPL_DEMO_UPSTREAM_PORT set to another port, the file applied is a copy pointing there.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
// SPL_STATE_DIR moves .spl elsewhere (the quick-start test runs beside a live hub).
const splDir = resolve(root, process.env.SPL_STATE_DIR ?? '.spl');
const demoFile = join(splDir, 'demo.json');
/** Credentials an apply pass issues, read and removed at once (keepWebhookSecret). */
const issuedFile = join(splDir, 'issued-credentials.json');
/** The demo push subscription's signing secret, for the demo's webhook receiver. */
const webhookSecretFile = join(splDir, 'webhook-secret');
const host = process.env.SPL_HOST ?? '127.0.0.1';
const registryPort = Number(process.env.SPL_REGISTRY_PORT ?? 8081);
/** Where demo/hub.yaml says the demo upstream and the demo webhook receiver are. */
const HUB_FILE_UPSTREAM = 'http://127.0.0.1:8090';
const upstreamPort = Number(process.env.SPL_DEMO_UPSTREAM_PORT ?? 8090);
const sourceHubFile = resolve(root, process.env.SPL_DEMO_HUB_FILE ?? 'demo/hub.yaml');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const gatewayPort = Number(process.env.SPL_GATEWAY_PORT ?? 8080);
const brokerPort = Number(process.env.SPL_BROKER_PORT ?? 8082);
const brokerWorkerPort = Number(process.env.SPL_BROKER_WORKER_PORT ?? 8083);
const registryUrl = `http://${host}:${registryPort}`;
const brokerUrl = `http://${host}:${brokerPort}`;
const gatewayUrl = `http://${host}:${gatewayPort}`;
const children: ChildProcess[] = [];

const say = (line: string) => process.stdout.write(`${line}\n`);

function stopAll(code: number): never {
  for (const child of children.reverse()) child.kill('SIGTERM');
  process.exit(code);
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

function portAnswers(port: number, h = host): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host: h }, () => {
      socket.end();
      done(true);
    });
    socket.on('error', () => done(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      done(false);
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  say(`✗ ${what} did not come up within ${timeoutMs / 1000} s; see the log lines above`);
  stopAll(1);
}

function start(name: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(args[0]!, args.slice(1), {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (signal !== 'SIGTERM') {
      say(`✗ ${name} exited (${code ?? signal})`);
      stopAll(1);
    }
  });
  children.push(child);
  return child;
}

interface DemoSecrets {
  operator: { clientId: string; clientSecret: string };
  consumer: { clientId: string; clientSecret: string };
  publisher: { clientId: string; clientSecret: string };
  people: Record<string, { clientId: string; clientSecret: string }>;
}

/** Credentials are made once and kept in demo.json, so a restart finds the same store. */
function loadOrCreateSecrets(): DemoSecrets & Record<string, unknown> {
  const current = existsSync(demoFile) ? JSON.parse(readFileSync(demoFile, 'utf8')) : {};
  const secret = () => `spl_sk_${randomBytes(32).toString('base64url')}`;
  const person = (clientId: string) =>
    current.people?.[clientId.replace(/^demo-/, '')] ?? { clientId, clientSecret: secret() };
  return {
    ...current,
    operator: current.operator ?? { clientId: 'bootstrap-operator', clientSecret: secret() },
    consumer: current.consumer ?? { clientId: 'dinkes-sistem-rujukan', clientSecret: secret() },
    // Disdukcapil's SIAK: the application allowed to publish to the demo topic.
    publisher: current.publisher ?? { clientId: 'disdukcapil-siak', clientSecret: secret() },
    people: {
      operator: person('demo-operator'),
      reviewer: person('demo-reviewer'),
      publisher: person('demo-publisher'),
      consumer: person('demo-consumer'),
    },
  };
}

function writeDemoFile(content: object): void {
  mkdirSync(splDir, { recursive: true });
  writeFileSync(demoFile, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(demoFile, 0o600);
}

async function ensureRedis(): Promise<void> {
  const url = new URL(redisUrl);
  const port = Number(url.port || 6379);
  if (await portAnswers(port, url.hostname)) return;
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    say(`✗ No Redis answers at ${redisUrl} and redis-server is not installed.`);
    say('  Install it (Debian/Ubuntu: sudo apt-get install -y redis-server) or set REDIS_URL.');
    process.exit(1);
  }
  const dir = join(splDir, 'redis');
  mkdirSync(dir, { recursive: true });
  say(`· starting redis-server on ${url.hostname}:${port} (data in .spl/redis)`);
  start(
    'redis-server',
    [
      found,
      '--port',
      String(port),
      '--bind',
      url.hostname,
      '--dir',
      dir,
      '--save',
      '60 1',
      '--appendonly',
      'no',
    ],
    {},
  );
  await waitFor('redis-server', () => portAnswers(port, url.hostname), 15_000);
}

/**
 * The hub file to apply: the source itself, or — when the demo upstream is on another port —
 * a copy in the state folder with its upstream and push URLs moved there and its `openapiFile`
 * paths made absolute (they are relative to the file's folder).
 */
function hubFileToApply(): string {
  const target = `http://${host}:${upstreamPort}`;
  if (target === HUB_FILE_UPSTREAM) return sourceHubFile;
  const text = readFileSync(sourceHubFile, 'utf8')
    .replaceAll(HUB_FILE_UPSTREAM, target)
    .replace(/(openapiFile|schemaFile): *(\S+)/g, (line, key: string, path: string) =>
      isAbsolute(path) ? line : `${key}: ${resolve(dirname(sourceHubFile), path)}`,
    );
  const copy = join(splDir, 'hub.yaml');
  writeFileSync(copy, text);
  return copy;
}

function applyAs(
  who: string,
  credentials: { clientId: string; clientSecret: string },
  secrets: DemoSecrets,
  hubFile: string,
): string {
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/tsx/dist/cli.mjs'),
      'packages/cli/src/bin.ts',
      'apply',
      '-f',
      hubFile,
      '--credentials-out',
      issuedFile,
    ],
    {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        SPL_REGISTRY_URL: registryUrl,
        SPL_CLIENT_ID: credentials.clientId,
        SPL_CLIENT_SECRET: credentials.clientSecret,
        SPL_DEMO_OPERATOR_SECRET: secrets.people.operator!.clientSecret,
        SPL_DEMO_REVIEWER_SECRET: secrets.people.reviewer!.clientSecret,
        SPL_DEMO_PUBLISHER_SECRET: secrets.people.publisher!.clientSecret,
        SPL_DEMO_CONSUMER_OWNER_SECRET: secrets.people.consumer!.clientSecret,
        SPL_DEMO_CONSUMER_SECRET: secrets.consumer.clientSecret,
        SPL_DEMO_PUBLISHER_APP_SECRET: secrets.publisher.clientSecret,
      },
    },
  );
  if (result.status !== 0) {
    say(`✗ applying ${hubFile} as ${who} failed:\n${result.stderr}${result.stdout}`);
    stopAll(1);
  }
  keepWebhookSecret();
  return result.stdout;
}

/**
 * The apply that creates the demo's push subscription hands its `whsec_…` signing secret back
 * once (`--credentials-out`); it goes to `.spl/webhook-secret` (0600), where the demo's
 * stand-in for Dinkes's system reads it to verify deliveries. The issued file is removed.
 */
function keepWebhookSecret(): void {
  if (!existsSync(issuedFile)) return;
  try {
    const issued = JSON.parse(readFileSync(issuedFile, 'utf8')) as {
      credentials?: Array<{ kind: string; clientSecret?: string }>;
    };
    const webhook = issued.credentials?.find((c) => c.kind === 'topic_subscription');
    if (webhook?.clientSecret) {
      writeFileSync(webhookSecretFile, webhook.clientSecret, { mode: 0o600 });
      chmodSync(webhookSecretFile, 0o600);
    }
  } finally {
    rmSync(issuedFile, { force: true });
  }
}

/** A data plane's registry client (role dataplane), `gateway` or `broker`: made once, kept in demo.json. */
async function dataplaneCredentials(
  name: 'gateway' | 'broker',
  secrets: DemoSecrets & Record<string, unknown>,
): Promise<{ clientId: string; clientSecret: string }> {
  const known = secrets[name] as { clientId: string; clientSecret: string } | undefined;
  const tokenOf = async (c: { clientId: string; clientSecret: string }) => {
    const res = await fetch(`${registryUrl}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    return res.ok ? ((await res.json()) as { access_token: string }).access_token : null;
  };
  if (known && (await tokenOf(known))) return known;
  const operator = await tokenOf(secrets.operator);
  if (!operator) {
    say(
      '✗ the bootstrap operator in .spl/demo.json is not accepted by the registry (remove .spl to start afresh)',
    );
    stopAll(1);
  }
  const res = await fetch(`${registryUrl}/v1/dataplane-clients`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${operator}` },
    body: JSON.stringify({ name }),
  });
  if (!res.ok) {
    say(`✗ could not create the ${name}'s registry client: ${res.status} ${await res.text()}`);
    stopAll(1);
  }
  const body = (await res.json()) as {
    clientId?: string;
    clientSecret?: string;
    credentials?: { clientId: string; clientSecret: string };
  };
  const creds = body.credentials ?? { clientId: body.clientId!, clientSecret: body.clientSecret! };
  return creds;
}

async function main(): Promise<void> {
  mkdirSync(splDir, { recursive: true });
  const secrets = loadOrCreateSecrets();
  writeDemoFile(secrets);

  await ensureRedis();

  say(`· starting the demo upstream on ${host}:${upstreamPort}`);
  start(
    'demo upstream',
    [process.execPath, join(root, 'node_modules/tsx/dist/cli.mjs'), 'demo/src/upstream-server.ts'],
    {
      SPL_DEMO_UPSTREAM_PORT: String(upstreamPort),
      SPL_DEMO_WEBHOOK_SECRET_FILE: webhookSecretFile,
    },
  );
  say(`· starting the registry on ${registryUrl}`);
  start(
    'registry',
    [process.execPath, join(root, 'node_modules/tsx/dist/cli.mjs'), 'services/registry/src/server.ts'],
    {
      SPL_REGISTRY_PORT: String(registryPort),
      SPL_DATA_DIR: process.env.SPL_DATA_DIR ?? join(splDir, 'data'),
      SPL_BOOTSTRAP_CLIENT_ID: secrets.operator.clientId,
      SPL_BOOTSTRAP_CLIENT_SECRET: secrets.operator.clientSecret,
      SPL_DEMO_FILE: demoFile,
      // The gateway is where consumers reach the hub, so it is the token issuer (public contract).
      SPL_PUBLIC_URL: gatewayUrl,
      // The SLA probes go where the gateway may go; the demo upstream is on loopback.
      SPL_EGRESS_ALLOW: process.env.SPL_EGRESS_ALLOW ?? host,
    },
  );
  await waitFor('the registry', async () => {
    try {
      return (await fetch(`${registryUrl}/readyz`)).ok;
    } catch {
      return false;
    }
  });
  await waitFor('the demo upstream', () => portAnswers(upstreamPort));

  // Each pass moves the demo as far as that person's roles allow (see the header).
  const passes: Array<[string, { clientId: string; clientSecret: string }]> = [
    ['the bootstrap operator', secrets.operator],
    ['the Dinas Kominfo operator', secrets.people.operator!],
    ['the security reviewer', secrets.people.reviewer!],
    ['the Disdukcapil publisher', secrets.people.publisher!],
    ['the Dinkes application owner', secrets.people.consumer!],
    ['the Disdukcapil publisher (consent)', secrets.people.publisher!],
  ];
  const hubFile = hubFileToApply();
  say(`· loading ${relative(root, hubFile)} through the approval gates`);
  for (const [who, credentials] of passes) {
    const report = applyAs(who, credentials, secrets, hubFile);
    const changed = report
      .split('\n')
      .filter((l) => /created|updated|transitioned|requested|approved/.test(l)).length;
    say(`  ${who}: ${changed} change(s)`);
  }

  const gateway = await dataplaneCredentials('gateway', secrets);
  const broker = await dataplaneCredentials('broker', secrets);
  writeDemoFile({ ...secrets, gateway, broker });
  say(`· starting the gateway on ${gatewayUrl}`);
  start(
    'gateway',
    [process.execPath, join(root, 'node_modules/tsx/dist/cli.mjs'), 'services/gateway/src/server.ts'],
    {
      SPL_GATEWAY_PORT: String(gatewayPort),
      SPL_REGISTRY_URL: registryUrl,
      SPL_PUBLIC_URL: gatewayUrl,
      SPL_GATEWAY_CLIENT_ID: gateway.clientId,
      SPL_GATEWAY_CLIENT_SECRET: gateway.clientSecret,
      SPL_DATA_DIR: process.env.SPL_DATA_DIR ?? join(splDir, 'data'),
      // Outbound calls go only where allowed; the demo upstream is on loopback.
      SPL_EGRESS_ALLOW: process.env.SPL_EGRESS_ALLOW ?? host,
    },
  );
  await waitFor('the gateway', async () => {
    try {
      return (await fetch(`${gatewayUrl}/readyz`)).ok;
    } catch {
      return false;
    }
  });

  say(`· starting the broker on ${brokerUrl} (publish API) and its delivery worker`);
  start(
    'broker',
    [process.execPath, join(root, 'node_modules/tsx/dist/cli.mjs'), 'services/broker/src/start.ts'],
    {
      SPL_BROKER_PORT: String(brokerPort),
      SPL_BROKER_WORKER_PORT: String(brokerWorkerPort),
      SPL_REGISTRY_URL: registryUrl,
      SPL_PUBLIC_URL: gatewayUrl,
      SPL_BROKER_CLIENT_ID: broker.clientId,
      SPL_BROKER_CLIENT_SECRET: broker.clientSecret,
      SPL_DATA_DIR: process.env.SPL_DATA_DIR ?? join(splDir, 'data'),
      // Webhooks go only where allowed; the demo's receiver is on loopback.
      SPL_EGRESS_ALLOW: process.env.SPL_EGRESS_ALLOW ?? host,
    },
  );
  await waitFor('the broker', async () => {
    try {
      const [api, worker] = await Promise.all([
        fetch(`${brokerUrl}/readyz`),
        fetch(`http://${host}:${brokerWorkerPort}/readyz`),
      ]);
      return api.ok && worker.ok;
    } catch {
      return false;
    }
  });

  writeDemoFile({
    ...secrets,
    gateway,
    broker,
    topic: {
      publishUrl: `${brokerUrl}/v1/topics/disdukcapil/kelahiran-tercatat/events`,
      // The demo's stand-in for Dinkes's system: what the push subscription has received.
      receivedUrl: `http://${host}:${upstreamPort}/webhooks/kelahiran`,
    },
    publicUrl: gatewayUrl,
    registryUrl,
    upstreamUrl: `http://${host}:${upstreamPort}`,
    api: { url: `${gatewayUrl}/disdukcapil/kependudukan/v1`, probe: '/status' },
  });

  say('');
  say('SPL is running (Ctrl-C stops it).');
  say(`  demo API            ${gatewayUrl}/disdukcapil/kependudukan/v1/status (with the consumer's token)`);
  say(`  OAuth2 metadata     ${gatewayUrl}/.well-known/oauth-authorization-server`);
  say(`  registry API docs   ${registryUrl}/docs`);
  say(`  status page         ${registryUrl}/status (probes every SPL_PROBE_SECONDS, default 60)`);
  say(`  monev report        pnpm spl report monev --from <date-time> --to <date-time> --org disdukcapil`);
  say(`  metrics             ${gatewayUrl}/metrics · ${registryUrl}/metrics`);
  say(`  demo upstream       http://${host}:${upstreamPort}/status`);
  say(
    `  demo events         pnpm demo:publish  → ${brokerUrl}/v1/topics/disdukcapil/kelahiran-tercatat/events`,
  );
  say(`                      received by Dinkes: http://${host}:${upstreamPort}/webhooks/kelahiran`);
  say(`  broker API docs     ${brokerUrl}/docs`);
  say(`  credentials         ${demoFile} (mode 0600; operator, consumer, publisher, people.*)`);
  say('  try                 pnpm spl list apis    ·    pnpm spl inbox --as people.reviewer');
}

await main();
