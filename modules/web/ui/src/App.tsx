import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { bus } from './lib/live';
import { navigate, useRoute } from './lib/router';
import { hasModule, loadProjects, selectProject, useStore } from './lib/store';
import { views, type ViewProps } from './views/registry';

const cache = new Map<string, ComponentType<ViewProps>>();
for (const v of views) if (v.eager) cache.set(v.id, v.eager);
// Read the projects while the first render happens.
const firstLoad = loadProjects();

function useView(id: string): ComponentType<ViewProps> | null {
  const entry = views.find((v) => v.id === id) ?? views[0];
  const [comp, setComp] = useState<ComponentType<ViewProps> | null>(() => cache.get(entry.id) ?? null);
  useEffect(() => {
    const hit = cache.get(entry.id);
    if (hit) return setComp(() => hit);
    let live = true;
    entry.load().then((m) => {
      cache.set(entry.id, m.default);
      if (live) setComp(() => m.default);
    });
    return () => {
      live = false;
    };
  }, [entry.id]);
  return comp;
}

export function App() {
  const store = useStore();
  const route = useRoute();
  const [online, setOnline] = useState(false);
  const current = route.path[0] ?? 'overview';
  const View = useView(current);

  useEffect(() => {
    void firstLoad;
    const b = bus();
    setOnline(b.connected);
    const offState = b.onState(setOnline);
    const offResync = b.onResync(loadProjects);
    const offEvents = b.on((e) => {
      if (e.event_type.startsWith('project.')) loadProjects();
    });
    // "g" then a view's key switches views (g t: terminals), outside text fields.
    let leader = 0;
    const onKey = (ev: KeyboardEvent) => {
      const t = ev.target as HTMLElement | null;
      if (ev.altKey || ev.ctrlKey || ev.metaKey || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))) return;
      if (t?.closest('.term')) return;
      if (Date.now() - leader < 1500) {
        leader = 0;
        const v = views.find((x) => x.key === ev.key && (!x.module || hasModule(x.module)));
        if (v) {
          ev.preventDefault();
          navigate(`/${v.id}`);
        }
      } else if (ev.key === 'g') leader = Date.now();
    };
    addEventListener('keydown', onKey);
    return () => {
      offState();
      offResync();
      offEvents();
      removeEventListener('keydown', onKey);
    };
  }, []);

  // First meaningful render: the current view drawn with the server's data.
  useEffect(() => {
    if (store.loaded && View && !performance.getEntriesByName('atelier:first-render').length) performance.mark('atelier:first-render');
  }, [store.loaded, View]);

  const visible = views.filter((v) => !v.module || !store.loaded || hasModule(v.module));
  return (
    <div class="shell">
      <nav class="sidebar" aria-label="Main">
        <div class="brand">
          <span class="logo" aria-hidden="true">A</span> Atelier
        </div>
        <ul>
          {visible.map((v) => (
            <li key={v.id}>
              <a
                href={`#/${v.id}`}
                class={current === v.id ? 'active' : ''}
                aria-current={current === v.id ? 'page' : undefined}
                title={`${v.label} (g ${v.key})`}
                aria-keyshortcuts={`g ${v.key}`}
              >
                <span class="icon" aria-hidden="true">
                  {v.icon}
                </span>
                {v.label}
              </a>
            </li>
          ))}
        </ul>
        <div class="conn" role="status" aria-live="polite">
          <span class={`dot ${online ? 'ok' : 'off'}`} aria-hidden="true" />
          {online ? 'Live' : 'Reconnecting…'}
        </div>
      </nav>
      <div class="main">
        <header class="topbar">
          <label class="project-select">
            <span>Project</span>
            <select
              aria-label="Project"
              value={store.projectId}
              onChange={(e) => selectProject((e.target as HTMLSelectElement).value)}
            >
              {store.projects.length === 0 && <option value="">No projects yet</option>}
              {store.projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          {store.error && (
            <div class="banner error" role="alert">
              {store.error}
            </div>
          )}
        </header>
        <main class="content" id="content">
          {store.loaded && View ? <View route={route} /> : <div class="loading">Loading…</div>}
        </main>
      </div>
    </div>
  );
}
