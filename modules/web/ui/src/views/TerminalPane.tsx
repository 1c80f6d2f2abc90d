// xterm.js attached to a terminal WebSocket: a restore frame first (the scrollback), then raw
// output as binary frames; input goes out as binary frames, resizes as JSON text frames.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { backoff, wsUrl } from '../lib/live';

const theme = () => {
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  return dark
    ? { background: '#0f1115', foreground: '#d8dee9', cursor: '#a5b4fc', selectionBackground: '#3b4252' }
    : { background: '#fbfbfd', foreground: '#1f2430', cursor: '#4f46e5', selectionBackground: '#c7d2fe' };
};

export function TerminalPane({ url, label }: { url: string; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'connecting' | 'open' | 'exited' | 'closed'>('connecting');
  const [detail, setDetail] = useState('');
  useEffect(() => {
    const term = new Terminal({
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      cursorBlink: true,
      scrollback: 5000,
      theme: theme(),
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current!);
    try {
      fit.fit();
    } catch {
      // not laid out yet
    }
    let ws: WebSocket | null = null;
    let done = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const enc = new TextEncoder();
    const sendResize = () => {
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
    };
    const connect = () => {
      const sock = new WebSocket(wsUrl(url));
      ws = sock;
      sock.binaryType = 'arraybuffer';
      sock.onopen = () => {
        attempt = 0;
        setState('open');
        sendResize();
      };
      sock.onmessage = (m) => {
        if (typeof m.data !== 'string') return term.write(new Uint8Array(m.data as ArrayBuffer));
        let msg: { type?: string; payload?: string; exitCode?: number };
        try {
          msg = JSON.parse(m.data);
        } catch {
          return term.write(m.data);
        }
        if (msg.type === 'restore') {
          term.reset();
          term.write(msg.payload ?? '');
        } else if (msg.type === 'exit') {
          done = true;
          setState('exited');
          setDetail(`exit code ${msg.exitCode}`);
          term.write(`\r\n\x1b[2m[process exited with code ${msg.exitCode}]\x1b[0m\r\n`);
        }
      };
      sock.onclose = (ev) => {
        if (done) return;
        // 1008/44xx: the session is gone or refused; retrying will not bring it back.
        if (ev.code === 1008 || (ev.code >= 4400 && ev.code < 4500)) {
          done = true;
          setState('closed');
          setDetail(ev.reason || `closed (${ev.code})`);
          return;
        }
        setState('connecting');
        timer = setTimeout(connect, backoff(attempt++));
      };
    };
    connect();
    const onData = term.onData((d) => {
      if (ws?.readyState === WebSocket.OPEN) ws.send(enc.encode(d));
    });
    const ro = new ResizeObserver(() => {
      try {
        fit.fit();
      } catch {
        return;
      }
    });
    ro.observe(host.current!);
    const onResize = term.onResize(sendResize);
    term.focus();
    return () => {
      done = true;
      if (timer) clearTimeout(timer);
      ro.disconnect();
      onData.dispose();
      onResize.dispose();
      ws?.close();
      term.dispose();
    };
  }, [url]);
  return (
    <div class="term-wrap">
      <div class="term-status small" role="status">
        <span class={`dot ${state === 'open' ? 'ok' : 'off'}`} aria-hidden="true" /> {label} — {state}
        {detail && ` (${detail})`}
      </div>
      <div class="term" ref={host} aria-label={`Terminal ${label}`} data-state={state} />
    </div>
  );
}
