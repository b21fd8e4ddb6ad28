import { type Static, Type } from 'typebox';
import { Timestamp } from '../common-schemas.js';

export const INBOX_KINDS = [
  /** A submitted version (or topic) waits for kelaikan operasi. */
  'review-kelaikan-operasi',
  /** A version (or topic) with kelaikan operasi waits for kelaikan keamanan. */
  'review-kelaikan-keamanan',
  /** A version of the caller's organisation has both approvals and waits to be published. */
  'publish-version',
  /** A subscription request waits for the data owner's consent. */
  'consent-subscription',
  /** A version of the caller's organisation was sent back to draft with the reviewer's reason. */
  'version-returned',
  /** A subscription request of the caller's organisation was rejected (last 30 days). */
  'subscription-rejected',
  /** A topic of the caller's organisation has both approvals and waits to be published. */
  'publish-topic',
  /** A topic of the caller's organisation was sent back to draft with the reviewer's reason. */
  'topic-returned',
  /** A topic subscription request waits for the topic owner's consent. */
  'consent-topic-subscription',
  /** A topic subscription of the caller's organisation was suspended (by the owner, an operator or the broker, with the reason). */
  'topic-subscription-suspended',
  /** A topic subscription request of the caller's organisation was rejected (last 30 days). */
  'topic-subscription-rejected',
] as const;

export const InboxItem = Type.Object({
  kind: Type.Enum(INBOX_KINDS),
  summary: Type.String(),
  /** The resource to act on. */
  path: Type.String(),
  /** Since when it waits. */
  since: Timestamp,
});
export type InboxItem = Static<typeof InboxItem>;

export const Inbox = Type.Object({ items: Type.Array(InboxItem) });
export type Inbox = Static<typeof Inbox>;
