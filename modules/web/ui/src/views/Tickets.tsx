import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { Badge, Empty, ErrorBox, Field, useLive } from '../components';
import { ApiError, get, patch, post, qs } from '../lib/api';
import { ago } from '../lib/format';
import { bus } from '../lib/live';
import { navigate } from '../lib/router';
import { currentProject } from '../lib/store';
import { VirtualList } from '../VirtualList';
import type { ViewProps } from './registry';

interface Ticket {
  id: number;
  ticket_number: number;
  title: string;
  body?: string | null;
  status: string;
  priority?: number | null;
  updated_at?: string;
  created_at?: string;
  match_context?: string | null;
  labels?: { id: number; name: string; color?: string }[];
}

const PAGE = 100;
const STATUSES = ['open', 'in_progress', 'blocked', 'closed'];
const statusOptions = STATUSES.map((s) => (
  <option key={s} value={s}>
    {s.replace('_', ' ')}
  </option>
));
const USER = { id: 'web-user', name: 'You', type: 'user' };

// Comments need an author profile: the page acts as one user profile, created on first use.
let userReady: Promise<string> | null = null;
function ensureUser(): Promise<string> {
  userReady ??= (async () => {
    const users = await get<{ id: string }[]>(`/api/profiles${qs({ type: 'user', search: USER.name, limit: 100 })}`);
    if (!users.some((u) => u.id === USER.id))
      await post('/api/profiles', USER).catch((err) => {
        if (!(err instanceof ApiError) || err.status !== 409) throw err;
      });
    return USER.id;
  })();
  return userReady.catch((e) => {
    userReady = null;
    throw e;
  });
}

export default function Tickets({ route }: ViewProps) {
  const project = currentProject();
  if (!project) return <Empty title="No project">Create a project on the Overview first.</Empty>;
  if (route.path[1]) return <TicketDetail projectId={project.id} number={Number(route.path[1])} />;
  return <TicketList projectId={project.id} />;
}

function TicketList({ projectId }: { projectId: string }) {
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const [items, setItems] = useState<Ticket[]>([]);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const gen = useRef(0);
  const searchBox = useRef<HTMLInputElement>(null);

  const load = useCallback(
    async (reset: boolean) => {
      const g = reset ? ++gen.current : gen.current;
      setLoading(true);
      try {
        const offset = reset ? 0 : items.length;
        const page = await get<Ticket[]>(
          `/api/tickets${qs({ project_id: projectId, search: search.trim() || undefined, status: status || undefined, limit: PAGE, offset })}`,
        );
        if (g !== gen.current) return;
        setItems((prev) => (reset ? page : prev.concat(page)));
        setDone(page.length < PAGE);
        setError(null);
      } catch (e) {
        if (g === gen.current) setError(e);
      } finally {
        if (g === gen.current) setLoading(false);
      }
    },
    [projectId, search, status, items.length],
  );

  useEffect(() => {
    const t = setTimeout(() => load(true), search ? 120 : 0);
    return () => clearTimeout(t);
  }, [projectId, search, status]);
  useEffect(
    () =>
      bus().on((e) => {
        if (e.event_type.startsWith('ticket.') && (!e.project_id || e.project_id === projectId)) load(true);
      }),
    [load],
  );
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '/' && document.activeElement?.tagName !== 'INPUT' && document.activeElement?.tagName !== 'TEXTAREA') {
        e.preventDefault();
        searchBox.current?.focus();
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  return (
    <div class="stack full">
      <div class="row wrap">
        <h1 class="grow">Tickets</h1>
        <NewTicket projectId={projectId} onCreated={(t) => navigate(`/tickets/${t.ticket_number}`)} />
      </div>
      <div class="row wrap filters">
        <input
          ref={searchBox}
          type="search"
          class="grow"
          aria-label="Search tickets"
          placeholder="Search tickets (press /)"
          value={search}
          onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
        />
        <select aria-label="Status filter" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="">Any status</option>
          {statusOptions}
        </select>
      </div>
      <ErrorBox error={error} />
      {!loading && items.length === 0 && !error && (
        <Empty title={search || status ? 'No ticket matches' : 'No tickets yet'}>{search || status ? 'Try other words or filters.' : 'Create the first one above.'}</Empty>
      )}
      {items.length > 0 && (
        <VirtualList
          label="Tickets"
          items={items}
          rowHeight={52}
          onNearEnd={() => !done && !loading && load(false)}
          row={(t) => (
            <a class="ticket-row" href={`#/tickets/${t.ticket_number}`} data-ticket={t.ticket_number}>
              <span class="mono muted num">#{t.ticket_number}</span>
              <span class="grow ellipsis">
                <span class="title">{t.title}</span>
                {t.match_context && <span class="small muted ctx"> — {t.match_context.replace(/[«»]/g, '')}</span>}
              </span>
              <Badge value={t.status} />
              <span class="small muted when">{ago(t.updated_at)}</span>
            </a>
          )}
        />
      )}
    </div>
  );
}

