import type { paths } from '@spl/api-client';
import { type CliContext, callRegistry } from '../context.js';
import { CliError } from '../errors.js';
import { checkSecretsFile, formatJson, formatRecord, formatTable, writeSecretsFile } from '../output.js';
import { parseApplicationRef, parseTopicRef } from '../refs.js';
import type { ConsentDecision } from './subscriptions.js';
import type { TransitionAction } from './transition.js';

type TopicQuery = NonNullable<paths['/v1/topics']['get']['parameters']['query']>;

/** `spl list topics [--org …] [--state …]`: the event topics the caller may see. */
export async function listTopics(
  ctx: CliContext,
  options: { org?: string; state?: TopicQuery['state']; json?: boolean } = {},
) {
  const { json, ...filters } = options;
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)) as TopicQuery;
  const topics = await callRegistry(ctx, ctx.client.GET('/v1/topics', { params: { query } }));
  if (json) {
    ctx.io.out(formatJson(topics));
    return topics;
  }
  if (!topics.length) {
    ctx.io.err('no topics match');
    return topics;
  }
  ctx.io.out(
    formatTable(
      ['TOPIC', 'STATE', 'CLASSIFICATION', 'DESCRIPTION'],
      topics.map((t) => [`${t.org}/${t.slug}`, t.state, t.classification, t.description]),
    ),
  );
  return topics;
}

/** `spl show topic <org>/<topic> [--asyncapi]`: one topic, or its AsyncAPI 3.0 document. */
export async function showTopic(
  ctx: CliContext,
  ref: string,
  options: { json?: boolean; asyncapi?: boolean } = {},
) {
  const path = { params: { path: parseTopicRef(ref) } };
  if (options.asyncapi) {
    const doc = await callRegistry(ctx, ctx.client.GET('/v1/catalog/topics/{org}/{topic}/asyncapi', path));
    ctx.io.out(formatJson(doc));
    return doc;
  }
  const topic = await callRegistry(ctx, ctx.client.GET('/v1/topics/{org}/{topic}', path));
  if (options.json) {
    ctx.io.out(formatJson(topic));
    return topic;
  }
  const { schema, limits, ...rest } = topic;
  ctx.io.out(formatRecord(rest));
  ctx.io.out(
    `limits: ${Object.entries(limits)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  ctx.io.out(`schema: ${JSON.stringify(schema)}`);
  return topic;
}

/** `spl topic <action> <org>/<topic>`: the topic's lifecycle (the registry checks your role). */
export async function transitionTopic(
  ctx: CliContext,
  action: TransitionAction,
  ref: string,
  options: { reason?: string } = {},
) {
  const { org, topic } = parseTopicRef(ref);
  const answer = await callRegistry(
    ctx,
    ctx.client.POST('/v1/topics/{org}/{topic}/transitions', {
      params: { path: { org, topic } },
      body: { action, ...(options.reason ? { reason: options.reason } : {}) },
    }),
  );
  ctx.io.out(`${org}/${topic}: ${action} → ${answer.state}`);
  return answer;
}

export interface SubscribeTopicOptions {
  purpose: string;
  /** Push: the webhook URL. Without it the subscription is pull. */
  push?: string;
  types?: string[];
  subjectPrefixes?: string[];
  /** Push only, required: where the signing secret is written (0600); it is shown once. */
  credentialsOut?: string;
}

/**
 * `spl topic subscribe <appOrg>/<app> <org>/<topic> --purpose … [--push <url>]`: asks the
 * topic's owner for its events. A push subscription's signing secret is shown once and never
 * printed, so it goes to --credentials-out, checked before anything is asked.
 */
export async function subscribeTopic(
  ctx: CliContext,
  application: string,
  topicRef: string,
  options: SubscribeTopicOptions,
) {
  const app = parseApplicationRef(application);
  const { org, topic } = parseTopicRef(topicRef);
  if (options.push && !options.credentialsOut)
    throw new CliError('--credentials-out <file> is required with --push: the signing secret is shown once');
  if (!options.push && options.credentialsOut)
    throw new CliError('--credentials-out is only for --push (a pull subscription has no secret)');
  const path = options.credentialsOut ? checkSecretsFile(options.credentialsOut, ctx.cwd) : undefined;
  const created = await callRegistry(
    ctx,
    ctx.client.POST('/v1/topic-subscriptions', {
      body: {
        application: `${app.org}/${app.app}`,
        topic: `${org}/${topic}`,
        purpose: options.purpose,
        mode: options.push ? 'push' : 'pull',
        ...(options.push ? { pushUrl: options.push } : {}),
        ...(options.types?.length ? { types: options.types } : {}),
        ...(options.subjectPrefixes?.length ? { subjectPrefixes: options.subjectPrefixes } : {}),
      },
    }),
  );
  const { webhookSecret, ...subscription } = created;
  ctx.io.out(
    `topic subscription ${subscription.id}: ${subscription.application} → ${subscription.topic} (${subscription.mode}, ${subscription.state})`,
  );
  if (webhookSecret && path) {
    writeSecretsFile(path, { subscription: subscription.id, webhookSecret: webhookSecret.secret });
    ctx.io.out(`webhook signing secret written to ${options.credentialsOut} (mode 0600)`);
  }
  return subscription;
}

/** `spl topic consent <subscriptionId> <decision> [--reason …]`: the topic owner's decision. */
export async function decideTopicSubscription(
  ctx: CliContext,
  id: string,
  decision: ConsentDecision,
  options: { reason?: string } = {},
) {
  const subscription = await callRegistry(
    ctx,
    ctx.client.POST('/v1/topic-subscriptions/{id}/decision', {
      params: { path: { id } },
      body: { decision, ...(options.reason ? { reason: options.reason } : {}) },
    }),
  );
  ctx.io.out(`topic subscription ${subscription.id}: ${decision} → ${subscription.state}`);
  return subscription;
}

/** `spl topic rotate-secret <subscriptionId> --credentials-out <file> [--overlap <s>]`. */
export async function rotateWebhookSecret(
  ctx: CliContext,
  id: string,
  options: { overlap?: number; credentialsOut?: string },
) {
  if (!options.credentialsOut)
    throw new CliError(
      '--credentials-out <file> is required: the new secret is shown once and never printed',
    );
  const path = checkSecretsFile(options.credentialsOut, ctx.cwd);
  const rotated = await callRegistry(
    ctx,
    ctx.client.POST('/v1/topic-subscriptions/{id}/secrets', {
      params: { path: { id } },
      body: options.overlap !== undefined ? { overlapSeconds: options.overlap } : {},
    }),
  );
  writeSecretsFile(path, { subscription: id, webhookSecret: rotated.secret });
  ctx.io.out(
    `new webhook signing secret of ${id} written to ${options.credentialsOut} (mode 0600); ` +
      `the previous one signs until ${rotated.previousNotAfter}`,
  );
  return { subscription: id, previousNotAfter: rotated.previousNotAfter };
}
