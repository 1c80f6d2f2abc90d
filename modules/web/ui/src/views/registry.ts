// The navigation. A view names the module it needs; it appears only when that module is
// running, so the boards, MCP and skills views slot in here as their modules land
// ({id: 'boards', label: 'Boards', module: 'boards', load: () => import('./Boards')}).
import type { ComponentType } from 'preact';
import type { Route } from '../lib/router';
import Overview from './Overview';

export interface ViewProps {
  route: Route;
}

export interface ViewEntry {
  id: string;
  label: string;
  icon: string;
  key: string; // "g" then this key opens the view
  module?: string;
  load: () => Promise<{ default: ComponentType<ViewProps> }>;
  // Views in the first bundle (the landing page) render without waiting for a chunk.
  eager?: ComponentType<ViewProps>;
}

export const views: ViewEntry[] = [
  { id: 'overview', key: 'o', label: 'Overview', icon: '◧', eager: Overview, load: async () => ({ default: Overview }) },
  { id: 'runs', key: 'r', label: 'Runs', icon: '▶', module: 'agents', load: () => import('./Runs') },
  { id: 'terminals', key: 't', label: 'Terminals', icon: '⌨', module: 'terminal', load: () => import('./Terminals') },
  { id: 'tickets', key: 'i', label: 'Tickets', icon: '☰', module: 'tickets', load: () => import('./Tickets') },
  { id: 'activity', key: 'a', label: 'Activity', icon: '≋', load: () => import('./Activity') },
  { id: 'settings', key: 's', label: 'Settings', icon: '⚙', load: () => import('./Settings') },
];
