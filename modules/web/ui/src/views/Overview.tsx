import { useEffect, useRef, useState } from 'preact/hooks';
import { Action, Badge, Empty, ErrorBox, Field, useLive } from '../components';
import { get, post, qs } from '../lib/api';
import { money, num, short } from '../lib/format';
import { streamSse } from '../lib/sse';
import { navigate } from '../lib/router';
import { currentProject, hasModule, loadProjects, useStore } from '../lib/store';
import type { ViewProps } from './registry';

export interface Worktree {
  id: string;
  name?: string;
  branch?: string;
  path?: string;
  isRoot?: boolean;
  status?: string;
  port?: number | null;
  hasUncommitted?: boolean;
  commitsAhead?: number;
  linesAdded?: number;
  linesRemoved?: number;
  filesChanged?: number;
  crashed?: boolean;
}

export interface Run {
  id: string;
  status: string;
  task?: string;
  agent_id?: string;
  agent_name?: string;
  tokens_in?: number;
  tokens_out?: number;
  cost_usd?: number;
  created_at?: string;
  branch?: string;
}

const ACTIVE = new Set(['pending', 'queued', 'starting', 'running', 'paused', 'waiting']);

export default function Overview(_: ViewProps) {
  const store = useStore();
  const project = currentProject();
  if (!project) return <NewProject first />;
  return (
    <div class="stack">
      <h1>{project.name}</h1>
      <p class="muted mono">{project.local_path}</p>
      <Worktrees projectId={project.id} />
      {hasModule('agents') && <ActiveRuns projectId={project.id} />}
      {store.projects.length > 0 && <NewProject />}
    </div>
  );
}

function NewProject({ first }: { first?: boolean }) {
  const [name, setName] = useState('');
  const [path, setPath] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState(!!first);
  if (!open)
    return (
      <div>
        <button class="btn plain" onClick={() => setOpen(true)}>
          New project…
        </button>
      </div>
    );
  return (
    <section class="card">
      <h2>{first ? 'Create your first project' : 'New project'}</h2>
      {first && <p class="muted">A project is a git repository on this machine. Its worktrees, runs and tickets live under it.</p>}
      <form
        class="row wrap"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await post('/api/projects', { name, local_path: path || undefined });
            setName('');
            setPath('');
            setError(null);
            await loadProjects();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <Field label="Name">
          <input required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label="Repository path">
          <input
            class="grow"
            placeholder="/home/me/src/app"
            value={path}
            onInput={(e) => setPath((e.target as HTMLInputElement).value)}
          />
        </Field>
        <button class="btn primary" type="submit">
          Create project
        </button>
      </form>
      <ErrorBox error={error} />
    </section>
  );
}

