/** The HTTP API as docs/CONTRACT.md and the README describe it; every call carries the signed-in user's token. */

export interface ApiErrorBody {
  code: string;
  message: string;
  rule?: string;
  reasons?: { rule: string; message: string }[];
  path?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
}

export interface Me {
  userId: string;
  displayName: string;
  organizationId?: string;
  status: string;
  role: string;
  administers: string[];
  operator: boolean;
}
export interface Organization {
  id: string;
  name: string;
  plan: string;
}
export interface Member {
  userId: string;
  displayName: string;
  name?: string;
  role: string;
  status: string;
}
// the effects the API returns are the domain's own (CONTRACT.md "Impact"): a new kind is a type error wherever the
// console words or draws effects until it has its words (describe.ts, i18n) and its place in a preview (KIND_RANK)
import type { Effect, EffectKind } from '../../functions/domain/impact.js';
export type { Effect, EffectKind };
export interface SummaryRow {
  kind: EffectKind;
  rule: string;
  count: number;
}
export interface Names {
  /** `name` and `status` (the console words D2's suffix in the reader's language); `displayName` as the API shows it. */
  users?: Record<string, { displayName: string; organizationId?: string | null; name?: string; status?: string }>;
  /** `members`: a direct chat's participants (it is named by the other person). */
  chats?: Record<string, { name?: string | null; type?: string; members?: string[] }>;
  organizations?: Record<string, { name: string }>;
  /** `size`, `ownerOrganizationId`: what an export would hold of it (X4). */
  files?: Record<string, { name: string; uploaderId?: string; size?: number; ownerOrganizationId?: string }>;
  tasks?: Record<string, { title: string }>;
}
export interface Impact {
  id?: string;
  expiresAt?: string;
  operation: 'transfer' | 'deletion';
  userId: string;
  destinationOrganizationId?: string;
  effectCount: number;
  summary: SummaryRow[];
  effects: Effect[];
  nextCursor?: string;
  /** D7: a deletion under a grace period: the days, the purge date if it were requested now, and a note. */
  graceDays?: number;
  purgeAt?: string;
  note?: string;
}
/**
 * CONTRACT.md `planning`: a preview whose plan is too large for its request, answered 202 by `POST /previews` (with
 * `expiresAt`) and by `GET /previews/{id}` until its Impact is ready.
 */
export interface PreviewPlanning {
  id: string;
  status: 'planning';
  expiresAt?: string;
}
export type PreviewAnswer = Impact | PreviewPlanning;
export const isPlanning = (answer: PreviewAnswer): answer is PreviewPlanning => (answer as PreviewPlanning).status === 'planning';
/** D7: an organization's settings (its administrators read and change them). */
export interface OrganizationSettings {
  organizationId: string;
  deletionGraceDays: number;
}
export interface EffectsPage {
  effects: Effect[];
  nextCursor?: string;
  names?: Names;
}
export interface Phase {
  name: string;
  status: 'pending' | 'running' | 'done';
  done: number;
  total: number;
  /** X4, the Export phase only: bytes written and verified so far, bytes to export, and the whole archive verified. */
  bytesDone?: number;
  bytesTotal?: number;
  verified?: boolean;
}
export interface Progress {
  phases: Phase[];
  done: number;
  total: number;
}
export interface Operation {
  id: string;
  userId: string;
  sourceOrganizationId?: string;
  destinationOrganizationId?: string;
  organizationId?: string;
  status: string;
  /** null while `planning` (CONTRACT.md: the plan is computed in the background). */
  impact: Impact | null;
  requestedBy?: string;
  approvedBy?: string;
  createdAt: string;
  updatedAt: string;
  error?: { code: string; message: string; rule?: string };
  progress?: Progress;
  purgeAt?: string;
  /** X3, X4: as requested. */
  successorId?: string;
  export?: boolean;
}
/** X4: `GET /{transfers|deletions}/{id}/export`. */
export interface ExportState {
  status: 'preparing' | 'ready' | 'expired';
  files: number;
  bytes: number;
  url?: string;
  expiresAt?: string;
  parts?: { url?: string; files?: number; bytes?: number }[];
}
export interface AuditEntry {
  at: string;
  event: string;
  by?: string;
  rule?: string;
  step?: string;
  applied?: number | Record<string, number>;
  effects?: unknown;
}
export interface Audit {
  operationId: string;
  operation: string;
  userId: string;
  entries: AuditEntry[];
  names?: Pick<Names, 'users'>;
}
export interface BillingRun {
  id: string;
  kind: string;
  organizationId: string;
  eventId: string;
  status: string;
  total: number;
  done: number;
  failed: number;
  remaining: number;
  createdAt: string;
  updatedAt: string;
  error?: { code: string; message: string };
}

