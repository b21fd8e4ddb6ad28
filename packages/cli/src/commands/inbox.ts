import { type CliContext, callRegistry } from '../context.js';
import { formatJson, formatTable } from '../output.js';

/** `spl inbox`: what waits on the caller — submissions to review, subscription requests to consent to. */
export async function showInbox(ctx: CliContext, options: { json?: boolean } = {}) {
  const inbox = await callRegistry(ctx, ctx.client.GET('/v1/inbox'));
  if (options.json) {
    ctx.io.out(formatJson(inbox));
    return inbox;
  }
  if (!inbox.items.length) {
    ctx.io.err('nothing waits on you');
    return inbox;
  }
  ctx.io.out(
    formatTable(
      ['SINCE', 'KIND', 'WHAT', 'PATH'],
      inbox.items.map((i) => [i.since, i.kind, i.summary, i.path]),
    ),
  );
  return inbox;
}
