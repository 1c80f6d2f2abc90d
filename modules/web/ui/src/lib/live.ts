// Live streams that survive server restarts. The bus WebSocket (/ws, Kombuse protocol)
// re-subscribes after a reconnect and tells listeners to re-read their state (the socket has no
// cursor); SSE streams resume through EventSource's Last-Event-ID.

export interface BusEvent {
  id: number;
  event_type: string;
  project_id?: string | null;
  payload?: Record<string, unknown>;
  created_at?: string;
  [k: string]: unknown;
}

type Listener = (e: BusEvent) => void;
type StateListener = (connected: boolean) => void;

export function backoff(attempt: number): number {
  return Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
}

export class Bus {
  private ws: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private resyncs = new Set<() => void>();
  private states = new Set<StateListener>();
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  connected = false;
  private everConnected = false;

  constructor(private url: string) {}

  start() {
    this.closed = false;
    this.open();
  }

  stop() {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
  }

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  // Called after a reconnect: events were missed, state must be read again.
  onResync(fn: () => void): () => void {
    this.resyncs.add(fn);
    return () => this.resyncs.delete(fn);
  }
  onState(fn: StateListener): () => void {
    this.states.add(fn);
    return () => this.states.delete(fn);
  }

  private setConnected(c: boolean) {
    if (this.connected === c) return;
    this.connected = c;
    for (const s of this.states) s(c);
  }

  private open() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'] }));
    };
    ws.onmessage = (m) => {
      let msg: { type?: string; event?: BusEvent };
      try {
        msg = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (msg.type === 'subscribed') {
        this.setConnected(true);
        if (this.everConnected) for (const r of this.resyncs) r();
        this.everConnected = true;
      } else if (msg.type === 'event' && msg.event) {
        for (const l of this.listeners) l(msg.event);
      }
    };
    ws.onclose = () => {
      this.setConnected(false);
      if (this.closed) return;
      this.timer = setTimeout(() => this.open(), backoff(this.attempt++));
    };
    ws.onerror = () => ws.close();
  }
}

export function wsUrl(path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

let shared: Bus | null = null;
export function bus(): Bus {
  if (!shared) {
    shared = new Bus(wsUrl('/ws'));
    shared.start();
  }
  return shared;
}
