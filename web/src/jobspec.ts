// The submit form's model and its two-way mapping to a job protocol v2
// document. Fields the form does not show (extras, env, deployments, data
// prerequisites, hived options...) are kept: the form edits a copy of the
// document it was given, so switching form → YAML → form loses nothing but
// comments.

export interface Port {
  name: string;
  count: number;
}

export interface Role {
  name: string;
  /** the role's name in the document the form was read from (undefined: a new role) */
  orig?: string;
  /** the commands as the document held them, kept unless the text is changed */
  origCommands?: unknown;
  instances: number;
  image: string;
  commands: string;
  cpu: number;
  memoryMB: number;
  gpu: number;
  ports: Port[];
  minFailed: string; // '' = the default
  minSucceeded: string;
  taskRetryCount: number;
}

export interface KV {
  key: string;
  value: string;
  /** the value as the document held it (a number, a nested mapping...), kept unless the text is changed */
  orig?: unknown;
}

export interface FormJob {
  name: string;
  vc: string;
  jobRetryCount: number;
  roles: Role[];
  parameters: KV[];
  secrets: KV[];
}

export type Doc = Record<string, any>;

export interface Sku {
  cpu: number;
  memory: number;
  gpu: number;
}

export const NAME_RE = /^[a-zA-Z0-9_-]+$/;

export function newRole(name: string, sku?: Sku): Role {
  return {
    name,
    instances: 1,
    image: 'ubuntu:22.04',
    commands: 'echo "hello from $PAI_TASK_ROLE_NAME $PAI_TASK_INDEX"',
    cpu: sku ? sku.cpu : 1,
    memoryMB: sku ? sku.memory : 1024,
    gpu: sku ? sku.gpu : 0,
    ports: [],
    minFailed: '',
    minSucceeded: '',
    taskRetryCount: 0,
  };
}

export function newJob(user: string, vc: string, sku?: Sku): FormJob {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  return {
    name: `${user.replace(/[^a-zA-Z0-9_-]/g, '_')}_${stamp}`,
    vc,
    jobRetryCount: 0,
    roles: [newRole('taskrole', sku)],
    parameters: [],
    secrets: [],
  };
}

const num = (v: unknown, dflt: number) => (typeof v === 'number' && isFinite(v) ? v : dflt);
const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** Read the form's fields out of a document (anything else stays in the document). */
export function docToForm(doc: Doc): FormJob {
  const prereqs: Doc[] = Array.isArray(doc.prerequisites) ? doc.prerequisites : [];
  const image = (ref: unknown) => {
    const p = prereqs.find((x) => x && x.name === ref && x.type === 'dockerimage');
    return p ? str(p.uri) : str(ref);
  };
  const roles: Role[] = Object.entries((doc.taskRoles as Doc) || {}).map(([name, r]: [string, any]) => {
    r = r || {};
    const res = r.resourcePerInstance || {};
    const cmds = Array.isArray(r.commands) ? r.commands.map(str).join('\n') : str(r.commands);
    return {
      name,
      orig: name,
      origCommands: r.commands,
      instances: num(r.instances, 1),
      image: image(r.dockerImage),
      commands: cmds,
      cpu: num(res.cpu, 1),
      memoryMB: num(res.memoryMB, 1024),
      gpu: num(res.gpu, 0),
      ports: Object.entries(res.ports || {}).map(([n, c]) => ({ name: n, count: num(c, 1) })),
      minFailed: str(r.completion?.minFailedInstances),
      minSucceeded: str(r.completion?.minSucceededInstances),
      taskRetryCount: num(r.taskRetryCount, 0),
    };
  });
  const kv = (o: unknown): KV[] =>
    o && typeof o === 'object' && !Array.isArray(o)
      ? Object.entries(o as Doc).map(([key, value]) => ({ key, value: kvText(value), orig: value }))
      : [];
  return {
    name: str(doc.name),
    vc: str(doc.defaults?.virtualCluster),
    jobRetryCount: num(doc.jobRetryCount, 0),
    roles,
    parameters: kv(doc.parameters),
    secrets: kv(doc.secrets),
  };
}

