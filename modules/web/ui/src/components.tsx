import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from './lib/api';
import { bus, type BusEvent } from './lib/live';

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div class="banner error" role="alert">
      {errorText(error)}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

export function Badge({ value }: { value?: string | null }) {
  const v = value || 'unknown';
  return <span class={`badge b-${v.replace(/[^a-z_-]/gi, '')}`}>{v.replace(/_/g, ' ')}</span>;
}

// A button that runs an async action, disables itself meanwhile and reports a failure.
export function Action(props: {
  label: string;
  run: () => Promise<unknown>;
  kind?: 'primary' | 'danger' | 'plain';
  disabled?: boolean;
  onError?: (e: unknown) => void;
  title?: string;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class={`btn ${props.kind ?? 'plain'}`}
      disabled={busy || props.disabled}
      title={props.title}
      aria-busy={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await props.run();
        } catch (e) {
          props.onError?.(e);
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.label}
    </button>
  );
}

// Loads with `fn`, and loads again (coalesced) whenever a bus event passes `match` or the bus
// reconnects after missing events.
export function useLive<T>(fn: () => Promise<T>, deps: unknown[], match: (e: BusEvent) => boolean) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const matchRef = useRef(match);
  matchRef.current = match;
  const reload = useCallback(() => {
    fnRef
      .current()
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch(setError);
  }, []);
  useEffect(() => {
    reload();
    let pending: ReturnType<typeof setTimeout> | null = null;
    const schedule = () => {
      if (!pending) pending = setTimeout(() => ((pending = null), reload()), 30);
    };
    const offE = bus().on((e) => matchRef.current(e) && schedule());
    const offR = bus().onResync(schedule);
    return () => {
      offE();
      offR();
      if (pending) clearTimeout(pending);
    };
  }, deps);
  return { data, error, reload, setData };
}

export function Field(props: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span>{props.label}</span>
      {props.children}
      {props.hint && <small>{props.hint}</small>}
    </label>
  );
}
