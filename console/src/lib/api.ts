// The console's two HTTP clients: GraphQL over POST /graphql and the JSON
// sign-in API under /console/api. Both send the console's marker header
// (the server refuses cookie-authenticated writes without it) and JSON.
import type { TypedDocumentString } from "../gql/generated";

export const CONSOLE_HEADER = { "X-Livedesk-Console": "1" } as const;

/** Who won a race: `extensions.holder` of a CONFLICT. */
export interface Holder {
  kind: string;
  id: string;
  name: string;
}

/** An error the API answered, with its machine-readable code. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly holder: Holder | null;
  readonly extra: Record<string, unknown>;
  constructor(code: string, message: string, status = 200, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.extra = extra;
    const holder = extra["holder"];
    this.holder = isHolder(holder) ? holder : null;
  }
}

function isHolder(value: unknown): value is Holder {
  return typeof value === "object" && value !== null && typeof (value as Holder).name === "string";
}

type UnauthenticatedHandler = () => void;
let onUnauthenticated: UnauthenticatedHandler = () => {};
/** What to do when the session ended (the router goes to sign-in). */
export function setUnauthenticatedHandler(handler: UnauthenticatedHandler): void {
  onUnauthenticated = handler;
}
export function unauthenticated(): void {
  onUnauthenticated();
}

interface GraphQLErrorBody {
  message: string;
  extensions?: Record<string, unknown>;
}

/** Runs a typed operation; throws ApiError on any error. */
export async function gql<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
): Promise<R> {
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { ...CONSOLE_HEADER, "Content-Type": "application/json", Accept: "application/graphql-response+json, application/json" },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new ApiError("NETWORK", "The server cannot be reached. Check your connection and try again.", 0);
  }
  if (response.status === 401) {
    unauthenticated();
    throw new ApiError("UNAUTHENTICATED", "Your session has ended. Sign in again.", 401);
  }
  let body: { data?: R | null; errors?: GraphQLErrorBody[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError("INTERNAL", `The server answered ${response.status}.`, response.status);
  }
  const first = body.errors?.[0];
  if (first) {
    const extensions = first.extensions ?? {};
    const code = typeof extensions["code"] === "string" ? extensions["code"] : "INTERNAL";
    if (code === "UNAUTHENTICATED") unauthenticated();
    throw new ApiError(code, first.message, response.status, extensions);
  }
  if (body.data == null) throw new ApiError("INTERNAL", "The server answered no data.", response.status);
  return body.data;
}

/** The JSON sign-in API: `{"error": {"code", "message", ...}}` on failure. */
export async function consoleApi<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/console/api${path}`, {
      method,
      credentials: "same-origin",
      headers: method === "GET" ? { ...CONSOLE_HEADER } : { ...CONSOLE_HEADER, "Content-Type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("NETWORK", "The server cannot be reached. Check your connection and try again.", 0);
  }
  if (response.status === 204) return undefined as T;
  let parsed: unknown = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } & Record<string, unknown> } | null)?.error;
    if (error && typeof error.code === "string") {
      throw new ApiError(error.code, error.message ?? error.code, response.status, error);
    }
    throw new ApiError(response.status === 401 ? "UNAUTHENTICATED" : "INTERNAL", `The server answered ${response.status}.`, response.status);
  }
  return parsed as T;
}

/** A message for the UI, naming the winner of a race when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
