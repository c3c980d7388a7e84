// In-page toasts (notifications without permission, confirmations).
import { signal } from "@preact/signals";

export interface Toast {
  id: number;
  title: string;
  body?: string;
  tone: "info" | "error" | "success";
  action?: { label: string; run: () => void };
}

export const toasts = signal<Toast[]>([]);
let nextId = 1;

export function toast(t: Omit<Toast, "id">, ttlMs = 6000): void {
  const id = nextId++;
  toasts.value = [...toasts.value.slice(-3), { ...t, id }];
  setTimeout(() => dismiss(id), ttlMs);
}

export function dismiss(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id);
}

export function Toasts() {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.value.map((t) => (
        <div class={`toast toast-${t.tone}`} key={t.id} data-testid="toast">
          <div class="toast-text">
            <strong>{t.title}</strong>
            {t.body ? <span>{t.body}</span> : null}
          </div>
          {t.action ? (
            <button
              type="button"
              class="btn btn-small"
              onClick={() => {
                t.action!.run();
                dismiss(t.id);
              }}
            >
              {t.action.label}
            </button>
          ) : null}
          <button type="button" class="icon-btn" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
