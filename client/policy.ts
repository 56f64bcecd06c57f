/**
 * Assessments' public vocabulary: the policy language (parse, compile, evaluate, version) and the
 * result types. One export list, shared by 'netcheck/client' and 'netcheck/client/assess'.
 */
export {
  compilePolicy,
  DEFAULT_POLICY_YAML,
  defaultPolicy,
  parsePolicy,
  PolicyError,
  type LoadedPolicy,
  type PolicyProblem,
} from '../domain/policy-parse.js';
export {
  evaluatePolicy,
  policySignals,
  policyVersion,
  SIGNALS,
  VERDICTS,
  type CompiledPolicy,
  type Condition,
  type PolicyRule,
  type SignalName,
  type SignalReadings,
  type SignalValues,
  type Verdict,
} from '../domain/policy.js';
export type {
  AssessInput,
  AssessmentResult,
  AssessRequest,
  Evidence,
  EvidenceMap,
  EvidenceSource,
  UnknownSignal,
} from '../domain/assess.js';
