import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Action, Badge, Empty, ErrorBox, useLive } from '../components';
import { get, post } from '../lib/api';
import { parseUnifiedDiff, sideBySide, type DiffFile } from '../lib/diff';
import { money, num, short } from '../lib/format';
import { streamSse } from '../lib/sse';
import { navigate } from '../lib/router';
import { hasModule } from '../lib/store';
import type { Run } from './Overview';
import { TerminalPane } from './TerminalPane';

interface RunEvent {
  id: number;
  sequence: number;
  event_type: string;
  payload: Record<string, unknown>;
  created_at: string;
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);
const MAX_EVENTS = 5000;

export default function RunView({ id, tab }: { id: string; tab: string }) {
  const run = useLive(
    () => get<Run & Record<string, unknown>>(`/api/runs/${encodeURIComponent(id)}`),
    [id],
    (e) => e.event_type.startsWith('run.') && (e.payload?.runId === id || e.payload?.run_id === id || e.payload?.id === id),
  );
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState('');
  const r = run.data;
  const base = `/api/runs/${encodeURIComponent(id)}`;
  const act = (path: string, body: unknown = {}) => () => post(`${base}/${path}`, body).then(() => (setError(null), run.reload()));
  const tabs = [
    ['events', 'Events'],
    ['changes', 'Changes'],
    ...(hasModule('terminal') ? [['terminal', 'Terminal']] : []),
  ];
  return (
    <div class="stack">
      <div class="row wrap">
        <a href="#/runs" class="muted">
          ← Runs
        </a>
        <h1 class="grow">
          Run <span class="mono">{short(id)}</span>
        </h1>
        {r && <Badge value={r.status} />}
      </div>
      <ErrorBox error={run.error || error} />
      {r && (
        <section class="card">
          <p class="task">{r.task}</p>
          <dl class="facts">
            <div>
              <dt>Branch</dt>
              <dd class="mono">{String(r.branch ?? (r.worktrees as { branch?: string }[] | undefined)?.[0]?.branch ?? '—')}</dd>
            </div>
            <div>
              <dt>Tokens in / out</dt>
              <dd class="mono" data-testid="run-tokens">
                {num(r.tokens_in ?? 0)} / {num(r.tokens_out ?? 0)}
              </dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd class="mono">{money(r.cost_usd ?? 0)}</dd>
            </div>
            {r.error ? (
              <div>
                <dt>Error</dt>
                <dd>{String(r.error)}</dd>
              </div>
            ) : null}
          </dl>
          <div class="row wrap">
            {r.status === 'running' && <Action label="Pause" run={act('pause')} onError={setError} />}
            {r.status === 'running' && <Action label="Cancel" kind="danger" run={act('cancel')} onError={setError} />}
            <input
              class="grow"
              aria-label="Follow-up message"
              placeholder={r.status === 'running' ? 'Follow-up (after pausing)…' : 'Follow-up message…'}
              value={message}
              onInput={(e) => setMessage((e.target as HTMLInputElement).value)}
            />
            <Action
              label="Continue"
              kind="primary"
              disabled={r.status === 'running'}
              run={() => act('continue', message ? { message } : {})().then(() => setMessage(''))}
              onError={setError}
            />
          </div>
        </section>
      )}
      <div class="tabs" role="tablist" aria-label="Run">
        {tabs.map(([k, label]) => (
          <button
            key={k}
            role="tab"
            aria-selected={tab === k}
            class={tab === k ? 'tab active' : 'tab'}
            onClick={() => navigate(`/runs/${id}?tab=${k}`)}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {tab === 'events' && <EventStream id={id} finished={!!r && FINISHED.has(r.status)} />}
        {tab === 'changes' && <Changes id={id} onError={setError} />}
        {tab === 'terminal' && hasModule('terminal') && <TerminalPane url={`/api/terminal?run_id=${encodeURIComponent(id)}`} label={`Run ${short(id)}`} />}
      </div>
    </div>
  );
}

function EventStream({ id, finished }: { id: string; finished: boolean }) {
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [typing, setTyping] = useState('');
  const [error, setError] = useState<string>('');
  const finishedRef = useRef(finished);
  finishedRef.current = finished;
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    setEvents([]);
    setTyping('');
    let queue: RunEvent[] = [];
    let scheduled = false;
    // Events that arrive together reach the DOM in one render.
    const flush = () => {
      scheduled = false;
      const batch = queue;
      queue = [];
      setEvents((prev) => {
        const seen = prev.length ? prev[prev.length - 1].id : 0;
        const fresh = batch.filter((e) => e.id > seen && e.event_type !== 'agent.token');
        if (!fresh.length) return prev;
        const next = prev.concat(fresh);
        return next.length > MAX_EVENTS ? next.slice(-MAX_EVENTS) : next;
      });
      const tokens = batch.filter((e) => e.event_type === 'agent.token').map((e) => String(e.payload?.text ?? ''));
      const ended = batch.some((e) => e.event_type === 'agent.message');
      setTyping((t) => (ended ? '' : t + tokens.join('')));
    };
    const s = streamSse(
      `/api/runs/${encodeURIComponent(id)}/events/stream`,
      (m) => {
        try {
          queue.push(JSON.parse(m.data));
        } catch {
          return;
        }
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(flush);
        }
      },
      {
        cursorParam: 'last_event_id',
        reconnect: () => !finishedRef.current,
        onError: (status, body) => {
          try {
            setError(JSON.parse(body).error ?? `HTTP ${status}`);
          } catch {
            setError(`HTTP ${status}`);
          }
        },
      },
    );
    return () => s.close();
  }, [id]);
  useEffect(() => {
    const el = list.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }, [events, typing]);
  if (error) return <div class="banner error">{error}</div>;
  return (
    <section class="card">
      {events.length === 0 && !typing && <Empty title="Waiting for events…" />}
      <ol class="events" ref={list} aria-label="Run events" aria-live="polite">
        {events.map((e) => (
          <EventRow key={e.id} e={e} />
        ))}
        {typing && (
          <li class="ev ev-typing">
            <span class="ev-type">typing</span>
            <span class="ev-body">{typing}</span>
          </li>
        )}
      </ol>
    </section>
  );
}

