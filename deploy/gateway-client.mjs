// Gives a data plane its registry data-plane client (ARCHITECTURE: the gateway and the broker
// read the snapshot with client credentials of role `dataplane`), for deploy/compose.yaml.
// SPL_DATAPLANE_NAME says which: `gateway` (default) or `broker`.
//
// Once: with the bootstrap operator the registry wrote to SPL_DEMO_FILE, creates a client
// with POST /v1/dataplane-clients and writes SPL_<NAME>_CLIENT_ID / SPL_<NAME>_CLIENT_SECRET
// to SPL_DATAPLANE_ENV_FILE (mode 0600; SPL_GATEWAY_ENV_FILE is its older name), which the
// service loads with `node --env-file`. Later runs keep that file while the registry still
// accepts it. Secrets are never printed.
//
// Plain Node 20 (fetch, no dependencies), so it runs before anything is built.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

const registryUrl = (process.env.SPL_REGISTRY_URL ?? 'http://127.0.0.1:8081').replace(/\/+$/, '');
const demoFile = process.env.SPL_DEMO_FILE ?? '.spl/demo.json';
const name = process.env.SPL_DATAPLANE_NAME ?? 'gateway';
const envFile = process.env.SPL_DATAPLANE_ENV_FILE ?? process.env.SPL_GATEWAY_ENV_FILE ?? `.spl/${name}.env`;
const idVar = `SPL_${name.toUpperCase()}_CLIENT_ID`;
const secretVar = `SPL_${name.toUpperCase()}_CLIENT_SECRET`;

function fail(message) {
  process.stderr.write(`${name}-client: ${message}\n`);
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
  const clientId = values[idVar];
  const clientSecret = values[secretVar];
  return clientId && clientSecret ? { clientId, clientSecret } : null;
}

const known = readEnvFile();
if (known && (await tokenOf(known))) {
  process.stdout.write(`${name}-client: ${envFile} is still accepted by the registry\n`);
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
  body: JSON.stringify({ name }),
});
if (res.status !== 201) fail(`POST /v1/dataplane-clients answered ${res.status}: ${await res.text()}`);
const { clientId, clientSecret } = await res.json();
writeFileSync(envFile, `${idVar}=${clientId}\n${secretVar}=${clientSecret}\n`, {
  mode: 0o600,
});
chmodSync(envFile, 0o600); // writeFileSync's mode applies only to a new file
process.stdout.write(
  `${name}-client: created ${clientId}; its credentials are in ${envFile} (not printed)\n`,
);
