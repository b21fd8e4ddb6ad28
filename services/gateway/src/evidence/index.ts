export {
  createEvidenceLog,
  createInstanceId,
  type EvidenceLog,
  type EvidenceLogOptions,
} from './evidence-log.js';
export { installEvidence } from './install-evidence.js';
