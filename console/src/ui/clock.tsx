// One shared clock for every ticking label (time active, "5m ago").
import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";

export const now = signal(Date.now());
let timer: ReturnType<typeof setInterval> | null = null;
let users = 0;

/** The current time, re-rendering every `everyMs` (the shared 1 s tick). */
export function useNow(everyMs = 1000): number {
  useEffect(() => {
    users++;
    timer ??= setInterval(() => (now.value = Date.now()), 1000);
    return () => {
      users--;
      if (users === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    };
  }, []);
  const t = now.value;
  return everyMs <= 1000 ? t : Math.floor(t / everyMs) * everyMs;
}