const kvText = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : str(v));

/**
 * A parameter's or secret's value to write: the document's own value while its
 * text is unchanged (strings stay strings, "1.10" stays "1.10", nested mappings
 * stay nested); a changed one keeps the original's kind where the new text
 * still reads as that kind (a number stays a number, a mapping a mapping), and
 * is a string otherwise. A new parameter is a number when typed as one.
 */
function kvValue(p: KV, numbers: boolean): unknown {
  // a new parameter typed as a plain number (3, 0.5) is a number; "007", "1.10" stay text
  if (p.orig === undefined) return numbers && /^-?(0|[1-9]\d*)(\.\d*[1-9])?$/.test(p.value) ? Number(p.value) : p.value;
  if (p.value === kvText(p.orig)) return p.orig;
  if (typeof p.orig === 'number' && /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/.test(p.value.trim())) return Number(p.value);
  if (typeof p.orig === 'boolean' && (p.value === 'true' || p.value === 'false')) return p.value === 'true';
  if (typeof p.orig === 'object' && p.orig !== null) {
    try {
      const v = JSON.parse(p.value);
      if (typeof v === 'object' && v !== null) return v;
    } catch {
      /* not JSON any more: a string */
    }
  }
  return p.value;
}

/** The task role names the form has more than once. */
export function duplicateRoles(f: FormJob): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const r of f.roles) (seen.has(r.name) ? dup : seen).add(r.name);
  return [...dup];
}

/** Write the form into a copy of base: the document to submit. */
export function formToDoc(f: FormJob, base: Doc = {}): Doc {
  const doc: Doc = JSON.parse(JSON.stringify(base || {}));
  doc.protocolVersion = doc.protocolVersion ?? 2;
  doc.name = f.name;
  doc.type = doc.type ?? 'job';
  const jrc = kept(doc.jobRetryCount, f.jobRetryCount, 0);
  if (jrc) doc.jobRetryCount = jrc;
  else delete doc.jobRetryCount;

  // docker images: one prerequisite per distinct image, keeping existing names
  const old: Doc[] = Array.isArray(doc.prerequisites) ? doc.prerequisites : [];
  const others = old.filter((p) => p && p.type !== 'dockerimage');
  const images: Doc[] = [];
  const imageName = (uri: string) => {
    let p = images.find((x) => x.uri === uri);
    if (!p) {
      const prev = old.find((x) => x && x.type === 'dockerimage' && x.uri === uri);
      let name = prev ? prev.name : `docker_image_${images.length}`;
      while (images.some((x) => x.name === name) || others.some((x) => x.name === name)) name = `${name}_`;
      p = prev ? { ...prev, name } : { name, type: 'dockerimage', uri };
      images.push(p);
    }
    return p.name as string;
  };

  const oldRoles: Doc = doc.taskRoles || {};
  const roles: Doc = {};
  for (const r of f.roles) {
    // a renamed role keeps everything else it had
    const from = r.orig ?? r.name;
    const prev: Doc = from in oldRoles && oldRoles[from] ? { ...oldRoles[from] } : {};
    const pres: Doc = prev.resourcePerInstance || {};
    const res: Doc = { ...pres, cpu: kept(pres.cpu, r.cpu, 1), memoryMB: kept(pres.memoryMB, r.memoryMB, 1024), gpu: kept(pres.gpu, r.gpu, 0) };
    if (r.ports.length) res.ports = Object.fromEntries(r.ports.filter((p) => p.name).map((p) => [p.name, kept(pres.ports?.[p.name], p.count, 1)]));
    else delete res.ports;
    const role: Doc = {
      ...prev,
      instances: kept(prev.instances, r.instances, 1),
      dockerImage: imageName(r.image),
      resourcePerInstance: res,
      // unchanged commands stay as written (a `- |` block keeps its lines and blank lines)
      commands:
        r.origCommands !== undefined && r.commands === commandsText(r.origCommands)
          ? r.origCommands
          : r.commands.split('\n').filter((c) => c.trim() !== ''),
    };
    const completion: Doc = { ...(prev.completion || {}) };
    const pc: Doc = prev.completion || {};
    if (r.minFailed !== '') completion.minFailedInstances = keptText(pc.minFailedInstances, r.minFailed);
    else delete completion.minFailedInstances;
    if (r.minSucceeded !== '') completion.minSucceededInstances = keptText(pc.minSucceededInstances, r.minSucceeded);
    else delete completion.minSucceededInstances;
    if (Object.keys(completion).length) role.completion = completion;
    else delete role.completion;
    const trc = kept(prev.taskRetryCount, r.taskRetryCount, 0);
    if (trc) role.taskRetryCount = trc;
    else delete role.taskRetryCount;
    roles[r.name] = role;
  }
  doc.prerequisites = [...others, ...images];
  if (!doc.prerequisites.length) delete doc.prerequisites;
  doc.taskRoles = roles;
  renameRoleRefs(doc, f.roles);

  const obj = (list: KV[], numbers: boolean) =>
    Object.fromEntries(list.filter((p) => p.key.trim()).map((p) => [p.key.trim(), kvValue(p, numbers)]));
  if (f.parameters.length) doc.parameters = obj(f.parameters, true);
  else delete doc.parameters;
  if (f.secrets.length) doc.secrets = obj(f.secrets, false);
  else delete doc.secrets;

  if (f.vc) doc.defaults = { ...(doc.defaults || {}), virtualCluster: f.vc };
  else if (doc.defaults) {
    delete doc.defaults.virtualCluster;
    if (!Object.keys(doc.defaults).length) delete doc.defaults;
  }
  return order(doc);
}

