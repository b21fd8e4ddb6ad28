import type { paths } from '@spl/api-client';
import { type CliContext, callRegistry } from '../context.js';
import { parseApiRef } from '../refs.js';

type TransitionBody = NonNullable<
  paths['/v1/apis/{org}/{api}/versions/{version}/transitions']['post']['requestBody']
>['content']['application/json'];

/** Lifecycle actions on a version (issue 2 point 3); who may take each is the registry's call. */
export const TRANSITION_ACTIONS = [
  'submit',
  'approve',
  'reject',
  'publish',
  'deprecate',
  'retire',
] as const satisfies readonly TransitionBody['action'][];
export type TransitionAction = (typeof TRANSITION_ACTIONS)[number];

/** `spl <action> <org>/<api>/<version> [--reason …] [--sunset <date-time>]`. */
export async function transitionVersion(
  ctx: CliContext,
  action: TransitionAction,
  ref: string,
  options: { reason?: string; sunsetAt?: string } = {},
) {
  const { org, api, version } = parseApiRef(ref, 'required') as { org: string; api: string; version: string };
  const body: TransitionBody = {
    action,
    ...(options.reason ? { reason: options.reason } : {}),
    ...(options.sunsetAt ? { sunsetAt: options.sunsetAt } : {}),
  };
  const answer = await callRegistry(
    ctx,
    ctx.client.POST('/v1/apis/{org}/{api}/versions/{version}/transitions', {
      params: { path: { org, api, version } },
      body,
    }),
  );
  ctx.io.out(`${org}/${api}/${version}: ${action} → ${answer.state}`);
  return answer;
}
