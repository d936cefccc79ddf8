// Shapes of the HTTP API (shared/spec/api.md) and the run JSON (spec/definition.md).

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Problem {
  location: string;
  message: string;
  severity?: "error" | "warning";
  code?: string;
}

export interface ApiErrorBody {
  error: { type: string; message: string; problems?: Problem[] };
}

// ---------------------------------------------------------------- workflows

export interface LastRun {
  id: string;
  status: RunStatus;
  started_at: string | null;
  finished_at: string | null;
}

export interface WorkflowSummary {
  name: string;
  description?: string | null;
  latest_version: number;
  published_version: number | null;
  triggers: Trigger[];
  last_run: LastRun | null;
  created_at: string | null;
  updated_at: string | null;
}

export interface VersionSummary {
  number: number;
  author: string | null;
  created_at: string | null;
  message: string | null;
  format: string;
  hash: string;
  published?: boolean;
}

export interface Workflow {
  name: string;
  latest_version: number;
  published_version: number | null;
  created_at: string | null;
  created_by: string | null;
  updated_at: string | null;
  version: VersionSummary;
  triggers: Trigger[];
  definition: Definition;
  text: string;
}

export interface Version extends VersionSummary {
  definition: Definition;
  text: string;
  diff: string;
}

export interface SaveResult {
  name: string;
  version: number;
  published_version: number | null;
  created: boolean;
  changed: boolean;
  warnings: Problem[];
}

export interface ValidateResult {
  valid: boolean;
  problems: Problem[];
}

// ---------------------------------------------------------------- definition

export type InputType = "string" | "number" | "integer" | "boolean" | "object" | "array";

export interface InputSpec {
  type?: InputType;
  required?: boolean;
  default?: unknown;
  description?: string | null;
  enum?: unknown[] | null;
  items?: InputType | null;
}

export type Trigger = Record<string, unknown> & { id?: string; inputs?: Record<string, unknown> };

export type Ids = string | string[];

/** A step as written: one kind key plus its fields (kept loose: the server validates). */
export interface Step {
  id: string;
  name?: string;
  description?: string;
  next?: Ids;
  join?: "all" | "any";
  on_error?: string | null;
  // kind keys
  action?: string;
  if?: string;
  switch?: string;
  for_each?: string;
  while?: string;
  transform?: string;
  script?: string;
  set?: Record<string, unknown>;
  sleep?: string | number;
  approval?: string;
  call?: string;
  fail?: string;
  // kind fields
  then?: Ids;
  else?: Ids;
  cases?: Record<string, Ids>;
  default?: Ids;
  do?: Step[];
  on?: Record<string, Ids>;
  choices?: string[];
  [key: string]: unknown;
}

export interface Definition {
  name: string;
  description?: string | null;
  inputs?: Record<string, InputSpec>;
  outputs?: Record<string, unknown>;
  timeout?: string | number;
  triggers?: Trigger[];
  start?: Ids;
  steps: Step[];
}

// ---------------------------------------------------------------- runs

export type RunStatus = "running" | "waiting" | "succeeded" | "failed" | "cancelled" | "timed_out";
export type StepStatus =
  | "pending"
  | "running"
  | "waiting"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled";

export interface StepError {
  type: string;
  message: string;
  details?: unknown;
  step?: string;
}

export interface Iteration {
  index: number;
  status: StepStatus;
  item?: unknown;
  output?: unknown;
  steps: Record<string, StepState>;
}

export interface StepState {
  status: StepStatus;
  attempts?: number;
  input?: unknown;
  inputs?: unknown;
  output?: unknown;
  error?: StepError | null;
  started_at?: string | null;
  finished_at?: string | null;
  iterations?: Iteration[];
  [key: string]: unknown;
}

export interface WaitingApproval {
  prompt: string;
  choices: string[];
  approvers: string[];
}

export interface Run {
  id: string;
  workflow: string;
  version: number | null;
  status: RunStatus;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: StepError | null;
  trigger: Record<string, unknown> | null;
  started_at: string | null;
  finished_at: string | null;
  steps: Record<string, StepState>;
  approvals?: Record<string, WaitingApproval>;
  rerun_of?: string | null;
}

export interface RunSummary {
  id: string;
  workflow: string;
  version: number | null;
  status: RunStatus;
  trigger: Record<string, unknown> | null;
  error: StepError | null;
  identity: string | null;
  rerun_of: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface RunFilters {
  workflow?: string;
  status?: string;
  trigger?: string;
  since?: string;
  until?: string;
}

// ---------------------------------------------------------------- actions

export interface ActionSummary {
  type: string;
  title: string;
  group: string;
  connection_type: string | null;
  options: string;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  enum?: unknown[];
  required?: string[];
  description?: string;
  title?: string;
  default?: unknown;
}

export interface ActionSpec extends ActionSummary {
  description: string;
  errors: unknown[];
  examples: unknown[];
  input_schema: JsonSchema | null;
  output_schema: JsonSchema | null;
}

// ---------------------------------------------------------------- connections, users

export interface Connection {
  name: string;
  type: string;
  fields: Record<string, unknown>;
  /** Names only: the API never returns secret values. */
  secrets: string[];
  key_id: string;
  created_at: string | null;
  updated_at: string | null;
  created_by: string | null;
  updated_by: string | null;
}

export type Role = "admin" | "editor" | "operator" | "viewer";

export interface User {
  id: string;
  name: string;
  role: Role;
  disabled: boolean;
  created_at: string | null;
}

export interface TokenInfo {
  id: string;
  created_at: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  revoked: boolean;
}

export interface TokenCreated {
  id: string;
  token: string;
  user: string;
  expires_at: string | null;
}

// ---------------------------------------------------------------- audit, events

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  resource: string;
  details: Record<string, unknown>;
  source: string | null;
}

export interface Decision {
  workflow: string;
  version: number;
  matched: boolean;
  trigger: string | null;
  reason: string;
  tried: { trigger: string; result: string }[];
  run?: string | null;
}

export interface NormalizedEvent {
  id: string;
  source: string;
  title?: string;
  status?: string;
  severity?: string;
  tags?: string[];
  attributes?: Record<string, unknown>;
  occurred_at?: string;
  raw?: unknown;
}

export interface EventRecord {
  id: string;
  source: string;
  via: string;
  received_at: string;
  status: string;
  event: NormalizedEvent;
  runs: string[];
  decisions: Decision[];
  dispatched_at: string | null;
  error: string | null;
}

export interface Health {
  status: string;
  temporal: string;
  database: string;
}

export interface RunnerPoller {
  identity: string;
  last_seen: string | null;
}

export interface Runner {
  name: string;
  task_queue: string;
  online: boolean;
  last_seen: string | null;
  pollers: RunnerPoller[];
  workflows: string[];
}
