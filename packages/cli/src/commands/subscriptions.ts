import type { paths } from '@spl/api-client';
import { type CliContext, callRegistry } from '../context.js';
import { parseApiRef, parseApplicationRef } from '../refs.js';

type DecisionBody = NonNullable<
  paths['/v1/subscriptions/{id}/decision']['post']['requestBody']
>['content']['application/json'];

export const CONSENT_DECISIONS = [
  'approve',
  'reject',
  'suspend',
  'resume',
  'revoke',
] as const satisfies readonly DecisionBody['decision'][];
export type ConsentDecision = (typeof CONSENT_DECISIONS)[number];

/** `spl subscribe <appOrg>/<app> <org>/<api>/<version> --purpose …`: asks the API's owner for access. */
export async function subscribe(
  ctx: CliContext,
  application: string,
  apiVersion: string,
  options: { purpose: string },
) {
  const app = parseApplicationRef(application);
  const target = parseApiRef(apiVersion, 'required');
  const subscription = await callRegistry(
    ctx,
    ctx.client.POST('/v1/subscriptions', {
      body: {
        application: `${app.org}/${app.app}`,
        api: `${target.org}/${target.api}`,
        version: target.version as string,
        purpose: options.purpose,
      },
    }),
  );
  ctx.io.out(
    `subscription ${subscription.id}: ${subscription.application} → ${subscription.api}/${subscription.version} (${subscription.state})`,
  );
  return subscription;
}

/** `spl consent <subscriptionId> <decision> [--reason …]`: the data owner's decision (DIGEST §3). */
export async function decideSubscription(
  ctx: CliContext,
  subscriptionId: string,
  decision: ConsentDecision,
  options: { reason?: string } = {},
) {
  const subscription = await callRegistry(
    ctx,
    ctx.client.POST('/v1/subscriptions/{id}/decision', {
      params: { path: { id: subscriptionId } },
      body: { decision, ...(options.reason ? { reason: options.reason } : {}) },
    }),
  );
  ctx.io.out(`subscription ${subscription.id}: ${decision} → ${subscription.state}`);
  return subscription;
}
