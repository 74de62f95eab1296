// Small shared pieces: loading and error states, tiles, tables with a caption, pagers.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { RequestFailed, run } from './api';
import type { Operation } from './generated/documents';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `name` with `variables` whenever they change. */
export function useQuery<T>(name: Operation, variables: Record<string, unknown>): Loaded<T> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    run<T>(name, variables)
      .then((data) => live && setState({ data, error: null, loading: false }))
      .catch((e) =>
        live && setState({ data: null, error: e instanceof RequestFailed ? e.message : String(e), loading: false }),
      );
    return () => {
      live = false;
    };
  }, [name, key, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

export function Status<T>({ q, children }: { q: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (q.error) {
    return (
      <p class="error" role="alert">
        {q.error}
      </p>
    );
  }
  if (!q.data) {
    return (
      <p class="muted" aria-live="polite">
        Loading…
      </p>
    );
  }
  return <>{children(q.data)}</>;
}

export function Tile({ label, value, tone, href }: { label: string; value: number | string; tone?: 'bad' | 'warn' | 'ok'; href?: string }) {
  const body = (
    <>
      <span class="tile-value">{value}</span>
      <span class="tile-label">{label}</span>
    </>
  );
  return (
    <li class={`tile ${tone ?? ''}`}>
      {href ? <a href={href}>{body}</a> : <div>{body}</div>}
    </li>
  );
}

export function Section({ title, id, children }: { title: string; id: string; children: ComponentChildren }) {
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export const STATUS_LABEL: Record<string, string> = {
  QUALIFIED: 'Qualified',
  IN_TRAINING: 'In training',
  NOT_STARTED: 'Not started',
  OVERDUE: 'Overdue',
  EXEMPT: 'Exempt',
  ON_TRACK: 'On track',
  AT_RISK: 'At risk',
  CANNOT_MEET: 'Cannot meet',
  UNKNOWN: 'Unknown',
};

/** Words of the API's codes that stay in capitals (`SEN_GOVERNOR` is "SEN governor"). */
const ACRONYMS = new Set(['SEN', 'SEND', 'SENCO', 'SENCOS', 'EHC', 'EHCP', 'NPQ', 'NASENCO', 'QTS', 'LA', 'URN', 'TRN', 'DFE']);

export function humanise(code: string): string {
  if (STATUS_LABEL[code]) return STATUS_LABEL[code];
  const words = code.split('_').map((w, i) => (ACRONYMS.has(w) ? w : i === 0 ? w.charAt(0) + w.slice(1).toLowerCase() : w.toLowerCase()));
  return words.join(' ');
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

export function money(v: string | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const n = Number(v);
  return n.toLocaleString('en-GB', { style: 'currency', currency: 'GBP' });
}
