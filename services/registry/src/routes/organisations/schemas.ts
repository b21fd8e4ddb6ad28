import { type Static, Type } from 'typebox';
import { Contact, Slug, Timestamp } from '../common-schemas.js';

export const ORGANISATION_KINDS = [
  'perangkat-daerah',
  'instansi-pusat',
  'pemda-lain',
  'dinas-kominfo',
] as const;

export const OrganisationKind = Type.Enum(ORGANISATION_KINDS, {
  description: 'Perangkat Daerah, Instansi Pusat, another Pemda, or the Dinas Kominfo that runs the hub',
});

export const OrganisationInput = Type.Object(
  {
    slug: Slug,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    kind: OrganisationKind,
    contacts: Type.Optional(Type.Array(Contact, { maxItems: 20 })),
  },
  { additionalProperties: false },
);
export type OrganisationInput = Static<typeof OrganisationInput>;

export const OrganisationPatch = Type.Partial(Type.Omit(OrganisationInput, ['slug']), {
  additionalProperties: false,
});
export type OrganisationPatch = Static<typeof OrganisationPatch>;

export const Organisation = Type.Object({
  slug: Type.String(),
  name: Type.String(),
  kind: OrganisationKind,
  contacts: Type.Array(Contact),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Organisation = Static<typeof Organisation>;

export const OrgParams = Type.Object({ org: Type.String({ maxLength: 63 }) });
