export {
  checkpointPayload,
  decodePublicKey,
  encodePublicKey,
  isCheckpointSignatureValid,
  signCheckpoint,
} from './checkpoint.js';
export { createEvidenceChain, type EvidenceChain, hashedPart } from './evidence-chain.js';
export {
  createEvidenceLog,
  createInstanceId,
  type EvidenceLog,
  type EvidenceLogOptions,
} from './evidence-log-writer.js';
export {
  type Checkpoint,
  EMPTY_DIGEST,
  EVIDENCE_FORMAT,
  type EvidenceEntry,
  type EvidenceLine,
  type EvidenceRecord,
  KEY_FILE_NAME,
  type KeyFile,
  SEGMENT_FILE_PATTERN,
  type SegmentHeader,
  segmentFileName,
  URL_DIGEST_KEY_INFO,
} from './record-format.js';
export {
  type BreakReason,
  type ChainSummary,
  type ChainVerdict,
  type EvidenceBreak,
  verifyEvidenceChain,
  verifyEvidenceDir,
} from './verify-evidence.js';
