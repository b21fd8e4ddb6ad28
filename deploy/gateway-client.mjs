// Gives the gateway its registry data-plane client (ARCHITECTURE: the gateway reads the
// snapshot with client credentials of role `dataplane`), for deploy/compose.yaml.
//
// Once: with the bootstrap operator the registry wrote to SPL_DEMO_FILE, creates a client
// with POST /v1/dataplane-clients and writes SPL_GATEWAY_CLIENT_ID / SPL_GATEWAY_CLIENT_SECRET
// to SPL_GATEWAY_ENV_FILE (mode 0600), which the gateway loads with `node --env-file`. Later
// runs keep that file while the registry still accepts it. Secrets are never printed.
//
// Plain Node 20 (fetch, no dependencies), so it runs before anything is built.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

const registryUrl = (process.env.SPL_REGISTRY_URL ?? 'http://127.0.0.1:8081').replace(/\/+$/, '');
const demoFile = process.env.SPL_DEMO_FILE ?? '.spl/demo.json';
const envFile = process.env.SPL_GATEWAY_ENV_FILE ?? '.spl/gateway.env';

function fail(message) {
  process.stderr.write(`gateway-client: ${message}\n`);
  process.exit(1);
}

/** An access token for the client, or null when the registry refuses it (RFC 6749 §4.4, Basic). */
async function tokenOf({ clientId, clientSecret }) {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
    'base64',
  );
  const res = await fetch(`${registryUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  if (res.status === 401 || res.status === 400) return null;
  if (!res.ok) fail(`the registry's token endpoint answered ${res.status}`);
  return (await res.json()).access_token;
}

function readEnvFile() {
  if (!existsSync(envFile)) return null;
  const values = Object.fromEntries(
    readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const clientId = values.SPL_GATEWAY_CLIENT_ID;
  const clientSecret = values.SPL_GATEWAY_CLIENT_SECRET;
  return clientId && clientSecret ? { clientId, clientSecret } : null;
}

const known = readEnvFile();
if (known && (await tokenOf(known))) {
  process.stdout.write(`gateway-client: ${envFile} is still accepted by the registry\n`);
  process.exit(0);
}

if (!existsSync(demoFile)) fail(`${demoFile} (SPL_DEMO_FILE) does not exist: has the registry started once?`);
const operator = JSON.parse(readFileSync(demoFile, 'utf8')).operator;
if (!operator?.clientId || !operator?.clientSecret) fail(`${demoFile} holds no bootstrap operator`);
const operatorToken = await tokenOf(operator);
if (!operatorToken) fail(`the registry does not accept the bootstrap operator in ${demoFile}`);

const res = await fetch(`${registryUrl}/v1/dataplane-clients`, {
  method: 'POST',
  headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'gateway' }),
});
if (res.status !== 201) fail(`POST /v1/dataplane-clients answered ${res.status}: ${await res.text()}`);
const { clientId, clientSecret } = await res.json();
writeFileSync(envFile, `SPL_GATEWAY_CLIENT_ID=${clientId}\nSPL_GATEWAY_CLIENT_SECRET=${clientSecret}\n`, {
  mode: 0o600,
});
chmodSync(envFile, 0o600); // writeFileSync's mode applies only to a new file
process.stdout.write(
  `gateway-client: created ${clientId}; its credentials are in ${envFile} (not printed)\n`,
);
