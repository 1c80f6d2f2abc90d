// Server-Sent Events over fetch: unlike EventSource it delivers every event name without
// knowing the names in advance, and it resumes after a restart from the last id it saw.
import { backoff } from './live';

export interface SseMessage {
  id: string;
  event: string;
  data: string;
}

// Incremental parser (the text/event-stream grammar): feed chunks, get complete messages.
export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private id = '';
  lastId = '';

  feed(chunk: string): SseMessage[] {
    this.buf += chunk;
    const out: SseMessage[] = [];
    let nl: number;
    while ((nl = this.buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buf.slice(0, nl);
      const sepLen = this.buf.startsWith('\r\n', nl) ? 2 : 1;
      // A lone \r at the end of a chunk may be the first half of \r\n: wait for more.
      if (sepLen === 1 && this.buf[nl] === '\r' && nl === this.buf.length - 1) break;
      this.buf = this.buf.slice(nl + sepLen);
      if (line === '') {
        if (this.data.length) {
          if (this.id) this.lastId = this.id;
          out.push({ id: this.lastId, event: this.event || 'message', data: this.data.join('\n') });
        }
        this.data = [];
        this.event = '';
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id' && !value.includes('\0')) this.id = value;
    }
    return out;
  }
}

export interface StreamHandle {
  close(): void;
}

export function streamSse(
  url: string,
  onMessage: (m: SseMessage) => void,
  opts: {
    cursorParam?: string;
    onState?: (open: boolean) => void;
    onError?: (status: number, body: string) => void;
    // Asked when the server ends the stream: false once nothing more will come (a finished run).
    reconnect?: () => boolean;
  } = {},
): StreamHandle {
  let closed = false;
  let attempt = 0;
  let lastId = '';
  let controller: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = async () => {
    controller = new AbortController();
    const parser = new SseParser();
    let u = url;
    if (lastId && opts.cursorParam) u += `${url.includes('?') ? '&' : '?'}${opts.cursorParam}=${encodeURIComponent(lastId)}`;
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (lastId) headers['Last-Event-ID'] = lastId;
      const res = await fetch(u, { headers, signal: controller.signal, cache: 'no-store' });
      if (!res.ok || !res.body) {
        const body = await res.text().catch(() => '');
        opts.onError?.(res.status, body);
        // A 4xx will not get better by retrying (unknown run, bad cursor).
        if (res.status >= 400 && res.status < 500) return;
        throw new Error(`HTTP ${res.status}`);
      }
      attempt = 0;
      opts.onState?.(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const m of parser.feed(value)) {
          lastId = m.id || lastId;
          onMessage(m);
        }
      }
    } catch {
      // network error or server gone: retry below
    }
    opts.onState?.(false);
    if (!closed && (opts.reconnect?.() ?? true)) timer = setTimeout(run, backoff(attempt++));
  };
  run();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      controller?.abort();
    },
  };
}