/** X3, X4: a successor and an export, as requested. */
export interface RequestOptions {
  successorId?: string;
  export?: boolean;
}

export type OperationKind = 'transfers' | 'deletions';
export const operationKind = (id: string): OperationKind => (id.startsWith('del') ? 'deletions' : 'transfers');

export class Api {
  constructor(
    private readonly base: string,
    private readonly token: () => string | undefined,
    private readonly onUnauthenticated: () => void,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = this.token();
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { error: { code: 'internal', message: text.slice(0, 200) } };
    }
    if (!res.ok) {
      if (res.status === 401) this.onUnauthenticated();
      // API Gateway's own 401 is {"message":"Unauthorized"}: shaped as the contract's error for the screens.
      const error: ApiErrorBody = parsed?.error ?? {
        code: res.status === 401 ? 'unauthenticated' : 'internal',
        message: parsed?.message ?? res.statusText,
      };
      throw new ApiError(res.status, error);
    }
    return parsed as T;
  }

  me = () => this.call<Me>('GET', '/me');
  organizations = () => this.call<{ organizations: Organization[] }>('GET', '/organizations');
  members = (org: string, q: string, cursor?: string, limit = 25) =>
    this.call<{ members: Member[]; nextCursor?: string }>(
      'GET',
      `/organizations/${enc(org)}/members${query({ q: q || undefined, cursor, limit: String(limit) })}`,
    );
  transfers = (org: string, direction: 'incoming' | 'outgoing', status?: string, cursor?: string) =>
    this.call<{ transfers: Operation[]; nextCursor?: string; names?: Pick<Names, 'users'> }>(
      'GET',
      `/organizations/${enc(org)}/transfers${query({ direction, status, cursor })}`,
    );
  deletions = (org: string, cursor?: string) =>
    this.call<{ deletions: Operation[]; nextCursor?: string; names?: Pick<Names, 'users'> }>(
      'GET',
      `/organizations/${enc(org)}/deletions${query({ cursor })}`,
    );
  previewTransfer = (userId: string, destinationOrganizationId: string, successorId?: string) =>
    this.call<PreviewAnswer>('POST', '/previews', { operation: 'transfer', userId, destinationOrganizationId, successorId });
  previewDeletion = (userId: string, successorId?: string) =>
    this.call<PreviewAnswer>('POST', '/previews', { operation: 'deletion', userId, successorId });
  preview = (id: string) => this.call<PreviewAnswer>('GET', `/previews/${enc(id)}`);
  /** The first page (no cursor) or the next one; `source` is `previews/ID`, `transfers/ID` or `deletions/ID`. */
  effects = (source: string, cursor?: string) => this.call<EffectsPage>('GET', `/${source}/effects${query({ cursor })}`);
  requestTransfer = (userId: string, destinationOrganizationId: string, previewId?: string, options: RequestOptions = {}) =>
    this.call<Operation>('POST', '/transfers', { userId, destinationOrganizationId, previewId, ...options });
  requestDeletion = (userId: string, previewId?: string, options: RequestOptions = {}) =>
    this.call<Operation>('POST', '/deletions', { userId, previewId, ...options });
  approve = (id: string) => this.call<Operation>('POST', `/transfers/${enc(id)}/approval`);
  cancel = (id: string) => this.call<Operation>('POST', `/transfers/${enc(id)}/cancellation`);
  /** D7: a deletion still `scheduled` (a grace period) is undone; CONTRACT.md. */
  settings = (org: string) => this.call<OrganizationSettings>('GET', `/organizations/${enc(org)}/settings`);
  saveSettings = (org: string, deletionGraceDays: number) =>
    this.call<OrganizationSettings>('PUT', `/organizations/${enc(org)}/settings`, { deletionGraceDays });
  undo = (id: string) => this.call<Operation>('POST', `/deletions/${enc(id)}/undo`);
  operation = (kind: OperationKind, id: string) => this.call<Operation>('GET', `/${kind}/${enc(id)}`);
  exportOf = (kind: OperationKind, id: string) => this.call<ExportState>('GET', `/${kind}/${enc(id)}/export`);
  audit = (id: string) => this.call<Audit>('GET', `/operations/${enc(id)}/audit`);
  billingRuns = (cursor?: string) => this.call<{ runs: BillingRun[]; nextCursor?: string }>('GET', `/billing-runs${query({ cursor })}`);
}

const enc = encodeURIComponent;
function query(params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
}

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled'];
