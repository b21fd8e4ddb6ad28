export {
  createEvidenceLog,
  createInstanceId,
  type EvidenceLog,
  type EvidenceLogOptions,
} from '@spl/evidence-log';
export { installEvidence } from './install-evidence.js';
