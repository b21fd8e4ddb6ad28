export { createEgressAgent, createEgressConnector, isUrlAllowed } from './egress-connector.js';
export {
  createEgressPolicy,
  EgressConfigError,
  type EgressPolicy,
  EgressRefusedError,
  embeddedIpv4,
} from './egress-policy.js';
