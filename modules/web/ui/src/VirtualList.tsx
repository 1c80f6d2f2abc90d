import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { visibleWindow } from './lib/virtual';

// Renders only the rows in view; asks for more when the end comes near.
export function VirtualList<T>(props: {
  items: T[];
  rowHeight: number;
  row: (item: T, index: number) => ComponentChildren;
  onNearEnd?: () => void;
  label: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = ref.current!;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const w = visibleWindow(props.items.length, props.rowHeight, scrollTop, height);
  useEffect(() => {
    if (props.onNearEnd && w.end >= props.items.length - 20) props.onNearEnd();
  }, [w.end, props.items.length]);
  return (
    <div
      class="vlist"
      ref={ref}
      role="list"
      aria-label={props.label}
      aria-rowcount={props.items.length}
      tabIndex={0}
      onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}
    >
      <div style={{ height: `${w.totalHeight}px`, position: 'relative' }}>
        <div style={{ transform: `translateY(${w.offsetTop}px)` }}>
          {props.items.slice(w.start, w.end).map((item, i) => (
            <div role="listitem" class="vrow" style={{ height: `${props.rowHeight}px` }} key={w.start + i}>
              {props.row(item, w.start + i)}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
