import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CLASSIFICATIONS, LIFECYCLE_STATES, listApis, PAGE_SIZE, showApi } from './commands/apis.js';
import { applyHubFile } from './commands/apply.js';
import { verifyAudit } from './commands/audit.js';
import { registerEvidenceCommands } from './commands/evidence.js';
import { exportHubTo } from './commands/export.js';
import { showInbox } from './commands/inbox.js';
import { MONEV_FORMATS, type MonevFormat, reportMonev } from './commands/report.js';
import { REPORT_OUTPUTS, reportSpbe } from './commands/report-spbe.js';
import { rotateSecret } from './commands/rotate-secret.js';
import {
  CONSENT_DECISIONS,
  type ConsentDecision,
  decideSubscription,
  subscribe,
} from './commands/subscriptions.js';
import {
  decideTopicSubscription,
  listTopics,
  rotateWebhookSecret,
  showTopic,
  subscribeTopic,
  transitionTopic,
} from './commands/topics.js';
import { TRANSITION_ACTIONS, transitionVersion } from './commands/transition.js';
import { whoami } from './commands/whoami.js';
import {
  type CliContext,
  type CliIo,
  createCliContext,
  DEFAULT_REGISTRY_URL,
  type GlobalOptions,
} from './context.js';
import { CliError } from './errors.js';

export interface RunOptions {
  io?: CliIo;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number of seconds');
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number');
  return n;
}

