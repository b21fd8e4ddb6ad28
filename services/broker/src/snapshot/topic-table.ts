import type { SecretBox } from '@spl/secret-box';
import {
  type Snapshot,
  type SnapshotTopic,
  type SnapshotTopicSubscription,
  webhookSecretContext,
} from '@spl/snapshot';
import { createAccessTokenVerifier, type FederatedVerifier, TokenError } from '@spl/token';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { decodeJwt } from 'jose';

// ajv-formats is CommonJS: its default export is the function under ESM interop.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/** Algorithms the hub signs with; `none`, HS* and RS* are refused whatever the token says. */
export const HUB_ALGORITHMS = ['ES256', 'EdDSA'];

/** A signing key of a push subscription, opened from the snapshot. */
export interface WebhookKey {
  key: Buffer;
  /** ms since the epoch; Infinity when the key has no end. */
  notAfter: number;
}

/** A topic subscription as the delivery loop needs it: filters and keys ready, no parsing per event. */
export interface CompiledSubscription {
  id: string;
  applicationId: string;
  topicId: string;
  org: string;
  topic: string;
  mode: 'push' | 'pull';
  isActive: boolean;
  url: string | null;
  keys: WebhookKey[];
  /** Why the subscription cannot be pushed (its secrets did not open); null when fine. */
  problem: string | null;
  types: ReadonlySet<string> | null;
  subjectPrefixes: readonly string[] | null;
}

export interface CompiledTopic {
  id: string;
  org: string;
  topic: string;
  limits: SnapshotTopic['limits'];
  publishers: ReadonlySet<string>;
  validate: ValidateFunction | null;
  subscriptions: CompiledSubscription[];
}

export interface Publisher {
  applicationId: string | null;
  org: string;
  clientId: string;
  expiresAt: number;
}

/**
 * The broker's lookup tables for one snapshot, compiled once when it arrives (STYLE "Hot
 * paths"): topics by `org/topic` with their schema validator, subscriptions by id and by
 * topic with opened secrets, and the hub token verifier.
 */
export interface TopicTable {
  version: number;
  etag: string;
  loadedAt: string;
  topic(org: string, topic: string): CompiledTopic | undefined;
  topicById(id: string): CompiledTopic | undefined;
  subscription(id: string): CompiledSubscription | undefined;
  /** Push subscriptions of any topic (the worker keeps a retry queue for each). */
  pushSubscriptions(): CompiledSubscription[];
  verifyToken(token: string): Promise<Publisher>;
  /** Validators by schema hash, handed to the next compile so unchanged schemas are not recompiled. */
  validators: Map<string, ValidateFunction>;
}

export function matchesFilter(sub: CompiledSubscription, type: string, subject: string | undefined): boolean {
  if (sub.types && !sub.types.has(type)) return false;
  if (sub.subjectPrefixes) {
    if (subject === undefined) return false;
    if (!sub.subjectPrefixes.some((p) => subject.startsWith(p))) return false;
  }
  return true;
}

