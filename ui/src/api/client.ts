// A typed client of the HTTP API: every request carries `Authorization: Bearer <token>`.

import { getToken } from "../auth";
import type {
  ActionSpec,
  ActionSummary,
  ApiErrorBody,
  AuditEntry,
  Connection,
  EventRecord,
  Health,
  Page,
  Problem,
  Role,
  Run,
  Runner,
  RunFilters,
  RunSummary,
  SaveResult,
  TokenCreated,
  TokenInfo,
  User,
  ValidateResult,
  Version,
  VersionSummary,
  Workflow,
  WorkflowSummary,
} from "./types";

export const API = "/api/v1";

/** A refused request: the API's error shape, with the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export function authHeaders(token = getToken()): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Listeners told when the API answers 401 (the token expired or was revoked). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  method?: string;
  query?: Query;
  json?: unknown;
  text?: string;
  contentType?: string;
  token?: string;
  signal?: AbortSignal;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...authHeaders(options.token) };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.text !== undefined) {
    headers["Content-Type"] = options.contentType ?? "text/plain";
    body = options.text;
  }
  const response = await fetch(withQuery(API + path, options.query), {
    method: options.method ?? "GET",
    headers,
    body,
    signal: options.signal,
  });
  if (response.status === 204) return undefined as T;
  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (payload as ApiErrorBody | null)?.error;
    if (response.status === 401 && !options.token) unauthorizedListeners.forEach((l) => l());
    throw new ApiError(
      response.status,
      error?.type ?? "HttpError",
      error?.message ?? `${response.status} ${response.statusText}`,
      error?.problems ?? [],
    );
  }
  return payload as T;
}

const enc = encodeURIComponent;

export const api = {
  health: () => request<Health>("/health"),
  me: (token?: string) => request<User>("/me", { token }),

  // workflows
  listWorkflows: (query?: Query) => request<Page<WorkflowSummary>>("/workflows", { query }),
  getWorkflow: (name: string) => request<Workflow>(`/workflows/${enc(name)}`),
  saveWorkflow: (name: string, yaml: string, publish = false, message?: string) =>
    request<SaveResult>(`/workflows/${enc(name)}`, {
      method: "PUT",
      text: yaml,
      contentType: "application/yaml",
      query: { publish: publish || undefined, message },
    }),
  validate: (yaml: string, signal?: AbortSignal) =>
    request<ValidateResult>("/workflows/validate", {
      method: "POST",
      text: yaml,
      contentType: "application/yaml",
      signal,
    }),
  listVersions: (name: string) => request<Page<VersionSummary>>(`/workflows/${enc(name)}/versions`),
  getVersion: (name: string, version: number) =>
    request<Version>(`/workflows/${enc(name)}/versions/${version}`),
  publish: (name: string, version: number) =>
    request<{ name: string; published_version: number; previous: number | null }>(
      `/workflows/${enc(name)}/publish`,
      { method: "POST", json: { version } },
    ),
  deleteWorkflow: (name: string) => request<void>(`/workflows/${enc(name)}`, { method: "DELETE" }),

  // runs
  startRun: (name: string, inputs: Record<string, unknown>, version?: number) =>
    request<Run>(`/workflows/${enc(name)}/runs`, { method: "POST", json: { inputs, version } }),
  listRuns: (filters: RunFilters & { limit?: number; cursor?: string }) =>
    request<Page<RunSummary>>("/runs", { query: { ...filters } }),
  getRun: (id: string) => request<Run>(`/runs/${enc(id)}`),
  cancelRun: (id: string) => request<Run>(`/runs/${enc(id)}/cancel`, { method: "POST" }),
  rerun: (id: string, from: "start" | "failed") =>
    request<Run>(`/runs/${enc(id)}/rerun`, { method: "POST", json: { from } }),
  approve: (id: string, step: string, choice: string, comment?: string) =>
    request<Record<string, unknown>>(`/runs/${enc(id)}/approvals/${enc(step)}`, {
      method: "POST",
      json: { choice, comment: comment || undefined },
    }),

  // actions
  listActions: (query?: Query) => request<Page<ActionSummary>>("/actions", { query }),
  getAction: (type: string) => request<ActionSpec>(`/actions/${enc(type)}`),

  // connections
  listConnections: () => request<Page<Connection>>("/connections", { query: { limit: 500 } }),
  createConnection: (body: {
    name: string;
    type: string;
    fields: Record<string, unknown>;
    secrets: Record<string, string>;
  }) => request<Connection>("/connections", { method: "POST", json: body }),
  updateConnection: (
    name: string,
    body: { fields?: Record<string, unknown>; secrets?: Record<string, string | null> },
  ) => request<Connection>(`/connections/${enc(name)}`, { method: "PUT", json: body }),
  deleteConnection: (name: string) =>
    request<void>(`/connections/${enc(name)}`, { method: "DELETE" }),

  // users and tokens
  listUsers: () => request<Page<User>>("/users", { query: { limit: 500 } }),
  createUser: (name: string, role: Role) =>
    request<User>("/users", { method: "POST", json: { name, role } }),
  updateUser: (name: string, body: { role?: Role; disabled?: boolean }) =>
    request<User>(`/users/${enc(name)}`, { method: "PATCH", json: body }),
  listTokens: (user?: string) => request<Page<TokenInfo>>("/tokens", { query: { user } }),
  createToken: (user?: string, expiresIn?: number) =>
    request<TokenCreated>("/tokens", {
      method: "POST",
      json: { user: user || undefined, expires_in: expiresIn || undefined },
    }),
  deleteToken: (id: string) => request<void>(`/tokens/${enc(id)}`, { method: "DELETE" }),

  // audit and events
  listAudit: (query?: Query) => request<Page<AuditEntry>>("/audit", { query }),
  listRunners: (query?: Query) => request<Page<Runner>>("/runners", { query }),
  listEvents: (query?: Query) => request<Page<EventRecord>>("/events", { query }),
  getEvent: (id: string) => request<EventRecord>(`/events/${enc(id)}`),
  postEvent: (event: unknown) =>
    request<{ accepted: number; runs: string[] }>("/events", { method: "POST", json: event }),
};
