// Small formatting helpers shared by the pages.

export const STATES = ['WAITING', 'RUNNING', 'STOPPING', 'SUCCEEDED', 'FAILED', 'STOPPED'] as const;
export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);

export function isActive(state: string): boolean {
  return !TERMINAL.has(state);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local time, "2026-11-23 14:05:09"; "–" for none. */
export function fmtTime(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined || ms === '' || ms === 0) return '–';
  const d = new Date(ms);
  if (isNaN(d.getTime())) return '–';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "3s", "4m 05s", "2h 03m", "3d 4h". */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return '–';
  let s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  let m = Math.floor(s / 60);
  s %= 60;
  if (m < 60) return `${m}m ${pad(s)}s`;
  let h = Math.floor(m / 60);
  m %= 60;
  if (h < 24) return `${h}h ${pad(m)}m`;
  const d = Math.floor(h / 24);
  h %= 24;
  return `${d}d ${h}h`;
}

/** How long a job has run or ran: created → completed (or now). */
export function jobDuration(start: number | null, end: number | null, now = Date.now()): string {
  if (!start) return '–';
  return fmtDuration((end || now) - start);
}

export function fmtMB(mb: number | null | undefined): string {
  if (mb === null || mb === undefined) return '–';
  if (mb >= 1024 * 1024) return `${(mb / 1024 / 1024).toFixed(1)} TB`;
  if (mb >= 1024) return `${(mb / 1024).toFixed(mb % 1024 ? 1 : 0)} GB`;
  return `${mb} MB`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function jobId(user: string, name: string): string {
  return `${user}~${name}`;
}

export function jobHref(user: string, name: string): string {
  return `/jobs/${encodeURIComponent(user)}~${encodeURIComponent(name)}`;
}

/** Save text (or a blob) as a file the browser downloads. */
export function download(name: string, text: string | Blob, type = 'text/yaml') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
