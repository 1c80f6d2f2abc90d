import { useEffect, useState } from 'preact/hooks';
import { Empty, ErrorBox, useLive } from '../components';
import { del, get, post, qs } from '../lib/api';
import { short } from '../lib/format';
import { navigate } from '../lib/router';
import { currentProject } from '../lib/store';
import type { Worktree } from './Overview';
import type { ViewProps } from './registry';
import { TerminalPane } from './TerminalPane';

interface Session {
  id: string;
  status: string;
  cwd?: string;
  kind?: string;
  worktreeId?: string;
  runId?: string;
  createdAt?: string;
}

export default function Terminals({ route }: ViewProps) {
  const project = currentProject();
  const pid = project?.id ?? '';
  const sessions = useLive(
    () => get<{ sessions: Session[] }>('/api/terminals').then((r) => r.sessions),
    [],
    (e) => e.event_type.startsWith('terminal.'),
  );
  const worktrees = useLive(
    () => get<{ worktrees: Worktree[] }>(`/api/worktrees${qs({ project: pid })}`).then((r) => r.worktrees),
    [pid],
    (e) => e.event_type.startsWith('worktree'),
  );
  const [error, setError] = useState<unknown>(null);
  const wantWorktree = route.query.get('worktree');
  const selected = route.query.get('session');

  const open = async (worktreeId: string) => {
    try {
      const r = await post<{ sessionId: string }>(`/api/worktrees/${encodeURIComponent(worktreeId)}/terminals${qs({ project: pid })}`, {
        cols: 100,
        rows: 30,
      });
      sessions.reload();
      navigate(`/terminals?session=${encodeURIComponent(r.sessionId)}`);
    } catch (e) {
      setError(e);
    }
  };
  // #/terminals?worktree=<id> (from the Overview) opens a new tab for that worktree.
  useEffect(() => {
    if (wantWorktree) open(wantWorktree);
  }, [wantWorktree]);

  const list = (sessions.data ?? []).filter((s) => s.status === 'running');
  const active = list.find((s) => s.id === selected) ?? list[0];
  const wtName = (id?: string) => worktrees.data?.find((w) => w.id === id)?.name ?? id;
  return (
    <div class="stack full">
      <div class="row wrap">
        <h1 class="grow">Terminals</h1>
        <label class="row">
          <span class="muted small">New terminal in</span>
          <select
            aria-label="New terminal in worktree"
            value=""
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              if (v) open(v);
            }}
          >
            <option value="">choose a worktree…</option>
            {(worktrees.data ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name || w.id} ({w.branch})
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={error || sessions.error} />
      {sessions.data && list.length === 0 && <Empty title="No terminal open">Pick a worktree above to open a shell in it.</Empty>}
      {list.length > 0 && (
        <div class="tabs" role="tablist" aria-label="Terminal sessions">
          {list.map((s) => (
            <div key={s.id} class={s.id === active?.id ? 'tab active' : 'tab'}>
              <button role="tab" aria-selected={s.id === active?.id} onClick={() => navigate(`/terminals?session=${encodeURIComponent(s.id)}`)}>
                {s.runId ? `run ${short(s.runId)}` : wtName(s.worktreeId) ?? s.kind ?? 'shell'} · {short(s.id)}
              </button>
              <button
                class="tab-close"
                aria-label={`Close terminal ${short(s.id)}`}
                onClick={() => del(`/api/terminals/${encodeURIComponent(s.id)}`).then(sessions.reload, setError)}
              >
                ×
              </button>
            </div>
          ))}
        </div>
      )}
      {active && <TerminalPane key={active.id} url={`/api/terminals/${encodeURIComponent(active.id)}/ws`} label={wtName(active.worktreeId) ?? short(active.id)} />}
    </div>
  );
}
