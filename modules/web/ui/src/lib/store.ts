// State shared by every view: projects, the selected project and the loaded modules.
import { useEffect, useState } from 'preact/hooks';
import { get } from './api';

export interface Project {
  id: string;
  name: string;
  slug: string;
  local_path?: string | null;
  description?: string | null;
}

export interface ModuleInfo {
  id: string;
  state: string;
  version?: string;
  description?: string;
  error?: string | null;
}

type Sub = () => void;
const subs = new Set<Sub>();
const emit = () => subs.forEach((s) => s());

export const state = {
  projects: [] as Project[],
  projectId: localStorage.getItem('atelier.project') || '',
  modules: [] as ModuleInfo[],
  loaded: false,
  error: '',
};

export function selectProject(id: string) {
  state.projectId = id;
  localStorage.setItem('atelier.project', id);
  emit();
}

export function currentProject(): Project | undefined {
  return state.projects.find((p) => p.id === state.projectId) ?? state.projects[0];
}

// A module that was loaded (not refused or disabled) has its views; a list read while the
// server was starting or stopping may show it in a passing state.
export function hasModule(id: string): boolean {
  return state.modules.some((m) => m.id === id && m.state !== 'refused' && m.state !== 'disabled');
}

// Calls can overlap (a reconnect while an earlier read is in flight, or one answered by a
// server that was shutting down): only the latest one's answer is kept.
let loadSeq = 0;

export async function loadProjects() {
  const seq = ++loadSeq;
  try {
    const [projects, modules] = await Promise.all([
      get<Project[]>('/api/projects'),
      get<{ data: ModuleInfo[] }>('/api/modules'),
    ]);
    if (seq !== loadSeq) return;
    state.projects = projects;
    state.modules = modules.data ?? [];
    if (!projects.some((p) => p.id === state.projectId)) state.projectId = projects[0]?.id ?? '';
    state.error = '';
  } catch (e) {
    if (seq !== loadSeq) return;
    state.error = e instanceof Error ? e.message : String(e);
  }
  state.loaded = true;
  emit();
}

export function useStore() {
  const [, force] = useState(0);
  useEffect(() => {
    const s = () => force((n) => n + 1);
    subs.add(s);
    // State may have changed between the first render and this subscription.
    s();
    return () => {
      subs.delete(s);
    };
  }, []);
  return state;
}
