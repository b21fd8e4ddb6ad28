import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DemoHub } from '../../test/support/demo-hub.js';
import { freePort, root } from '../../test/support/hub-processes.js';
import { StandIn } from '../../test/support/stand-in.js';

/**
 * The demo plan (600 requests/minute, burst 100) would answer most of a peak run 429; the
 * soak measures the hub, not its throttle, so its copy of demo/hub.yaml has the schema's
 * largest plan (1,000,000/minute, about 16,700/s, well above this machine's peak).
 */
const SOAK_PLAN = 'plan: { requestsPerMinute: 1000000, burst: 1000000,';
/** Likewise the gateway's per-IP flood guard (500/s by default): every call comes from loopback. */
const SOAK_GATEWAY_ENV = { SPL_FLOOD_PER_SECOND: '1000000', SPL_FLOOD_BURST: '1000000' };

export interface SoakHub {
  hub: DemoHub;
  standIn: StandIn;
  consumerUrl: string;
  publishUrl: string;
}

/** demo/hub.yaml with the soak's plan, its OpenAPI file named by absolute path. */
function writeSoakHubFile(state: string): string {
  const source = readFileSync(join(root, 'demo/hub.yaml'), 'utf8');
  const plan = /plan: \{ requestsPerMinute: \d+, burst: \d+,/;
  if (!plan.test(source)) throw new Error('demo/hub.yaml: the demo plan is not where the soak expects it');
  const text = source
    .replace(plan, SOAK_PLAN)
    .replaceAll('openapiFile: openapi/', `openapiFile: ${join(root, 'demo/openapi')}/`);
  const file = join(state, 'soak-hub.yaml');
  writeFileSync(file, text);
  return file;
}

/**
 * The whole hub as four processes (test/support/demo-hub.ts, as the fault suite runs it) with a
 * redis-server of its own on a free port, and a stand-in of the soak's own — the demo API's
 * `/status` and the webhook receiver — on another free port, never the demo's 8090.
 */
export async function startSoakHub(state: string): Promise<SoakHub> {
  const upstreamPort = await freePort();
  const hub = new DemoHub({
    state,
    upstreamPort,
    hubFile: writeSoakHubFile(state),
    gatewayEnv: SOAK_GATEWAY_ENV,
  });
  const standIn = new StandIn(upstreamPort);
  try {
    await hub.start();
    await standIn.listenWhenFree();
  } catch (err) {
    await hub.stop();
    throw err;
  }
  return {
    hub,
    standIn,
    consumerUrl: `${hub.gatewayUrl}/disdukcapil/kependudukan/v1/status`,
    publishUrl: `${hub.brokerUrl}/v1/topics/disdukcapil/kelahiran-tercatat/events`,
  };
}
