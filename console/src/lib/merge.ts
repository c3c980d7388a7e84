// Merging live pushes into lists. A list push is {snapshot, upserted,
// removed}; a snapshot is the head of the list (the first `limit` rows in
// the server's order) as it is now. Nothing may be lost or duplicated,
// whatever the order of reconnects, snapshots and pages.

export interface Keyed {
  id: string;
}

export interface ListPush<T> {
  snapshot: boolean;
  upserted: readonly T[];
  removed: readonly string[];
}

/**
 * A list kept by id, and its rows in order, kept between pushes: at 50
 * pushes a second over 10,000 rows, re-sorting everything every frame cost
 * half the main thread. The state is changed in place; the arrays
 * `sortedRows` returns are never changed after.
 */
export interface ListState<T> {
  readonly rows: Map<string, T>;
  /** The rows as last sorted by `order`; `null` before the first sort. */
  sorted: readonly T[] | null;
  order: Compare<T> | null;
  /** Ids added, changed or removed since `sorted`. */
  readonly changed: Set<string>;
}

export type Compare<T> = (a: T, b: T) => number;

export function emptyList<T>(): ListState<T> {
  return { rows: new Map(), sorted: null, order: null, changed: new Set() };
}

function put<T extends Keyed>(state: ListState<T>, row: T): void {
  state.rows.set(row.id, row);
  state.changed.add(row.id);
}

function drop<T>(state: ListState<T>, id: string): void {
  if (state.rows.delete(id)) state.changed.add(id);
}

/**
 * Applies one push. A snapshot replaces the rows inside its window (the
 * rows that sort at or before its last row, or every row when it holds
 * fewer than `limit`, i.e. the whole list); rows after the window (loaded
 * by paging) are kept.
 */
export function applyListPush<T extends Keyed>(state: ListState<T>, push: ListPush<T>, compare: Compare<T>, limit: number): ListState<T> {
  if (push.snapshot) {
    const complete = push.upserted.length < limit;
    const last = push.upserted.reduce<T | null>((worst, row) => (worst === null || compare(row, worst) > 0 ? row : worst), null);
    for (const [id, row] of state.rows) {
      if (complete || last === null || compare(row, last) <= 0) drop(state, id);
    }
  }
  for (const row of push.upserted) put(state, row);
  for (const id of push.removed) drop(state, id);
  return state;
}

/** Adds a page loaded with the query (older rows); live rows win over it. */
export function addPage<T extends Keyed>(state: ListState<T>, page: readonly T[], isNewer: (current: T, incoming: T) => boolean): ListState<T> {
  for (const row of page) {
    const current = state.rows.get(row.id);
    if (!current || isNewer(row, current)) put(state, row);
  }
  return state;
}

/** Above this many changes since the last sort, sorting afresh is cheaper. */
const RESORT_AFTER = 512;

/**
 * The rows in `compare`'s order: the last order with the changed rows
 * taken out and put back in their place (binary search), or a full sort
 * after many changes or in another order. A new array whenever anything
 * changed, the same one otherwise.
 */
export function sortedRows<T extends Keyed>(state: ListState<T>, compare: Compare<T>): readonly T[] {
  const { sorted, changed, rows } = state;
  if (sorted && state.order === compare && changed.size <= RESORT_AFTER) {
    if (changed.size === 0) return sorted;
    const next = sorted.filter((row) => !changed.has(row.id));
    for (const id of changed) {
      const row = rows.get(id);
      if (row) next.splice(lowerBound(next, row, compare), 0, row);
    }
    state.sorted = next;
  } else {
    state.sorted = [...rows.values()].sort(compare);
    state.order = compare;
  }
  changed.clear();
  return state.sorted;
}

function lowerBound<T>(rows: readonly T[], row: T, compare: Compare<T>): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compare(rows[mid]!, row) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Decimal event positions compare as numbers of any length. */
export function comparePositions(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Positioned extends Keyed {
  position: string;
}

/** Merges messages by id, ordered by log position (the transcript order). */
export function mergeMessages<T extends Positioned>(current: readonly T[], incoming: readonly T[]): T[] {
  if (incoming.length === 0) return current as T[];
  const byId = new Map<string, T>();
  for (const m of current) byId.set(m.id, m);
  let appendOnly = true;
  let lastPosition = current.length ? current[current.length - 1]!.position : null;
  for (const m of incoming) {
    if (byId.has(m.id) || (lastPosition !== null && comparePositions(m.position, lastPosition) <= 0)) appendOnly = false;
    byId.set(m.id, m);
    lastPosition = m.position;
  }
  if (appendOnly) return [...current, ...incoming];
  return [...byId.values()].sort((a, b) => comparePositions(a.position, b.position));
}

/** Inbox orders, as the server sorts (projections/src/read.rs). */
export interface InboxRow extends Keyed {
  updatedAt: string;
  slaDueAt: string | null;
}

const byIdDesc = (a: Keyed, b: Keyed) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

// Sorting thousands of rows 50 times a second must not parse dates in the
// comparator: each row's times are parsed once (rows are immutable; an
// upsert brings a new object).
const parsed = new WeakMap<object, Map<string, number>>();
function time(row: object, field: string, iso: string | null): number {
  if (iso === null) return Number.NaN;
  let fields = parsed.get(row);
  if (!fields) {
    fields = new Map();
    parsed.set(row, fields);
  }
  let t = fields.get(field);
  if (t === undefined) {
    t = Date.parse(iso);
    fields.set(field, t);
  }
  return t;
}

export function compareNewest(a: InboxRow, b: InboxRow): number {
  const ta = time(a, "updatedAt", a.updatedAt);
  const tb = time(b, "updatedAt", b.updatedAt);
  return ta !== tb ? tb - ta : byIdDesc(a, b);
}

export function compareSla(a: InboxRow, b: InboxRow): number {
  if (a.slaDueAt === null && b.slaDueAt === null) return -byIdDesc(a, b);
  if (a.slaDueAt === null) return 1;
  if (b.slaDueAt === null) return -1;
  const ta = time(a, "slaDueAt", a.slaDueAt);
  const tb = time(b, "slaDueAt", b.slaDueAt);
  return ta !== tb ? ta - tb : -byIdDesc(a, b);
}

export interface SessionRow extends Keyed {
  startedAt: string;
}

export function compareSessions(a: SessionRow, b: SessionRow): number {
  const ta = time(a, "startedAt", a.startedAt);
  const tb = time(b, "startedAt", b.startedAt);
  return ta !== tb ? tb - ta : byIdDesc(a, b);
}

/**
 * Runs `fn` once per animation frame however often it is asked for: a
 * burst of pushes becomes one sort and one render.
 */
export function frameBatcher(fn: () => void, schedule: (cb: () => void) => void = defaultSchedule): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    schedule(() => {
      pending = false;
      fn();
    });
  };
}

function defaultSchedule(cb: () => void): void {
  if (typeof requestAnimationFrame === "function" && typeof document !== "undefined" && document.visibilityState === "visible") requestAnimationFrame(cb);
  else setTimeout(cb, 16);
}
