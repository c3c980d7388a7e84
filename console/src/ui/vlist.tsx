// A fixed-row-height virtual list: renders only the rows in view.
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { nearEnd, scrollToRow, visibleRange } from "../lib/vlist";

interface Props<T> {
  items: readonly T[];
  rowHeight: number;
  label: string;
  row: (item: T, index: number) => ComponentChildren;
  onNearEnd?: () => void;
  /** Keeps this row in view (keyboard moves). */
  activeIndex?: number;
  class?: string;
  /** "rowgroup" inside a table (rows are divs); a list of <li> by default. */
  role?: string;
}

export function VirtualList<T>(props: Props<T>) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const el = ref.current;
    if (!el || props.activeIndex === undefined || props.activeIndex < 0) return;
    const next = scrollToRow(props.activeIndex, el.scrollTop, el.clientHeight, props.rowHeight);
    if (next !== el.scrollTop) el.scrollTop = next;
  }, [props.activeIndex, props.rowHeight]);

  const range = visibleRange(scrollTop, height, props.rowHeight, props.items.length);
  const wantMore = nearEnd(range, props.items.length);
  useEffect(() => {
    if (wantMore) props.onNearEnd?.();
  }, [wantMore, props.items.length]);

  const rows: ComponentChildren[] = [];
  for (let i = range.start; i < range.end; i++) rows.push(props.row(props.items[i]!, i));
  return (
    <div ref={ref} class={`vlist ${props.class ?? ""}`} onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}>
      <div class="vlist-spacer" style={{ height: `${range.totalHeight}px` }}>
        {props.role === "rowgroup" ? (
          <div class="vlist-rows" role="rowgroup" aria-label={props.label} style={{ transform: `translateY(${range.offsetTop}px)` }}>
            {rows}
          </div>
        ) : (
          <ul class="vlist-rows" aria-label={props.label} style={{ transform: `translateY(${range.offsetTop}px)` }}>
            {rows}
          </ul>
        )}
      </div>
    </div>
  );
}
