import type { SecretBox } from '@spl/secret-box';
import type { Redis } from 'ioredis';
import type { Mutate } from './audit/mutations.js';
import type { RegistryConfig } from './config.js';
import type { ClientLockout } from './oauth/client-lockout.js';
import type { PersonSessions } from './oauth/person-sessions.js';
import type { KeyRing } from './oauth/signing-keys.js';
import type { RedisKeys } from './redis-keys.js';
import type { SnapshotService } from './snapshot/snapshot-service.js';
import type { Database } from './store/database.js';

/** What `buildApp` is given: everything the registry uses from outside. */
export interface RegistryDeps {
  config: RegistryConfig;
  db: Database;
  redis: Redis;
  secretBox: SecretBox;
  clock?: () => Date;
  /** Pino options or `false`; tests pass `false`. */
  logger?: boolean | Record<string, unknown>;
}

/** The deps plus what `buildApp` derives from them once; handed to every route group. */
export interface RegistryContext extends Omit<RegistryDeps, 'clock' | 'logger'> {
  clock: () => Date;
  keys: RedisKeys;
  mutate: Mutate;
  keyRing: KeyRing;
  lockout: ClientLockout;
  sessions: PersonSessions;
  snapshots: SnapshotService;
}
