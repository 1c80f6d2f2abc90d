import { useEffect, useState } from 'preact/hooks';
import { Action, Badge, Empty, ErrorBox, Field, useLive } from '../components';
import { del, get, patch, post, qs } from '../lib/api';
import { currentProject, hasModule, useStore } from '../lib/store';
import type { ViewProps } from './registry';
import type { Agent } from '../lib/types';


// Settings sections; integrations, MCP servers and skills join here as their modules land
// ({id: 'mcp', title: 'MCP servers', module: 'mcp', render: () => <McpServers />}).
const sections = [
  { id: 'project', title: 'Project configuration', module: 'config', render: () => <ProjectConfig /> },
  { id: 'agents', title: 'Agents', module: 'agents', render: () => <Agents /> },
  { id: 'modules', title: 'Modules', render: () => <Modules /> },
];

export default function Settings(_: ViewProps) {
  useStore();
  return (
    <div class="stack">
      <h1>Settings</h1>
      {sections
        .filter((s) => !s.module || hasModule(s.module))
        .map((s) => (
          <section class="card" key={s.id} aria-labelledby={`s-${s.id}`}>
            <h2 id={`s-${s.id}`}>{s.title}</h2>
            {s.render()}
          </section>
        ))}
    </div>
  );
}

function ProjectConfig() {
  const project = currentProject();
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState('');
  const url = `/api/config${qs({ project: project?.id })}`;
  useEffect(() => {
    if (!project) return;
    get<Record<string, unknown>>(url).then((c) => {
      const cfg = (c && typeof c === 'object' && 'config' in c ? (c as { config: unknown }).config : c) as Record<string, unknown>;
      setText(JSON.stringify(cfg, null, 2));
      setError(null);
    }, setError);
  }, [url]);
  if (!project) return <Empty title="No project" />;
  return (
    <div class="stack">
      <p class="muted small">
        Stored in <span class="mono">{project.local_path}/.atelier/config.json</span>: start command, ports, environment mapping, dev-server
        options.
      </p>
      <textarea class="mono code-edit" rows={14} aria-label="Project configuration (JSON)" value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <ErrorBox error={error} />
      {saved && (
        <div class="banner ok" role="status">
          {saved}
        </div>
      )}
      <div>
        <Action
          label="Save configuration"
          kind="primary"
          run={async () => {
            let body: unknown;
            try {
              body = JSON.parse(text);
            } catch (e) {
              throw new Error(`Not valid JSON: ${(e as Error).message}`);
            }
            await patch(url, body);
            setError(null);
            setSaved('Saved.');
          }}
          onError={(e) => (setSaved(''), setError(e))}
        />
      </div>
    </div>
  );
}

function Agents() {
  const agents = useLive(
    () => get<Agent[] | { agents: Agent[] }>('/api/agents').then((r) => (Array.isArray(r) ? r : r.agents)),
    [],
    () => false,
  );
  const [name, setName] = useState('');
  const [cli, setCli] = useState('claude-code');
  const [error, setError] = useState<unknown>(null);
  return (
    <div class="stack">
      <ErrorBox error={agents.error || error} />
      {agents.data && agents.data.length === 0 && <Empty title="No agents yet" />}
      {agents.data && agents.data.length > 0 && (
        <table class="table" aria-label="Agents">
          <thead>
            <tr>
              <th>Name</th>
              <th>Backend</th>
              <th>Enabled</th>
              <th class="right" />
            </tr>
          </thead>
          <tbody>
            {agents.data.map((a) => (
              <tr key={a.id}>
                <td>
                  <strong>{a.name}</strong> <span class="muted mono small">{a.slug}</span>
                </td>
                <td class="mono">{a.cli_name}</td>
                <td>
                  <Badge value={a.is_enabled === false ? 'disabled' : 'enabled'} />
                </td>
                <td class="right">
                  <Action label="Delete" kind="danger" run={() => del(`/api/agents/${a.id}`).then(agents.reload)} onError={setError} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        class="row wrap"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await post('/api/agents', { name, cli_name: cli });
            setName('');
            setError(null);
            agents.reload();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <Field label="Agent name">
          <input required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label="Backend">
          <select value={cli} onChange={(e) => setCli((e.target as HTMLSelectElement).value)}>
            {['claude-code', 'codex', 'gemini', 'opencode', 'mock'].map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </Field>
        <button class="btn primary" type="submit">
          Add agent
        </button>
      </form>
    </div>
  );
}

function Modules() {
  const store = useStore();
  return (
    <table class="table" aria-label="Modules">
      <thead>
        <tr>
          <th>Module</th>
          <th>Version</th>
          <th>State</th>
          <th>Description</th>
        </tr>
      </thead>
      <tbody>
        {store.modules.map((m) => (
          <tr key={m.id}>
            <td class="mono">{m.id}</td>
            <td class="mono small">{m.version}</td>
            <td>
              <Badge value={m.state} />
            </td>
            <td class="small">{m.error ? <span class="del">{m.error}</span> : m.description}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
