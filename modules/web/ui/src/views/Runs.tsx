import { useState } from 'preact/hooks';
import { Empty, ErrorBox, Field, useLive } from '../components';
import { get, post, qs } from '../lib/api';
import { navigate } from '../lib/router';
import { currentProject } from '../lib/store';
import { RunTable, type Run } from './Overview';
import RunView from './RunView';
import type { ViewProps } from './registry';
import type { Agent } from '../lib/types';


export default function Runs({ route }: ViewProps) {
  if (route.path[1]) return <RunView id={route.path[1]} tab={route.query.get('tab') ?? 'events'} />;
  return <RunList />;
}

function RunList() {
  const project = currentProject();
  const pid = project?.id ?? '';
  const runs = useLive(
    () => get<Run[] | { runs: Run[] }>(`/api/runs${qs({ project_id: pid })}`).then((r) => (Array.isArray(r) ? r : r.runs)),
    [pid],
    (e) => e.event_type.startsWith('run.'),
  );
  return (
    <div class="stack">
      <h1>Runs</h1>
      {project && <NewRun projectId={pid} />}
      <section class="card">
        <h2>All runs</h2>
        <ErrorBox error={runs.error} />
        {runs.data && runs.data.length === 0 && <Empty title="No runs yet">Start one above.</Empty>}
        {runs.data && runs.data.length > 0 && <RunTable runs={runs.data} />}
      </section>
    </div>
  );
}

function NewRun({ projectId }: { projectId: string }) {
  const agents = useLive(
    () => get<Agent[] | { agents: Agent[] }>('/api/agents').then((r) => (Array.isArray(r) ? r : r.agents)),
    [],
    (e) => e.event_type.startsWith('agent.') && !e.event_type.startsWith('agent.token'),
  );
  const [agentId, setAgentId] = useState('');
  const [task, setTask] = useState('');
  const [error, setError] = useState<unknown>(null);
  const list = agents.data ?? [];
  const chosen = agentId || list[0]?.id || '';
  return (
    <section class="card">
      <h2>Start a run</h2>
      <ErrorBox error={agents.error || error} />
      {agents.data && list.length === 0 && (
        <Empty title="No agents defined">
          Add one in <a href="#/settings">Settings</a> — the <code>mock</code> backend needs no CLI.
        </Empty>
      )}
      {list.length > 0 && (
        <form
          class="stack"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              const run = await post<Run>('/api/runs', { agent_id: chosen, task, project_id: projectId });
              setTask('');
              navigate(`/runs/${run.id}`);
            } catch (err) {
              setError(err);
            }
          }}
        >
          <Field label="Agent">
            <select value={chosen} onChange={(e) => setAgentId((e.target as HTMLSelectElement).value)}>
              {list.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} ({a.cli_name ?? 'agent'})
                </option>
              ))}
            </select>
          </Field>
          <Field label="Task">
            <textarea rows={4} required value={task} onInput={(e) => setTask((e.target as HTMLTextAreaElement).value)} />
          </Field>
          <div>
            <button class="btn primary" type="submit">
              Start run
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
