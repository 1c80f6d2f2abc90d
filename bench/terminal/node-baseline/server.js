// Baseline for bench/terminal: a node-pty + ws terminal server equivalent to OpenKit's
// terminal-manager (same spawn options, raw-output fallback restore buffer of 80,000
// characters, JSON resize frames, {type:"exit"} frame). It skips OpenKit's @xterm/headless
// screen serialisation after every write, which only makes Node faster here.
//
//   POST /spawn {command, args, cwd, cols, rows, env}  → {id, pid}
//   DELETE /sessions/:id                               → {success:true}
//   WS   /ws/:id                                       restore frame, then PTY output
//
// Prints "PORT=<n>" once listening on 127.0.0.1 (port 0 = ephemeral).
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');
const pty = require('node-pty');

const sessions = new Map();
let counter = 0;
const RESTORE_CHARS = 80000;

function spawnSession(b) {
  const id = 'term-' + (++counter);
  const p = pty.spawn(b.command || process.env.SHELL || '/bin/sh', Array.isArray(b.args) ? b.args : [], {
    name: 'xterm-256color',
    cols: b.cols || 80,
    rows: b.rows || 24,
    cwd: b.cwd || process.cwd(),
    env: { ...process.env, ...(b.env || {}), TERM: 'xterm-256color', COLORTERM: 'truecolor' },
  });
  const s = { pty: p, clients: new Set(), buffer: '' };
  p.onData((d) => {
    s.buffer += d;
    if (s.buffer.length > RESTORE_CHARS) s.buffer = s.buffer.slice(-RESTORE_CHARS);
    for (const ws of s.clients) ws.send(d);
  });
  p.onExit(({ exitCode }) => {
    for (const ws of s.clients) {
      ws.send(JSON.stringify({ type: 'exit', exitCode }));
      ws.close();
    }
    sessions.delete(id);
  });
  sessions.set(id, s);
  return { id, pid: p.pid };
}

const server = http.createServer((req, res) => {
  const json = (status, obj) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  };
  if (req.method === 'POST' && req.url === '/spawn') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        json(200, spawnSession(JSON.parse(body || '{}')));
      } catch (e) {
        json(400, { success: false, error: String(e && e.message) });
      }
    });
    return;
  }
  const del = req.method === 'DELETE' && req.url.match(/^\/sessions\/([^/?]+)$/);
  if (del) {
    const s = sessions.get(del[1]);
    if (!s) return json(404, { success: false, error: 'Session not found' });
    s.pty.kill();
    sessions.delete(del[1]);
    return json(200, { success: true });
  }
  json(404, { success: false, error: 'Not found' });
});

const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const m = req.url.match(/^\/ws\/([^/?]+)/);
  const s = m && sessions.get(m[1]);
  if (!s) {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    s.clients.add(ws);
    ws.send(JSON.stringify({ type: 'restore', payload: s.buffer }));
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      if (!isBinary && text.startsWith('{')) {
        try {
          const msg = JSON.parse(text);
          if (msg && msg.type === 'resize') {
            s.pty.resize(msg.cols, msg.rows);
            return;
          }
        } catch (_) {
          // not JSON: terminal input
        }
      }
      s.pty.write(text);
    });
    ws.on('close', () => s.clients.delete(ws));
  });
});

const port = Number(process.argv[2] || 0);
server.listen(port, '127.0.0.1', () => {
  process.stdout.write('PORT=' + server.address().port + '\n');
});
const shutdown = () => {
  for (const s of sessions.values()) s.pty.kill();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
