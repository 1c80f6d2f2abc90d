// Which rows of a fixed-row-height list are in view (plus overscan), so a list of 10,000
// renders a few dozen nodes.
export interface Window {
  start: number;
  end: number; // exclusive
  offsetTop: number;
  totalHeight: number;
}

export function visibleWindow(count: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 8): Window {
  const totalHeight = count * rowHeight;
  if (count === 0 || rowHeight <= 0) return { start: 0, end: 0, offsetTop: 0, totalHeight: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, Math.min(count - 1, first) - overscan);
  const end = Math.min(count, first + Math.ceil(Math.max(viewport, rowHeight) / rowHeight) + overscan + 1);
  return { start, end, offsetTop: start * rowHeight, totalHeight };
}