/** Opens a `whsec_<base64>` secret into the HMAC key (Standard Webhooks "Signature scheme"). */
export function decodeWebhookSecret(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

export function compileTopicTable(
  snapshot: Snapshot,
  previous: TopicTable | null,
  deps: {
    issuer: string;
    audience: string;
    secretBox: SecretBox | null;
    /** Trusted issuers' tokens (national SPLP, other hubs); updated by the runtime per snapshot. */
    federated?: FederatedVerifier | null;
  },
): TopicTable {
  const validators = new Map<string, ValidateFunction>();
  let ajv: Ajv2020 | null = null;
  const validatorFor = (hash: string): ValidateFunction | null => {
    const schema = snapshot.eventSchemas?.[hash];
    if (!schema) return null;
    const known = validators.get(hash) ?? previous?.validators.get(hash);
    if (known) {
      validators.set(hash, known);
      return known;
    }
    if (!ajv) {
      ajv = new Ajv2020({ allErrors: false, strict: false });
      addFormats(ajv);
    }
    const compiled = ajv.compile(schema);
    validators.set(hash, compiled);
    return compiled;
  };

  const topics = new Map<string, CompiledTopic>();
  const byId = new Map<string, CompiledTopic>();
  for (const t of snapshot.topics ?? []) {
    const compiled: CompiledTopic = {
      id: t.id,
      org: t.org,
      topic: t.topic,
      limits: t.limits,
      publishers: new Set(t.publisherApplicationIds),
      validate: validatorFor(t.schemaHash),
      subscriptions: [],
    };
    topics.set(`${t.org}/${t.topic}`, compiled);
    byId.set(t.id, compiled);
  }

  const subscriptions = new Map<string, CompiledSubscription>();
  for (const s of snapshot.topicSubscriptions ?? []) {
    const topic = topics.get(`${s.org}/${s.topic}`);
    if (!topic) continue;
    const compiled = compileSubscription(s, topic.id, deps.secretBox);
    subscriptions.set(s.id, compiled);
    topic.subscriptions.push(compiled);
  }
  const push = [...subscriptions.values()].filter((s) => s.mode === 'push');

  const verifier = createAccessTokenVerifier({
    jwks: snapshot.hubKeys as never,
    issuer: deps.issuer,
    audience: deps.audience,
    algorithms: HUB_ALGORITHMS,
  });
  const trustedIssuers = new Set(snapshot.trustedIssuers.map((t) => t.issuer));
  const applications = new Map<string, { id: string; org: string }>();
  for (const app of snapshot.applications)
    for (const clientId of app.clientIds) applications.set(clientId, { id: app.id, org: app.org });

  return {
    version: snapshot.version,
    etag: snapshot.etag,
    loadedAt: new Date().toISOString(),
    topic: (org, topic) => topics.get(`${org}/${topic}`),
    topicById: (id) => byId.get(id),
    subscription: (id) => subscriptions.get(id),
    pushSubscriptions: () => push,
    async verifyToken(token) {
      let iss: unknown;
      try {
        iss = decodeJwt(token).iss;
      } catch {
        throw new TokenError('malformed', 'token is malformed');
      }
      if (iss !== deps.issuer && typeof iss === 'string' && trustedIssuers.has(iss) && deps.federated) {
        const identity = await deps.federated.verify(token, iss);
        return {
          applicationId: identity.applicationId,
          org: identity.org,
          clientId: identity.clientId,
          expiresAt: identity.exp,
        };
      }
      const claims = await verifier.verify(token);
      const app = applications.get(claims.client_id);
      return {
        applicationId: app?.id ?? null,
        org: app?.org ?? claims.spl_org,
        clientId: claims.client_id,
        expiresAt: claims.exp,
      };
    },
    validators,
  };
}

function compileSubscription(
  s: SnapshotTopicSubscription,
  topicId: string,
  secretBox: SecretBox | null,
): CompiledSubscription {
  const keys: WebhookKey[] = [];
  let problem: string | null = null;
  if (s.mode === 'push') {
    if (!s.push) problem = 'push subscription without a url';
    else if (!secretBox) problem = 'no master key: webhook secrets cannot be opened';
    else {
      try {
        for (const secret of s.push.secrets)
          keys.push({
            key: decodeWebhookSecret(secretBox.open(secret.sealedSecret, webhookSecretContext(s.id))),
            notAfter: secret.notAfter ? Date.parse(secret.notAfter) : Number.POSITIVE_INFINITY,
          });
      } catch (err) {
        problem = `webhook secret did not open: ${(err as Error).message}`;
        keys.length = 0;
      }
    }
  }
  return {
    id: s.id,
    applicationId: s.applicationId,
    topicId,
    org: s.org,
    topic: s.topic,
    mode: s.mode,
    isActive: s.state === 'approved',
    url: s.push?.url ?? null,
    keys,
    problem,
    types: s.types?.length ? new Set(s.types) : null,
    subjectPrefixes: s.subjectPrefixes?.length ? s.subjectPrefixes : null,
  };
}
