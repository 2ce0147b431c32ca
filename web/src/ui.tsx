// Shared pieces: data hooks, loading/error/empty states, toasts, dialogs.
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from './api';

// ---- data ---------------------------------------------------------------------------

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;     // nothing to show yet (first load, or the inputs changed)
  refreshing: boolean;  // a background refresh is under way; data stays on screen
  reload: () => void;
}

/**
 * Load data with fetcher(signal) whenever deps change, and again every
 * `every` ms while the tab is visible (0: never). A refresh keeps the current
 * data on screen until the new data arrives, so tables never flicker; an
 * answer that arrives after the inputs changed is dropped.
 */
export function useLoad<T>(fetcher: (signal: AbortSignal) => Promise<T>, deps: unknown[], every = 0): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean; refreshing: boolean }>({
    loading: true,
    refreshing: false,
  });
  const gen = useRef(0);
  const ctl = useRef<AbortController | null>(null);
  const fetchRef = useRef(fetcher);
  fetchRef.current = fetcher;

  const run = useCallback((background: boolean) => {
    const my = ++gen.current;
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setState((s) => (background ? { ...s, refreshing: true } : { data: s.data, error: undefined, loading: true, refreshing: false }));
    fetchRef.current(c.signal).then(
      (data) => {
        if (my === gen.current) setState({ data, error: undefined, loading: false, refreshing: false });
      },
      (error) => {
        if (my !== gen.current || (error as Error)?.name === 'AbortError') return;
        // a failed background refresh keeps the data and shows the error beside it
        setState((s) => ({ data: background ? s.data : undefined, error, loading: false, refreshing: false }));
      },
    );
  }, []);

  useEffect(() => {
    run(false);
    return () => ctl.current?.abort();
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (!every) return;
    const id = setInterval(() => {
      if (!document.hidden) run(true);
    }, every);
    return () => clearInterval(id);
  }, [every, run]);

  return { ...state, data: state.data, reload: () => run(true) } as Loaded<T>;
}

// ---- states -------------------------------------------------------------------------

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div class="error-box" role="alert">
      <strong>Error:</strong> {errorText(error)}
      {retry && (
        <button type="button" class="link" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** Render loading / error / empty, else children(data). */
export function Show<T>({
  load,
  empty,
  children,
}: {
  load: Loaded<T>;
  empty?: (d: T) => ComponentChildren | false;
  children: (d: T) => ComponentChildren;
}) {
  if (load.data === undefined) {
    if (load.error) return <ErrorBox error={load.error} retry={load.reload} />;
    return <Loading />;
  }
  const e = empty && empty(load.data);
  return (
    <>
      {load.error ? <ErrorBox error={load.error} retry={load.reload} /> : null}
      {e ? <Empty>{e}</Empty> : children(load.data)}
    </>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`state state-${(state || 'unknown').toLowerCase()}`}>{state || 'UNKNOWN'}</span>;
}

export function Meter({ used, total, label }: { used: number; total: number; label: string }) {
  const pct = total > 0 ? Math.min(100, Math.round((used / total) * 100)) : 0;
  return (
    <span class="meter" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={total} aria-valuenow={used}>
      <span class="meter-bar" style={{ width: `${pct}%` }} />
    </span>
  );
}

export function PageHeader({ title, children }: { title: ComponentChildren; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1>{title}</h1>
      {children && <div class="actions">{children}</div>}
    </header>
  );
}

// ---- toasts -------------------------------------------------------------------------

interface Toast {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}
let toasts: Toast[] = [];
let toastId = 0;
const toastListeners = new Set<() => void>();

export function notify(kind: 'ok' | 'error', text: string) {
  const t = { id: ++toastId, kind, text };
  toasts = [...toasts, t].slice(-5);
  toastListeners.forEach((l) => l());
  setTimeout(() => dismiss(t.id), kind === 'error' ? 12000 : 5000);
}

export const notifyError = (what: string, e: unknown) => notify('error', `${what}: ${errorText(e)}`);

function dismiss(id: number) {
  toasts = toasts.filter((t) => t.id !== id);
  toastListeners.forEach((l) => l());
}

export function Toasts() {
  const [, force] = useState(0);
  useEffect(() => {
    const l = () => force((n) => n + 1);
    toastListeners.add(l);
    return () => toastListeners.delete(l);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : undefined}>
          <span>{t.text}</span>
          <button type="button" class="icon" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

// ---- dialogs ------------------------------------------------------------------------

/** A modal <dialog>: focus moves in, Escape closes, focus returns after. */
export function Modal({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    const before = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    return () => {
      if (d.open) d.close();
      before?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={wide ? 'modal wide' : 'modal'}
      aria-label={title}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <header>
        <h2>{title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      {children}
    </dialog>
  );
}

interface ConfirmReq {
  title: string;
  message: ComponentChildren;
  action: string;
  danger?: boolean;
  resolve: (ok: boolean) => void;
}
let confirmSet: ((r: ConfirmReq | null) => void) | null = null;

/** Ask before a destructive action; resolves true when confirmed. */
export function confirmAction(title: string, message: ComponentChildren, action: string, danger = true): Promise<boolean> {
  return new Promise((resolve) => {
    if (!confirmSet) return resolve(window.confirm(`${title}\n\n${String(message)}`));
    confirmSet({ title, message, action, danger, resolve });
  });
}

export function ConfirmHost() {
  const [req, setReq] = useState<ConfirmReq | null>(null);
  useEffect(() => {
    confirmSet = setReq;
    return () => {
      confirmSet = null;
    };
  }, []);
  if (!req) return null;
  const done = (ok: boolean) => {
    setReq(null);
    req.resolve(ok);
  };
  return (
    <Modal title={req.title} onClose={() => done(false)}>
      <div class="modal-body">{req.message}</div>
      <footer>
        <button type="button" onClick={() => done(false)}>
          Cancel
        </button>
        <button type="button" class={req.danger ? 'danger' : 'primary'} onClick={() => done(true)} autoFocus>
          {req.action}
        </button>
      </footer>
    </Modal>
  );
}

// ---- forms --------------------------------------------------------------------------

export function Field({
  label,
  hint,
  children,
  id,
}: {
  label: string;
  hint?: ComponentChildren;
  id: string;
  children: ComponentChildren;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <small class="hint" id={`${id}-hint`}>
          {hint}
        </small>
      )}
    </div>
  );
}

/** A button that runs an async action, is disabled meanwhile, and reports the outcome. */
export function ActionButton({
  run,
  children,
  class: cls,
  disabled,
  label,
  ...rest
}: {
  run: () => Promise<unknown>;
  children: ComponentChildren;
  class?: string;
  disabled?: boolean;
  label?: string;
} & Omit<JSX.HTMLAttributes<HTMLButtonElement>, 'label'>) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class={cls}
      disabled={disabled || busy}
      aria-busy={busy}
      aria-label={label}
      {...rest}
      onClick={async () => {
        setBusy(true);
        try {
          await run();
        } finally {
          setBusy(false);
        }
      }}
    >
      {children}
    </button>
  );
}

/** The document's title: "Jobs · Gantry". */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Gantry` : 'Gantry';
  }, [title]);
}