function Worktrees({ projectId }: { projectId: string }) {
  const { data, error, reload } = useLive(
    () => get<{ worktrees: Worktree[] }>(`/api/worktrees${qs({ project: projectId })}`).then((r) => r.worktrees),
    [projectId],
    (e) => /^(worktree|devserver\.status)/.test(e.event_type),
  );
  const [branch, setBranch] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [logsFor, setLogsFor] = useState<string | null>(null);
  const p = qs({ project: projectId });
  return (
    <section class="card" aria-labelledby="wt-h">
      <div class="card-head">
        <h2 id="wt-h">Worktrees</h2>
        <form
          class="row"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await post(`/api/worktrees${p}`, { branch });
              setBranch('');
              setActionError(null);
              reload();
            } catch (err) {
              setActionError(err);
            }
          }}
        >
          <input
            aria-label="New worktree branch"
            placeholder="new-branch-name"
            required
            value={branch}
            onInput={(e) => setBranch((e.target as HTMLInputElement).value)}
          />
          <button class="btn primary" type="submit">
            Create worktree
          </button>
        </form>
      </div>
      <ErrorBox error={error || actionError} />
      {!data && !error && <div class="loading">Loading…</div>}
      {data && data.length === 0 && <Empty title="No worktrees yet">Create one from a new branch above.</Empty>}
      {data && data.length > 0 && (
        <table class="table" aria-label="Worktrees">
          <thead>
            <tr>
              <th>Worktree</th>
              <th>Branch</th>
              <th>Git</th>
              <th>Dev server</th>
              <th class="right">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.map((w) => {
              const running = w.status === 'running' || w.status === 'starting';
              return [
                <tr key={w.id} data-worktree={w.id}>
                  <td>
                    <strong>{w.name || w.id}</strong>
                    {w.isRoot && <span class="tag">root</span>}
                  </td>
                  <td class="mono">{w.branch}</td>
                  <td>
                    {w.hasUncommitted ? <span class="tag warn">uncommitted</span> : <span class="tag ok">clean</span>}
                    {!!w.commitsAhead && <span class="tag">{w.commitsAhead} ahead</span>}
                    {!!(w.linesAdded || w.linesRemoved) && (
                      <span class="mono small">
                        <span class="add">+{w.linesAdded ?? 0}</span> <span class="del">−{w.linesRemoved ?? 0}</span>
                      </span>
                    )}
                  </td>
                  <td>
                    <Badge value={w.crashed ? 'crashed' : w.status || 'stopped'} />
                    {running && w.port ? (
                      <a class="mono small" href={`http://localhost:${w.port}/`} target="_blank" rel="noreferrer">
                        :{w.port}
                      </a>
                    ) : null}
                  </td>
                  <td class="right">
                    <div class="actions">
                    {hasModule('devservers') &&
                      (running ? (
                        <Action label="Stop" run={() => post(`/api/worktrees/${encodeURIComponent(w.id)}/stop${p}`).then(reload)} onError={setActionError} />
                      ) : (
                        <Action
                          label="Start"
                          kind="primary"
                          run={() => post(`/api/worktrees/${encodeURIComponent(w.id)}/start${p}`).then(() => (setLogsFor(w.id), reload()))}
                          onError={setActionError}
                        />
                      ))}
                    <button class="btn plain" aria-expanded={logsFor === w.id} onClick={() => setLogsFor(logsFor === w.id ? null : w.id)}>
                      Logs
                    </button>
                    {hasModule('terminal') && (
                      <button class="btn plain" onClick={() => navigate(`/terminals?worktree=${encodeURIComponent(w.id)}`)}>
                        Terminal
                      </button>
                    )}
                    </div>
                  </td>
                </tr>,
                logsFor === w.id && (
                  <tr key={`${w.id}-logs`} class="logs-row">
                    <td colSpan={5}>
                      <DevServerLogs worktreeId={w.id} projectId={projectId} />
                    </td>
                  </tr>
                ),
              ];
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

const MAX_LOG_LINES = 2000;
const lineText = (l: unknown) => (typeof l === 'string' ? l : l && typeof l === 'object' && 'line' in l ? String((l as { line: unknown }).line) : JSON.stringify(l));

function DevServerLogs({ worktreeId, projectId }: { worktreeId: string; projectId: string }) {
  const [lines, setLines] = useState<string[]>([]);
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    // `logs` (the ring) opens every connection, so a reconnect starts from a full picture.
    const s = streamSse(`/api/worktrees/${encodeURIComponent(worktreeId)}/logs/stream${qs({ project: projectId })}`, (m) => {
      let o: { logs?: unknown[]; lines?: unknown[] };
      try {
        o = JSON.parse(m.data);
      } catch {
        return;
      }
      if (m.event === 'logs') setLines((o.logs ?? o.lines ?? []).map(lineText).slice(-MAX_LOG_LINES));
      else if (m.event === 'log') setLines((prev) => prev.concat((o.lines ?? []).map(lineText)).slice(-MAX_LOG_LINES));
    });
    return () => s.close();
  }, [worktreeId, projectId]);
  useEffect(() => {
    const el = pre.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <pre class="log" ref={pre} aria-label="Dev server log" tabIndex={0}>
      {lines.length ? lines.join('\n') : 'No output yet.'}
    </pre>
  );
}

function ActiveRuns({ projectId }: { projectId: string }) {
  const { data, error } = useLive(
    () => get<Run[] | { runs: Run[] }>(`/api/runs${qs({ project_id: projectId })}`).then((r) => (Array.isArray(r) ? r : r.runs)),
    [projectId],
    (e) => e.event_type.startsWith('run.'),
  );
  const active = (data ?? []).filter((r) => ACTIVE.has(r.status));
  return (
    <section class="card" aria-labelledby="runs-h">
      <div class="card-head">
        <h2 id="runs-h">Runs in flight</h2>
        <a class="btn plain" href="#/runs">
          All runs
        </a>
      </div>
      <ErrorBox error={error} />
      {data && active.length === 0 && <Empty title="No agent is running">Start a run from the Runs view.</Empty>}
      {active.length > 0 && <RunTable runs={active} />}
    </section>
  );
}

export function RunTable({ runs }: { runs: Run[] }) {
  return (
    <table class="table" aria-label="Runs">
      <thead>
        <tr>
          <th>Run</th>
          <th>Task</th>
          <th>State</th>
          <th class="right">Tokens in / out</th>
          <th class="right">Cost</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} class="clickable" onClick={() => navigate(`/runs/${r.id}`)}>
            <td class="mono">
              <a href={`#/runs/${r.id}`}>{short(r.id)}</a>
            </td>
            <td class="ellipsis">{(r.task ?? '').split('\n')[0]}</td>
            <td>
              <Badge value={r.status} />
            </td>
            <td class="right mono">
              {num(r.tokens_in ?? 0)} / {num(r.tokens_out ?? 0)}
            </td>
            <td class="right mono">{money(r.cost_usd ?? 0)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
