// Window math of the fixed-row-height virtual lists.

export interface WindowRange {
  start: number;
  end: number;
  offsetTop: number;
  totalHeight: number;
}

/** Which rows [start, end) to render for a scroll position, with overscan. */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, count: number, overscan = 6): WindowRange {
  const totalHeight = count * rowHeight;
  if (count === 0 || rowHeight <= 0) return { start: 0, end: 0, offsetTop: 0, totalHeight };
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, totalHeight - viewportHeight)));
  const first = Math.floor(top / rowHeight);
  const visible = Math.ceil(viewportHeight / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end, offsetTop: start * rowHeight, totalHeight };
}

/** The scrollTop that brings row `index` into view (or the current one). */
export function scrollToRow(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewportHeight) return top + rowHeight - viewportHeight;
  return scrollTop;
}

/** Whether to load the next page: the window is near the end. */
export function nearEnd(range: WindowRange, count: number, threshold = 20): boolean {
  return count - range.end < threshold;
}

/** Incremental transcripts: how many of the newest messages to render. */
export function transcriptWindow(total: number, shown: number): { from: number; hidden: number } {
  const from = Math.max(0, total - shown);
  return { from, hidden: from };
}
