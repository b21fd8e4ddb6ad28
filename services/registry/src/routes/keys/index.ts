import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { actorOf } from '../../auth/principal.js';
import { principalOf } from '../../plugins/access-control.js';
import type { RegistryContext } from '../../registry-context.js';
import { problemResponses, Timestamp } from '../common-schemas.js';

const SigningKey = Type.Object({
  kid: Type.String(),
  alg: Type.String(),
  createdAt: Timestamp,
  retiredAt: Type.Union([Timestamp, Type.Null()]),
  notAfter: Type.Union([Timestamp, Type.Null()], {
    description: 'When a retiring key leaves the JWKS: the last token it signed has expired',
  }),
  status: Type.Enum(['active', 'retiring'] as const),
});

/** The hub's token signing keys (issue 2, point 10): list and rotate. Never a private part. */
export async function keyRoutes(fastify: FastifyInstance, ctx: RegistryContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['keys'];

  app.get(
    '/v1/keys',
    {
      config: { access: { roles: ['operator', 'auditor'] } },
      schema: {
        tags,
        summary: 'List the signing keys in the JWKS (active and retiring)',
        response: { 200: Type.Array(SigningKey), ...problemResponses },
      },
    },
    async () => ctx.keyRing.listKeys(),
  );

  app.post(
    '/v1/keys/rotate',
    {
      config: { access: { roles: ['operator'] } },
      schema: {
        tags,
        summary:
          'Rotate the signing key: new tokens use a new key; the old one verifies until its tokens expire',
        response: {
          200: Type.Object({
            kid: Type.String(),
            retired: Type.Array(Type.String()),
            keys: Type.Array(SigningKey),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const rotated = await ctx.keyRing.rotate(actorOf(principalOf(request)));
      return { ...rotated, keys: await ctx.keyRing.listKeys() };
    },
  );
}
