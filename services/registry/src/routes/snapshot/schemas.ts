import { type Static, Type } from 'typebox';

export const DataplaneClientInput = Type.Object(
  {
    /** Names the instance or fleet, e.g. `gateway-1`; the client id starts with it. */
    name: Type.String({ pattern: '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$', description: 'e.g. gateway-1' }),
  },
  { additionalProperties: false },
);
export type DataplaneClientInput = Static<typeof DataplaneClientInput>;

export const DataplaneClientCredentials = Type.Object({
  clientId: Type.String(),
  /** Shown once, in this answer only; stored as a slow hash. */
  clientSecret: Type.String(),
  org: Type.String(),
  roles: Type.Array(Type.String()),
});