function NewTicket({ projectId, onCreated }: { projectId: string; onCreated: (t: Ticket) => void }) {
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [error, setError] = useState<unknown>(null);
  if (!open)
    return (
      <button class="btn primary" onClick={() => setOpen(true)}>
        New ticket
      </button>
    );
  return (
    <form
      class="card stack new-ticket"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          const author = await ensureUser();
          const t = await post<Ticket>('/api/tickets', { project_id: projectId, title, body, author_id: author });
          setOpen(false);
          setTitle('');
          setBody('');
          onCreated(t);
        } catch (err) {
          setError(err);
        }
      }}
    >
      <Field label="Title">
        <input required value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      </Field>
      <Field label="Description">
        <textarea rows={3} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
      </Field>
      <ErrorBox error={error} />
      <div class="row">
        <button class="btn primary" type="submit">
          Create
        </button>
        <button class="btn plain" type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

interface TimelineItem {
  type: string;
  timestamp?: string;
  data: Record<string, unknown>;
}

function TicketDetail({ projectId, number }: { projectId: string; number: number }) {
  const base = `/api/projects/${encodeURIComponent(projectId)}/tickets/by-number/${number}`;
  const ticket = useLive(() => get<Ticket>(base), [base], (e) => e.event_type.startsWith('ticket.') || e.event_type.startsWith('comment.'));
  const timeline = useLive(
    () => get<{ items: TimelineItem[]; total: number }>(`${base}/timeline?limit=100`),
    [base],
    (e) => e.event_type.startsWith('ticket.') || e.event_type.startsWith('comment.') || e.event_type.startsWith('mention.'),
  );
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>(null);
  const t = ticket.data;
  return (
    <div class="stack">
      <a href="#/tickets" class="muted">
        ← Tickets
      </a>
      <ErrorBox error={ticket.error || error} />
      {t && (
        <section class="card stack">
          <div class="row wrap">
            <h1 class="grow">
              <span class="muted mono">#{t.ticket_number}</span> {t.title}
            </h1>
            <select
              aria-label="Status"
              value={t.status}
              onChange={(e) =>
                patch(base, { status: (e.target as HTMLSelectElement).value }).then(() => (ticket.reload(), timeline.reload()), setError)
              }
            >
              {statusOptions}
            </select>
          </div>
          {t.body ? <p class="prewrap">{t.body}</p> : <p class="muted">No description.</p>}
        </section>
      )}
      <section class="card">
        <h2>Timeline</h2>
        <ErrorBox error={timeline.error} />
        {timeline.data && timeline.data.items.length === 0 && <Empty title="Nothing yet" />}
        <ol class="timeline" aria-label="Timeline">
          {(timeline.data?.items ?? []).map((it, i) => (
            <TimelineEntry key={i} it={it} />
          ))}
        </ol>
        <form
          class="stack"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              const author = await ensureUser();
              await post(`${base}/comments`, { body: comment, author_id: author });
              setComment('');
              setError(null);
              timeline.reload();
            } catch (err) {
              setError(err);
            }
          }}
        >
          <Field label="Comment" hint="Mention a ticket with #number or a profile with @[Name](profile-id)">
            <textarea rows={3} required value={comment} onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} />
          </Field>
          <div>
            <button class="btn primary" type="submit">
              Comment
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}

// Renders #n and @[Name](id) mentions as links/chips.
function withMentions(text: string) {
  const parts: (string | preact.JSX.Element)[] = [];
  const re = /@\[([^\]]+)\]\(([^)]+)\)|(^|\s)#(\d+)\b/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    parts.push(text.slice(last, m.index));
    if (m[1]) parts.push(<span class="mention">@{m[1]}</span>);
    else {
      parts.push(m[3]);
      parts.push(<a href={`#/tickets/${m[4]}`}>#{m[4]}</a>);
    }
    last = re.lastIndex;
  }
  parts.push(text.slice(last));
  return parts;
}

function TimelineEntry({ it }: { it: TimelineItem }) {
  const d = it.data ?? {};
  const author = (d.author as { name?: string } | undefined)?.name ?? (d.actor as { name?: string } | undefined)?.name ?? String(d.author_id ?? d.actor_id ?? 'system');
  if (it.type === 'comment')
    return (
      <li class="tl tl-comment">
        <div class="small muted">
          <strong>{author}</strong> commented {ago(it.timestamp ?? String(d.created_at ?? ''))}
        </div>
        <div class="prewrap">{withMentions(String(d.body ?? ''))}</div>
      </li>
    );
  return (
    <li class="tl tl-event">
      <span class="small muted">
        <strong>{author}</strong> {String(d.event_type ?? it.type).replace(/[._]/g, ' ')} {ago(it.timestamp ?? String(d.created_at ?? ''))}
      </span>
    </li>
  );
}
