export { checkSnapshot, parseSnapshot, parseSnapshotNotice, SnapshotFormatError } from './parse-snapshot.js';
export { createRegistryTokenSource, RegistryTokenError } from './registry-token.js';
export {
  createSnapshotClient,
  SNAPSHOT_FILE,
  type SnapshotClient,
  SnapshotClientError,
  type SnapshotClientOptions,
  type SnapshotClientStatus,
  type SnapshotSource,
} from './snapshot-client.js';
export {
  CLASSIFICATIONS,
  PublicJwk,
  ROUTE_STATES,
  SNAPSHOT_FORMAT,
  Snapshot,
  SnapshotApplication,
  SnapshotNotice,
  SnapshotOrganisation,
  SnapshotPlan,
  SnapshotRoute,
  SnapshotSubscription,
  SnapshotTopic,
  SnapshotTopicSubscription,
  SnapshotTrustedIssuer,
  SnapshotUpstreamAuth,
  SnapshotWebhookSecret,
  SUBSCRIPTION_STATES,
  TOPIC_SUBSCRIPTION_MODES,
  upstreamSecretContext,
  webhookSecretContext,
} from './snapshot-schema.js';
