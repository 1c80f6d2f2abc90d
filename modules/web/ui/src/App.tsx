import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { bus } from './lib/live';
import { navigate, useRoute } from './lib/router';
import { hasModule, loadProjects, selectProject, useStore } from './lib/store';
import { views, type ViewProps } from './views/registry';

const cache = new Map<string, ComponentType<ViewProps>>();

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
    loadProjects();
    const b = bus();
    setOnline(b.connected);
    const offState = b.onState(setOnline);
    const offResync = b.onResync(loadProjects);
    const offEvents = b.on((e) => {
      if (e.event_type.startsWith('project.')) loadProjects();
    });
    // Alt+1..9 switches views.
    const onKey = (ev: KeyboardEvent) => {
      if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
      const n = Number(ev.key);
      const visible = views.filter((v) => !v.module || hasModule(v.module));
      if (n >= 1 && n <= visible.length) {
        ev.preventDefault();
        navigate(`/${visible[n - 1].id}`);
      }
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
          {visible.map((v, i) => (
            <li key={v.id}>
              <a
                href={`#/${v.id}`}
                class={current === v.id ? 'active' : ''}
                aria-current={current === v.id ? 'page' : undefined}
                title={`${v.label} (Alt+${i + 1})`}
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
