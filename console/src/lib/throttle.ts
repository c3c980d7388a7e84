// `throttled(run, ms)`: calls `run` at once, then at most once per `ms`;
// calls in between are folded into one trailing call, and a call while
// `run` is still running waits for it (never two at once).
export function throttled(run: () => Promise<void>, ms: number, now: () => number = Date.now): () => void {
  let running = false;
  let pending = false;
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fire = async () => {
    timer = undefined;
    running = true;
    pending = false;
    last = now();
    try {
      await run();
    } finally {
      running = false;
      if (pending) schedule();
    }
  };
  const schedule = () => {
    pending = true;
    if (running || timer !== undefined) return;
    const wait = Math.max(0, last + ms - now());
    timer = setTimeout(() => void fire(), wait);
  };
  return schedule;
}
