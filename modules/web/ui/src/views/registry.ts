// The navigation. A view names the module it needs; it appears only when that module is
// running, so the boards, MCP and skills views slot in here as their modules land
// ({id: 'boards', label: 'Boards', module: 'boards', load: () => import('./Boards')}).
import type { ComponentType } from 'preact';
import type { Route } from '../lib/router';

export interface ViewProps {
  route: Route;
}

export interface ViewEntry {
  id: string;
  label: string;
  icon: string;
  module?: string;
  load: () => Promise<{ default: ComponentType<ViewProps> }>;
}

export const views: ViewEntry[] = [
  { id: 'overview', label: 'Overview', icon: '◧', load: () => import('./Overview') },
  { id: 'runs', label: 'Runs', icon: '▶', module: 'agents', load: () => import('./Runs') },
  { id: 'terminals', label: 'Terminals', icon: '⌨', module: 'terminal', load: () => import('./Terminals') },
  { id: 'tickets', label: 'Tickets', icon: '☰', module: 'tickets', load: () => import('./Tickets') },
  { id: 'activity', label: 'Activity', icon: '≋', load: () => import('./Activity') },
  { id: 'settings', label: 'Settings', icon: '⚙', load: () => import('./Settings') },
];
