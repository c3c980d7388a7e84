// CSV downloads: the reports need the session cookie AND the console's
// header, which a plain <a href> cannot send. Fetch, then hand the bytes
// to the browser as a Blob URL.
import { ApiError, CONSOLE_HEADER, unauthenticated } from "./api";

/** "transcript-….csv" from the server's Content-Disposition, else `fallback`. */
export function fileName(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (star?.[1]) {
    try {
      return sanitize(decodeURIComponent(star[1].trim()), fallback);
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain?.[1] ? sanitize(plain[1].trim(), fallback) : fallback;
}

function sanitize(name: string, fallback: string): string {
  const clean = name.replace(/[/\\]/g, "_").replace(/[\u0000-\u001f]/g, "");
  return clean || fallback;
}

/** Downloads `path` (same origin) as a file; throws ApiError on refusal. */
export async function download(path: string, fallbackName: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: "same-origin", headers: { ...CONSOLE_HEADER } });
  } catch {
    throw new ApiError("NETWORK", "The server cannot be reached. Check your connection and try again.", 0);
  }
  if (!response.ok) {
    let code = response.status === 401 ? "UNAUTHENTICATED" : "INTERNAL";
    let message = `The server answered ${response.status}.`;
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      if (body.error?.code) code = body.error.code;
      if (body.error?.message) message = body.error.message;
    } catch {
      /* not JSON */
    }
    if (code === "UNAUTHENTICATED") unauthenticated();
    throw new ApiError(code, message, response.status);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName(response.headers.get("Content-Disposition"), fallbackName);
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
