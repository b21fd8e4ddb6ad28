import { type CliContext, callRegistry } from '../context.js';
import { formatJson } from '../output.js';

/** `spl whoami`: the client, organisation, roles and person behind the credentials in use. */
export async function whoami(ctx: CliContext, options: { json?: boolean } = {}) {
  const me = await callRegistry(ctx, ctx.client.GET('/v1/me'));
  if (options.json) {
    ctx.io.out(formatJson(me));
    return me;
  }
  ctx.io.out(`client  ${me.clientId}`);
  ctx.io.out(`org     ${me.org}`);
  ctx.io.out(`roles   ${me.roles.join(', ') || '(none)'}`);
  ctx.io.out(
    `person  ${me.user ? `${me.user.name} (${me.user.username})` : '(none: a client without a person)'}`,
  );
  return me;
}
