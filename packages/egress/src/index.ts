export {
  createEgressPolicy,
  EgressConfigError,
  type EgressPolicy,
  EgressRefusedError,
} from './egress-policy.js';
