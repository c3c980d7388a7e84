// The ringtone, made with WebAudio (no audio file). Browsers only let a
// page play sound after a user gesture: until the first click or key the
// shell shows "Click to enable sound".
import { signal } from "@preact/signals";

export const soundEnabled = signal(false);
let context: AudioContext | null = null;

function enable(): void {
  if (soundEnabled.value) return;
  try {
    context ??= new AudioContext();
    void context.resume().then(() => {
      soundEnabled.value = context?.state === "running";
    });
  } catch {
    soundEnabled.value = false;
  }
}

if (typeof window !== "undefined") {
  const onGesture = () => {
    enable();
    if (soundEnabled.value) {
      window.removeEventListener("pointerdown", onGesture, true);
      window.removeEventListener("keydown", onGesture, true);
    }
  };
  window.addEventListener("pointerdown", onGesture, true);
  window.addEventListener("keydown", onGesture, true);
}

export function enableSound(): void {
  enable();
}

/** Two soft notes; `strong` (a new conversation) adds a third. */
export function ring(strong: boolean): void {
  if (!context || context.state !== "running") return;
  const now = context.currentTime;
  const notes = strong ? [880, 1174.7, 1318.5] : [880, 1174.7];
  notes.forEach((freq, i) => {
    const osc = context!.createOscillator();
    const gain = context!.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    const t = now + i * 0.14;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.18, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.32);
    osc.connect(gain).connect(context!.destination);
    osc.start(t);
    osc.stop(t + 0.34);
  });
}
