import { describe, expect, it } from 'vitest';
import { visibleWindow } from '../../src/lib/virtual';

describe('visibleWindow', () => {
  it('renders only the rows in view plus overscan for 10,000 rows', () => {
    const w = visibleWindow(10000, 50, 250000, 800, 8);
    expect(w.totalHeight).toBe(500000);
    expect(w.start).toBe(5000 - 8);
    expect(w.end).toBe(5000 + 16 + 8 + 1);
    expect(w.offsetTop).toBe(w.start * 50);
    expect(w.end - w.start).toBeLessThan(60);
  });
  it('clamps at both ends', () => {
    expect(visibleWindow(10, 50, -100, 800)).toMatchObject({ start: 0, end: 10 });
    expect(visibleWindow(10, 50, 99999, 800)).toMatchObject({ start: 1, end: 10 });
    expect(visibleWindow(0, 50, 0, 800)).toEqual({ start: 0, end: 0, offsetTop: 0, totalHeight: 0 });
  });
});
