export {
  CLASSIFICATIONS,
  LIFECYCLE_STATES,
  type ListApisOptions,
  listApis,
  PAGE_SIZE,
  showApi,
} from './commands/apis.js';
export {
  type ApplyItem,
  type ApplyOptions,
  type ApplyReport,
  applyHubFile,
  formatApplyItem,
} from './commands/apply.js';
export { verifyAudit } from './commands/audit.js';
export { exportHub, exportHubTo } from './commands/export.js';
export { showInbox } from './commands/inbox.js';
export { type RotateSecretOptions, rotateSecret } from './commands/rotate-secret.js';
export {
  CONSENT_DECISIONS,
  type ConsentDecision,
  decideSubscription,
  subscribe,
} from './commands/subscriptions.js';
export { TRANSITION_ACTIONS, type TransitionAction, transitionVersion } from './commands/transition.js';
export { whoami } from './commands/whoami.js';
export {
  type CliContext,
  type CliIo,
  createCliContext,
  DEFAULT_REGISTRY_URL,
  type GlobalOptions,
} from './context.js';
export { type ClientCredentials, type CredentialOptions, resolveCredentials } from './credentials.js';
export { CliError, formatProblem, ProblemError } from './errors.js';
export { HUB_API_VERSION, HubFileError, loadHubFile, resolveHubDocument } from './hub-file.js';
export { buildProgram, type RunOptions, runCli } from './program.js';
