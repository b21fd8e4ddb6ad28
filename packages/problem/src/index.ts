export { PROBLEM_CONTENT_TYPE, type Problem, problemPlugin, sendProblem } from './problem-plugin.js';
export {
  createErrorCatalogue,
  type ErrorFactory,
  type ErrorSpec,
  isSplError,
  problemType,
  SplError,
} from './spl-error.js';