/**
 * A number field's value to write: the document's own when it is no number
 * (a string such as "<% $parameters.n %>") and the form still shows what it
 * made of it; what the form holds otherwise.
 */
const kept = (prev: unknown, shown: number, dflt: number): unknown =>
  prev !== undefined && prev !== null && typeof prev !== 'number' && shown === num(prev, dflt) ? prev : shown;
const keptText = (prev: unknown, shown: string): unknown => (prev !== undefined && prev !== null && typeof prev !== 'number' && shown === str(prev) ? prev : Number(shown));

const commandsText = (c: unknown) => (Array.isArray(c) ? c.map(str).join('\n') : str(c));

/**
 * Other parts of the file name task roles: extras.hivedScheduler.taskRoles and
 * each deployment's taskRoles. A renamed role is renamed there too, a removed
 * one removed (the server refuses a file naming a role it does not have).
 */
function renameRoleRefs(doc: Doc, roles: Role[]) {
  const map = new Map<string, string>();
  for (const r of roles) if (r.orig !== undefined && !map.has(r.orig)) map.set(r.orig, r.name);
  const fix = (o: unknown) => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
    const out: Doc = {};
    for (const [k, v] of Object.entries(o as Doc)) {
      const to = map.get(k);
      if (to !== undefined) out[to] = v;
      else if (!(k in out) && roles.some((r) => r.name === k)) out[k] = v;
    }
    return out;
  };
  const hived = doc.extras?.hivedScheduler;
  if (hived && typeof hived === 'object' && hived.taskRoles) hived.taskRoles = fix(hived.taskRoles);
  if (Array.isArray(doc.deployments)) for (const d of doc.deployments) if (d && typeof d === 'object' && d.taskRoles) d.taskRoles = fix(d.taskRoles);
}

// the usual key order of job files, so generated YAML reads like a hand-written one
const ORDER = ['protocolVersion', 'name', 'type', 'version', 'contributor', 'description', 'prerequisites', 'parameters', 'secrets', 'jobRetryCount', 'taskRoles', 'defaults', 'extras'];

function order(doc: Doc): Doc {
  const out: Doc = {};
  for (const k of ORDER) if (k in doc) out[k] = doc[k];
  for (const k of Object.keys(doc)) if (!(k in out)) out[k] = doc[k];
  return out;
}
