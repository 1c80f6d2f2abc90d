import { describe, expect, it } from 'vitest';
import { SseParser } from '../../src/lib/sse';
import { backoff } from '../../src/lib/live';

describe('SseParser', () => {
  it('parses named events with ids across chunk boundaries', () => {
    const p = new SseParser();
    expect(p.feed('id: 7\nevent: agent.tok')).toEqual([]);
    expect(p.feed('en\ndata: {"a":1}\n')).toEqual([]);
    expect(p.feed('\n: keep-alive\n\ndata: x\ndata: y\n\n')).toEqual([
      { id: '7', event: 'agent.token', data: '{"a":1}' },
      { id: '7', event: 'message', data: 'x\ny' },
    ]);
    expect(p.lastId).toBe('7');
  });
  it('handles CRLF and a CR split from its LF', () => {
    const p = new SseParser();
    expect(p.feed('id: 1\r\ndata: a\r')).toEqual([]);
    expect(p.feed('\n\r\n')).toEqual([{ id: '1', event: 'message', data: 'a' }]);
  });
  it('ignores an event without data and keeps the id', () => {
    const p = new SseParser();
    expect(p.feed('id: 3\nevent: x\n\nid: 4\ndata:z\n\n')).toEqual([{ id: '4', event: 'message', data: 'z' }]);
  });
});

describe('backoff', () => {
  it('grows and is capped', () => {
    expect(backoff(0)).toBe(250);
    expect(backoff(1)).toBe(500);
    expect(backoff(10)).toBe(5000);
  });
});
