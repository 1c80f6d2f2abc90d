import { useEffect, useState } from 'preact/hooks';
import { Badge, Empty, ErrorBox } from '../components';
import { get, qs } from '../lib/api';
import { ago } from '../lib/format';
import { streamSse } from '../lib/sse';
import { currentProject } from '../lib/store';
import type { ViewProps } from './registry';

interface Activity {
  id: string | number;
  category?: string;
  type?: string;
  severity?: string;
  title?: string;
  detail?: string;
  timestamp?: string;
  created_at?: string;
}

interface OpsEntry {
  id: string | number;
  level?: string;
  status?: string;
  source?: string;
  message?: string;
  action?: string;
  timestamp?: string;
  created_at?: string;
}

const MAX = 1000;

export default function ActivityView(_: ViewProps) {
  const project = currentProject();
  const [category, setCategory] = useState('');
  const [level, setLevel] = useState('');
  const [search, setSearch] = useState('');
  const [activity, setActivity] = useState<Activity[]>([]);
  const [ops, setOps] = useState<OpsEntry[]>([]);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    get<Activity[] | { events: Activity[] }>(`/api/activity${qs({ category, limit: 200 })}`)
      .then((r) => setActivity(Array.isArray(r) ? r : r.events ?? []), setError);
  }, [category]);
  useEffect(() => {
    const t = setTimeout(
      () =>
        get<OpsEntry[] | { events: OpsEntry[] }>(`/api/logs${qs({ level, search, limit: 300 })}`).then(
          (r) => setOps(Array.isArray(r) ? r : r.events ?? []),
          setError,
        ),
      search ? 150 : 0,
    );
    return () => clearTimeout(t);
  }, [level, search]);
  // Live entries from the OpenKit stream; it resumes from its cursor after a restart.
  useEffect(() => {
    const s = streamSse(
      `/api/events${qs({ project: project?.id })}`,
      (m) => {
        let msg: { type?: string; event?: Activity & OpsEntry };
        try {
          msg = JSON.parse(m.data);
        } catch {
          return;
        }
        // The first frames of a fresh connection are history we already read over REST.
        if (msg.type === 'activity-history' || msg.type === 'ops-log-history' || msg.type === 'worktrees') return;
        const ev = msg.event;
        if (!ev) return;
        if (msg.type === 'activity' && (!category || ev.category === category))
          setActivity((prev) => [ev, ...prev.filter((p) => p.id !== ev.id)].slice(0, MAX));
        if (msg.type === 'ops-log' && (!level || ev.level === level))
          setOps((prev) => [ev, ...prev.filter((p) => p.id !== ev.id)].slice(0, MAX));
      },
      { cursorParam: 'lastEventId' },
    );
    return () => s.close();
  }, [project?.id, category, level]);

  const shown = search ? ops.filter((o) => JSON.stringify(o).toLowerCase().includes(search.toLowerCase())) : ops;
  return (
    <div class="stack">
      <h1>Activity and logs</h1>
      <ErrorBox error={error} />
      <div class="grid2">
        <section class="card">
          <div class="card-head">
            <h2>Activity</h2>
            <select aria-label="Activity category" value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
              <option value="">All categories</option>
              <option value="agent">agent</option>
              <option value="worktree">worktree</option>
              <option value="system">system</option>
            </select>
          </div>
          {activity.length === 0 && <Empty title="No activity yet" />}
          <ol class="feed" aria-label="Activity feed">
            {activity.map((a) => (
              <li key={a.id} class={`sev-${a.severity ?? 'info'}`}>
                <div class="row">
                  <Badge value={a.category} />
                  <strong class="grow ellipsis">{a.title ?? a.type}</strong>
                  <span class="small muted">{ago(a.timestamp ?? a.created_at)}</span>
                </div>
                {a.detail && <div class="small muted prewrap clamp">{a.detail}</div>}
              </li>
            ))}
          </ol>
        </section>
        <section class="card">
          <div class="card-head">
            <h2>Operations log</h2>
            <div class="row">
              <input type="search" aria-label="Search the operations log" placeholder="Search…" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
              <select aria-label="Log level" value={level} onChange={(e) => setLevel((e.target as HTMLSelectElement).value)}>
                <option value="">All levels</option>
                <option value="debug">debug</option>
                <option value="info">info</option>
                <option value="warning">warning</option>
                <option value="error">error</option>
              </select>
            </div>
          </div>
          {shown.length === 0 && <Empty title="No log entries" />}
          <ol class="feed mono small" aria-label="Operations log">
            {shown.map((o) => (
              <li key={o.id} class={`lvl-${o.level ?? 'info'}`}>
                <span class="muted">{(o.timestamp ?? o.created_at ?? '').slice(11, 19)}</span> <span class="tag">{o.level}</span>{' '}
                <span class="muted">{o.source}</span> {o.message ?? o.action}
                {o.status && <span class="tag">{o.status}</span>}
              </li>
            ))}
          </ol>
        </section>
      </div>
    </div>
  );
}