/** The `spl` command tree; each action builds its context from the global options and runs one command. */
export function buildProgram(options: RunOptions = {}): Command {
  const io = options.io ?? processIo;
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const program = new Command('spl')
    .description('Command line of SPL, the regional Sistem Penghubung Layanan')
    .addOption(
      new Option('--url <url>', `registry base URL (env SPL_REGISTRY_URL, default ${DEFAULT_REGISTRY_URL})`),
    )
    .addOption(new Option('--client-id <id>', 'OAuth2 client id (env SPL_CLIENT_ID)'))
    .addOption(
      new Option('--client-secret <secret>', 'OAuth2 client secret (env SPL_CLIENT_SECRET; prefer the env)'),
    )
    .addOption(
      new Option('--as <profile>', 'use credentials from .spl/demo.json, e.g. consumer or people.publisher'),
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const run =
    <A extends unknown[]>(fn: (ctx: CliContext, ...args: A) => Promise<unknown>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const ctx = createCliContext(command.optsWithGlobals<GlobalOptions>(), io, env, cwd);
      await fn(ctx, ...(args.slice(0, -1) as A));
    };

  program
    .command('apply')
    .description('create or update the hub content of a YAML file (organisations, APIs, applications, …)')
    .requiredOption('-f, --file <file>', 'hub YAML file (apiVersion: spl/v1)')
    .option('--dry-run', 'report what would change without changing anything')
    .option('--credentials-out <file>', 'write credentials the apply issues to this file (mode 0600)')
    .action(
      run((ctx, opts: { file: string; dryRun?: boolean; credentialsOut?: string }) =>
        applyHubFile(ctx, opts),
      ),
    );

  program
    .command('export')
    .description('write the hub content as YAML (without secrets)')
    .option('-o, --output <file>', 'file to write (default: stdout)')
    .action(run((ctx, opts: { output?: string }) => exportHubTo(ctx, opts)));

  const list = program.command('list').description('list things in the registry');
  list
    .command('apis')
    .description('search the API catalog')
    .option('--q <text>', 'free text')
    .option('--tag <tag>')
    .option('--org <org>', 'owning organisation slug')
    .addOption(new Option('--classification <classification>').choices(CLASSIFICATIONS))
    .addOption(new Option('--state <state>', 'lifecycle state of a version').choices(LIFECYCLE_STATES))
    .option('--limit <n>', `APIs per page (default ${PAGE_SIZE})`, count)
    .option('--offset <n>', 'APIs to skip', count)
    .option('--json', 'machine-readable output')
    .action(run((ctx, opts: Parameters<typeof listApis>[1]) => listApis(ctx, opts)));

  list
    .command('topics')
    .description('the event topics you may see')
    .option('--org <org>', 'owning organisation slug')
    .addOption(new Option('--state <state>', 'lifecycle state').choices(LIFECYCLE_STATES))
    .option('--json', 'machine-readable output')
    .action(run((ctx, opts: Parameters<typeof listTopics>[1]) => listTopics(ctx, opts)));

  const show = program.command('show').description('show one thing in the registry');
  show
    .command('api')
    .description('an API, or one of its versions')
    .argument('<ref>', '<org>/<api>[/<version>]')
    .option('--json', 'machine-readable output')
    .action(run((ctx, ref: string, opts: { json?: boolean }) => showApi(ctx, ref, opts)));

  show
    .command('topic')
    .description('an event topic with its schema, or its AsyncAPI 3.0 document')
    .argument('<ref>', '<org>/<topic>')
    .option('--json', 'machine-readable output')
    .option('--asyncapi', 'the AsyncAPI 3.0 document instead')
    .action(
      run((ctx, ref: string, opts: { json?: boolean; asyncapi?: boolean }) => showTopic(ctx, ref, opts)),
    );

  const topic = program.command('topic').description('event topics: lifecycle, subscriptions, consent');
  for (const action of TRANSITION_ACTIONS) {
    const command = topic
      .command(action)
      .description(`${action} a topic (lifecycle; the registry checks your role)`)
      .argument('<ref>', '<org>/<topic>');
    if (action === 'reject') command.requiredOption('--reason <text>', 'why (sent back to the publisher)');
    else command.option('--reason <text>', 'note recorded with the transition');
    command.action(
      run((ctx, ref: string, opts: { reason?: string }) =>
        transitionTopic(ctx, action, ref, opts.reason ? { reason: opts.reason } : {}),
      ),
    );
  }
  const collect = (value: string, previous: string[] = []) => [...previous, value];
  topic
    .command('subscribe')
    .description("ask for a topic's events for an application (push to a webhook, or pull)")
    .argument('<application>', '<org>/<app>')
    .argument('<topic>', '<org>/<topic>')
    .requiredOption('--purpose <text>', 'why the application needs the events')
    .option('--push <url>', 'webhook URL (https); without it the subscription is pull')
    .option('--type <type>', 'only events of this CloudEvents type (repeatable)', collect)
    .option('--subject-prefix <prefix>', 'only events whose subject starts so (repeatable)', collect)
    .option(
      '--credentials-out <file>',
      'file for the webhook signing secret (mode 0600); required with --push',
    )
    .action(
      run(
        (
          ctx,
          application: string,
          ref: string,
          opts: {
            purpose: string;
            push?: string;
            type?: string[];
            subjectPrefix?: string[];
            credentialsOut?: string;
          },
        ) =>
          subscribeTopic(ctx, application, ref, {
            purpose: opts.purpose,
            ...(opts.push ? { push: opts.push } : {}),
            ...(opts.type ? { types: opts.type } : {}),
            ...(opts.subjectPrefix ? { subjectPrefixes: opts.subjectPrefix } : {}),
            ...(opts.credentialsOut ? { credentialsOut: opts.credentialsOut } : {}),
          }),
      ),
    );
  topic
    .command('consent')
    .description("the topic owner's decision on a topic subscription")
    .argument('<subscriptionId>')
    .addArgument(new Argument('<decision>').choices(CONSENT_DECISIONS))
    .option('--reason <text>')
    .action(
      run((ctx, id: string, decision: ConsentDecision, opts: { reason?: string }) =>
        decideTopicSubscription(ctx, id, decision, opts),
      ),
    );
  topic
    .command('rotate-secret')
    .description(
      "rotate a push subscription's webhook signing secret (the old one keeps signing for the overlap)",
    )
    .argument('<subscriptionId>')
    .option('--overlap <seconds>', 'how long the old secret keeps signing', seconds)
    .option('--credentials-out <file>', 'file for the new secret (mode 0600); required')
    .action(
      run((ctx, id: string, opts: { overlap?: number; credentialsOut?: string }) =>
        rotateWebhookSecret(ctx, id, opts),
      ),
    );

  for (const action of TRANSITION_ACTIONS) {
    const command = program
      .command(action)
      .description(`${action} an API version (lifecycle; the registry checks your role)`)
      .argument('<ref>', '<org>/<api>/<version>');
    if (action === 'reject') command.requiredOption('--reason <text>', 'why (sent back to the publisher)');
    else command.option('--reason <text>', 'note recorded with the transition');
    if (action === 'deprecate') command.option('--sunset <date-time>', 'when it will be retired (ISO 8601)');
    command.action(
      run((ctx, ref: string, opts: { reason?: string; sunset?: string }) =>
        transitionVersion(ctx, action, ref, {
          ...(opts.reason ? { reason: opts.reason } : {}),
          ...(opts.sunset ? { sunsetAt: opts.sunset } : {}),
        }),
      ),
    );
  }

  program
    .command('inbox')
    .description('what waits on you: submissions to review, subscription requests to consent to')
    .option('--json', 'machine-readable output')
    .action(run((ctx, opts: { json?: boolean }) => showInbox(ctx, opts)));

  program
    .command('subscribe')
    .description("ask for an application's access to an API version")
    .argument('<application>', '<org>/<app>')
    .argument('<api>', '<org>/<api>/<version>')
    .requiredOption('--purpose <text>', 'why the application needs the data')
    .action(
      run((ctx, application: string, api: string, opts: { purpose: string }) =>
        subscribe(ctx, application, api, opts),
      ),
    );

  program
    .command('consent')
    .description("the API owner's decision on a subscription")
    .argument('<subscriptionId>')
    .addArgument(new Argument('<decision>').choices(CONSENT_DECISIONS))
    .option('--reason <text>')
    .action(
      run((ctx, id: string, decision: ConsentDecision, opts: { reason?: string }) =>
        decideSubscription(ctx, id, decision, opts),
      ),
    );

  program
    .command('rotate-secret')
    .description("rotate an application's client secret, or your own with --me")
    .argument('[application]', '<org>/<app>')
    .option('--me', "rotate your own client's secret")
    .option('--overlap <seconds>', 'how long the old secret keeps working', seconds)
    .option('--credentials-out <file>', 'file for the new secret (mode 0600); required')
    .action(
      run(
        (
          ctx,
          application: string | undefined,
          opts: { me?: boolean; overlap?: number; credentialsOut?: string },
        ) => rotateSecret(ctx, application, opts),
      ),
    );

  program
    .command('whoami')
    .description('the client, organisation, roles and person you act as')
    .option('--json', 'machine-readable output')
    .action(run((ctx, opts: { json?: boolean }) => whoami(ctx, opts)));

  program
    .command('audit')
    .description('the audit trail')
    .command('verify')
    .description('verify the audit hash chain')
    .action(run((ctx) => verifyAudit(ctx)));

  const report = program.command('report').description('reports from the hub’s own records');
  report
    .command('monev')
    .description(
      'the monev report (BKS 89(2)): calls, errors, latency, availability vs SLA target, incidents',
    )
    .requiredOption('--from <date-time>', 'start of the period (inclusive)')
    .requiredOption('--to <date-time>', 'end of the period (exclusive)')
    .option('--org <org>', 'one organisation (default: the whole hub)')
    .addOption(new Option('--format <format>').choices(MONEV_FORMATS).default('json'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(
      run((ctx, opts: { from: string; to: string; org?: string; format?: MonevFormat; out?: string }) =>
        reportMonev(ctx, opts),
      ),
    );
  report
    .command('spbe')
    .description(
      'SPBE evidence: Indikator 18 level with reasons, coverage of PDs, APIs, federation, reviews, map',
    )
    .requiredOption('--period <period>', 'a year (2026) or month (2026-03)')
    .option('--json', 'the whole report as JSON on stdout')
    .option('-o, --output <file>', `write a file, by extension: ${REPORT_OUTPUTS}`)
    .action(run((ctx, opts: { period: string; json?: boolean; output?: string }) => reportSpbe(ctx, opts)));

  registerEvidenceCommands(program, io, env);

  return program;
}

/** Runs `spl` with `argv` (without node and script) and returns the exit code; never calls process.exit. */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const program = buildProgram({ ...options, io });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      io.err(`spl: ${err.message}`);
      return err.exitCode;
    }
    io.err(`spl: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}