function EventRow({ e }: { e: RunEvent }) {
  const p = e.payload ?? {};
  let body: string;
  if (e.event_type === 'agent.message') body = String(p.text ?? p.content ?? '');
  else if (e.event_type === 'agent.tool_call') body = `${p.tool_name ?? p.name ?? 'tool'} ${compact(p.input)}`;
  else if (e.event_type === 'agent.tool_result') body = `${p.tool_name ?? ''} → ${compact(p.output)}`;
  else if (e.event_type === 'run.result')
    body = `tokens ${num(p.tokens_in ?? p.input_tokens ?? 0)} in / ${num(p.tokens_out ?? p.output_tokens ?? 0)} out · ${money(p.cost_usd ?? p.total_cost_usd ?? 0)}`;
  else body = compact(p);
  const kind = e.event_type.replace(/[^a-z]/gi, '-');
  return (
    <li class={`ev ev-${kind}`} data-event-type={e.event_type} data-created={e.created_at}>
      <span class="ev-type">{e.event_type.replace(/^agent\./, '')}</span>
      <span class="ev-body">{body}</span>
      {e.event_type === 'agent.permission_request' && <span class="tag warn">permission requested</span>}
    </li>
  );
}

function compact(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v.length > 400 ? `${v.slice(0, 400)}…` : v;
  const s = JSON.stringify(v);
  return s.length > 400 ? `${s.slice(0, 400)}…` : s;
}

interface Changes {
  repos?: { repo_name?: string; diff?: string; branch?: string }[];
  diff?: string;
}

