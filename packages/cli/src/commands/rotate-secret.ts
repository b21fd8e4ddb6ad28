import { type CliContext, callRegistry } from '../context.js';
import { CliError } from '../errors.js';
import { checkSecretsFile, writeSecretsFile } from '../output.js';
import { parseApplicationRef } from '../refs.js';

export interface RotateSecretOptions {
  /** Rotate the caller's own (personal) client instead of an application's. */
  me?: boolean;
  /** How long the old secret keeps working, seconds; the registry's default when absent. */
  overlap?: number;
  /** Where the new secret is written (0600). Required: the secret is shown once and never printed. */
  credentialsOut?: string;
}

/**
 * `spl rotate-secret <org>/<app>` or `spl rotate-secret --me`. The registry shows a new
 * secret once; since the CLI never prints one, it goes to --credentials-out, which is
 * checked before rotating so that a secret is never issued into the void.
 */
export async function rotateSecret(
  ctx: CliContext,
  application: string | undefined,
  options: RotateSecretOptions,
): Promise<{ clientId: string; previousExpireAt: string }> {
  if (Boolean(options.me) === Boolean(application)) throw new CliError('give either <org>/<app> or --me');
  if (!options.credentialsOut) {
    throw new CliError(
      '--credentials-out <file> is required: the new secret is shown once and never printed',
    );
  }
  if (options.overlap !== undefined && (!Number.isInteger(options.overlap) || options.overlap < 0)) {
    throw new CliError('--overlap must be a whole number of seconds');
  }
  const path = checkSecretsFile(options.credentialsOut, ctx.cwd);
  const body = options.overlap !== undefined ? { overlapSeconds: options.overlap } : {};
  let rotated: { clientId: string; clientSecret: string; previousExpireAt: string };
  if (application) {
    const { org, app } = parseApplicationRef(application);
    rotated = await callRegistry(
      ctx,
      ctx.client.POST('/v1/applications/{org}/{app}/secrets', { params: { path: { org, app } }, body }),
    );
  } else {
    rotated = await callRegistry(ctx, ctx.client.POST('/v1/me/secret', { body }));
  }
  writeSecretsFile(path, {
    registryUrl: ctx.registryUrl,
    clientId: rotated.clientId,
    clientSecret: rotated.clientSecret,
  });
  ctx.io.out(
    `new secret for ${rotated.clientId} written to ${options.credentialsOut} (mode 0600); ` +
      `the previous one works until ${rotated.previousExpireAt}`,
  );
  return { clientId: rotated.clientId, previousExpireAt: rotated.previousExpireAt };
}
