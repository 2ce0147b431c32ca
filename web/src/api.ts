// The REST API client and the login session.
//
// The session is kept as OpenPAI's portal keeps it: three cookies, `user`,
// `token` and `admin` (path /, SameSite=Strict, 7 days like the token), the
// same three values `gantry login` saves in its config file. The token goes
// out only as an `Authorization: Bearer` header; the server never reads
// cookies, so a cross-site page cannot act with them.

export interface Session {
  user: string;
  token: string;
  admin: boolean;
}

const WEEK = 7 * 24 * 3600;

function readCookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

function writeCookie(name: string, value: string, maxAge: number) {
  document.cookie = `${name}=${encodeURIComponent(value)}; path=/; max-age=${maxAge}; SameSite=Strict`;
}

type Listener = () => void;
const listeners = new Set<Listener>();

export function getSession(): Session | null {
  const user = readCookie('user');
  const token = readCookie('token');
  if (!user || !token) return null;
  return { user, token, admin: readCookie('admin') === 'true' };
}

export function setSession(s: Session | null) {
  if (s) {
    writeCookie('user', s.user, WEEK);
    writeCookie('token', s.token, WEEK);
    writeCookie('admin', String(s.admin), WEEK);
  } else {
    for (const n of ['user', 'token', 'admin']) writeCookie(n, '', 0);
  }
  listeners.forEach((l) => l());
}

export function onSessionChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

const expiredListeners = new Set<Listener>();

/**
 * Called when the server stops taking the session's token (expired, revoked),
 * just before the portal forgets it and goes to the login page: a page keeps
 * its unsaved work here (the submit page's draft).
 */
export function onSessionExpired(l: Listener): () => void {
  expiredListeners.add(l);
  return () => expiredListeners.delete(l);
}

/** An answer other than 2xx: OpenPAI's {code, message}, plus `errors` for job files. */
export class ApiError extends Error {
  status: number;
  code: string;
  errors: { message: string; line?: number; column?: number }[];
  constructor(status: number, code: string, message: string, errors: ApiError['errors'] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

export interface RequestOptions {
  body?: unknown;
  yaml?: string;
  signal?: AbortSignal;
  text?: boolean;
}

/** Call the API; resolves to the parsed JSON (or text), rejects with ApiError. */
export async function api<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {};
  const s = getSession();
  if (s) headers.authorization = `Bearer ${s.token}`;
  let body: string | undefined;
  if (opts.yaml !== undefined) {
    headers['content-type'] = 'text/yaml';
    body = opts.yaml;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, signal: opts.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'NetworkError', `The server cannot be reached (${(e as Error).message}).`);
  }
  const text = await res.text();
  const isJson = (res.headers.get('content-type') || '').includes('json');
  let data: any = text;
  if (isJson && text) {
    try {
      data = JSON.parse(text);
    } catch {
      /* keep the text */
    }
  }
  if (!res.ok) {
    const code = (data && data.code) || `HTTP${res.status}`;
    const message = (data && data.message) || text || res.statusText;
    if (res.status === 401 && s && path !== '/api/v2/authn/basic/login') {
      expiredListeners.forEach((l) => {
        try {
          l();
        } catch {
          /* keeping a draft must not keep the user from logging in */
        }
      });
      setSession(null); // the token expired or was revoked: log in again
    }
    throw new ApiError(res.status, code, message, (data && data.errors) || []);
  }
  return data as T;
}

export const get = <T = any>(path: string, signal?: AbortSignal) => api<T>('GET', path, { signal });

/** Build a query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

export const jobPath = (id: string) => `/api/v2/jobs/${encodeURIComponent(id).replace('%7E', '~')}`;

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

// ---- the shapes the pages read ----------------------------------------------------

export interface JobSummary {
  name: string;
  username: string;
  state: string;
  subState?: string;
  executionType?: string;
  retries: number;
  submissionTime: number | null;
  createdTime: number | null;
  launchedTime: number | null;
  completedTime: number | null;
  appExitCode: number | null;
  virtualCluster: string;
  totalGpuNumber: number;
  totalTaskNumber: number;
  totalTaskRoleNumber: number;
  jobPriority: string | number | null;
  tags?: string[];
}

export interface ExitSpec {
  code: number;
  phrase?: string;
  type?: string;
  stage?: string;
  behavior?: string;
  reaction?: string;
  reason?: string;
  repro?: string[];
  solution?: string[];
}

export interface TaskStatus {
  taskIndex: number;
  taskState: string;
  containerNodeName?: string | null;
  containerIp?: string | null;
  containerPorts?: Record<string, string> | null;
  containerGpus?: number | string | null;
  leafCells?: number[];
  containerLog?: string | null;
  containerExitCode?: number | null;
  containerExitSpec?: ExitSpec | null;
  containerExitDiagnostics?: string | null;
  retries?: number;
  attemptId?: number;
  launchedTime?: number | null;
  completedTime?: number | null;
  currentAttemptLaunchedTime?: number | null;
  currentAttemptCompletedTime?: number | null;
}

export interface TaskRoles {
  [role: string]: { taskRoleStatus?: { name: string }; taskStatuses: TaskStatus[] };
}

export interface JobDetail {
  name: string;
  tags?: string[];
  jobPriority?: string | number | null;
  jobStatus: {
    username: string;
    state: string;
    subState?: string;
    executionType?: string;
    retries: number;
    retryDetails?: { user: number; platform: number; resource: number };
    submissionTime: number | null;
    createdTime: number | null;
    launchedTime: number | null;
    completedTime: number | null;
    attemptId: number;
    attemptState?: string;
    appExitCode: number | null;
    appExitSpec: ExitSpec | null;
    appExitDiagnostics: string | null;
    appExitTriggerMessage?: string | null;
    appExitTriggerTaskRoleName?: string | null;
    appExitTriggerTaskIndex?: number | null;
    appExitType?: string | null;
    virtualCluster: string;
  };
  taskRoles: TaskRoles;
}

export interface JobEvent {
  uid: string;
  type: string;
  reason: string;
  message: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  taskroleName?: string | null;
  taskIndex?: number | null;
}

export interface Attempt {
  attemptIndex: number;
  state: string;
  attemptStartedTime: number | null;
  attemptCompletedTime: number | null;
  exitCode: number | null;
  exitPhrase?: string | null;
  exitType?: string | null;
  exitDiagnostics?: string | null;
  appExitSpec?: ExitSpec | null;
  isLatest?: boolean;
  taskRoles?: TaskRoles;
}

export interface VC {
  capacity: number;
  usedCapacity: number;
  maxCapacity?: number;
  status?: string;
  resourcesUsed: { cpu: number; memory: number; gpu: number };
  resourcesGuaranteed?: { cpu: number; memory: number; gpu: number };
  resourcesTotal: { cpu: number; memory: number; gpu: number };
  quotaLeafCells?: number;
  usedLeafCells?: number;
  opportunisticLeafCells?: number;
  doomedBadCells?: number;
  waitingJobs?: number;
  placedJobs?: number;
  skuTypes?: string[];
}

export interface NodeInfo {
  name: string;
  address: string;
  healthy: boolean;
  simulatedGpus?: boolean;
  leafCells: number;
  usedLeafCells: number;
  opportunisticLeafCells?: number;
  freeLeafCells: number;
  skuType?: string;
}

export interface User {
  username: string;
  grouplist: string[];
  email: string;
  admin: boolean;
  virtualCluster: string[];
}

export interface Group {
  groupname: string;
  description: string;
  externalName: string;
  extension: { acls?: { admin?: boolean; virtualClusters?: string[] } };
}