function Changes({ id, onError }: { id: string; onError: (e: unknown) => void }) {
  const changes = useLive(
    () => get<Changes>(`/api/runs/${encodeURIComponent(id)}/changes`),
    [id],
    (e) => e.event_type.startsWith('run.') && (e.payload?.runId === id || e.payload?.run_id === id),
  );
  const files = useMemo<DiffFile[]>(() => {
    const c = changes.data;
    if (!c) return [];
    const texts = c.repos?.length ? c.repos.map((r) => r.diff ?? '') : [c.diff ?? ''];
    return texts.flatMap(parseUnifiedDiff);
  }, [changes.data]);
  const [selected, setSelected] = useState(0);
  const [commitMsg, setCommitMsg] = useState('');
  const [prTitle, setPrTitle] = useState('');
  const [note, setNote] = useState('');
  const base = `/api/runs/${encodeURIComponent(id)}`;
  const file = files[Math.min(selected, files.length - 1)];
  return (
    <section class="card">
      <ErrorBox error={changes.error} />
      <div class="row wrap">
        <input
          class="grow"
          aria-label="Commit message"
          placeholder="Commit message"
          value={commitMsg}
          onInput={(e) => setCommitMsg((e.target as HTMLInputElement).value)}
        />
        <Action
          label="Commit"
          kind="primary"
          disabled={files.length === 0}
          run={() =>
            post<{ commit?: string; sha?: string }>(`${base}/commit`, commitMsg ? { message: commitMsg } : {}).then((r) => {
              setNote(`Committed ${String(r?.commit ?? r?.sha ?? '').slice(0, 10)}`);
              setCommitMsg('');
              changes.reload();
            })
          }
          onError={onError}
        />
        <Action label="Push" run={() => post(`${base}/push`).then(() => setNote('Pushed'))} onError={onError} />
        <input aria-label="Pull request title" placeholder="Pull request title" value={prTitle} onInput={(e) => setPrTitle((e.target as HTMLInputElement).value)} />
        <Action
          label="Open pull request"
          disabled={!prTitle}
          run={() =>
            post<{ url?: string; pr_url?: string }>(`${base}/pull-request`, { title: prTitle }).then((r) => setNote(`Pull request: ${r?.url ?? r?.pr_url ?? 'opened'}`))
          }
          onError={onError}
        />
      </div>
      {note && (
        <div class="banner ok" role="status">
          {note}
        </div>
      )}
      {changes.data && files.length === 0 && <Empty title="No changes">The run's worktree matches its base commit.</Empty>}
      {files.length > 0 && (
        <div class="diff-layout">
          <ul class="file-list" aria-label="Changed files">
            {files.map((f, i) => (
              <li key={`${f.newPath}-${i}`}>
                <button class={i === selected ? 'file active' : 'file'} aria-current={i === selected} onClick={() => setSelected(i)}>
                  <span class={`st st-${f.status}`}>{f.status[0].toUpperCase()}</span>
                  <span class="mono ellipsis">{f.status === 'deleted' ? f.oldPath : f.newPath}</span>
                  <span class="small mono">
                    <span class="add">+{f.additions}</span> <span class="del">−{f.deletions}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {file && <SideBySide file={file} />}
        </div>
      )}
    </section>
  );
}

export function SideBySide({ file }: { file: DiffFile }) {
  const rows = useMemo(() => sideBySide(file), [file]);
  if (file.binary) return <Empty title="Binary file" />;
  return (
    <div class="sbs" role="table" aria-label={`Diff of ${file.newPath}`}>
      <div class="sbs-head" role="row">
        <span role="columnheader">{file.status === 'added' ? '(new file)' : file.oldPath}</span>
        <span role="columnheader">{file.status === 'deleted' ? '(deleted)' : file.newPath}</span>
      </div>
      {rows.map((row, i) =>
        row.kind === 'hunk' ? (
          <div key={i} class="sbs-hunk" role="row">
            {row.header}
          </div>
        ) : (
          <div key={i} class="sbs-row" role="row">
            <span class={`ln`}>{row.left?.oldNo ?? ''}</span>
            <span role="cell" class={`code ${row.left ? (row.left.kind === 'del' ? 'del-bg' : '') : 'none'}`}>
              {row.left?.text ?? ''}
            </span>
            <span class="ln">{row.right?.newNo ?? ''}</span>
            <span role="cell" class={`code ${row.right ? (row.right.kind === 'add' ? 'add-bg' : '') : 'none'}`}>
              {row.right?.text ?? ''}
            </span>
          </div>
        ),
      )}
    </div>
  );
}
