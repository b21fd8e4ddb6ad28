import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { type EgressPolicy, EgressRefusedError } from './egress-policy.js';

/**
 * An undici connector that checks the address actually dialled against SPL_EGRESS_ALLOW:
 * names go through the policy's lookup, so a name that resolved to a public address when it
 * was checked and to an internal one when dialled (DNS rebinding) is still refused; IP
 * literals, which net.connect never looks up, are checked here (without it a webhook URL of
 * http://127.0.0.2/ was dialled: found by test/hostile/ssrf.test.ts). Used for every
 * outbound call of the data planes: upstreams, webhooks, upstream token endpoints, federated
 * JWKS.
 */
export function createEgressConnector(
  egress: EgressPolicy,
  options: buildConnector.BuildOptions = {},
): buildConnector.connector {
  const connect = buildConnector({ ...options, lookup: egress.lookup } as buildConnector.BuildOptions);
  return (connectOptions, callback) => {
    const host = connectOptions.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const why = egress.check(host, host);
      if (why) return callback(new EgressRefusedError(why), null);
    }
    connect(connectOptions, callback);
  };
}

/** An undici Agent whose every connection goes through `createEgressConnector`. */
export function createEgressAgent(
  egress: EgressPolicy,
  options: Omit<Agent.Options, 'connect'> & { connect?: buildConnector.BuildOptions } = {},
): Agent {
  const { connect, ...rest } = options;
  return new Agent({ ...rest, connect: createEgressConnector(egress, connect) });
}

/**
 * Whether a URL's host may be called, judged on the addresses it resolves to now — allowed
 * when one of them is, as the connector's lookup dials only those: a check before a request,
 * for a clear refusal without one. The request itself must still go through
 * `createEgressAgent`, which judges the address it dials.
 */
export async function isUrlAllowed(egress: EgressPolicy, url: URL): Promise<boolean> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  return addresses.some((address) => egress.check(host, address) === null);
}
