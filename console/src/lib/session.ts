// The signed-in agent: the sign-in API's session, and the agent's profile
// from GraphQL (`me`).
import { signal, computed } from "@preact/signals";
import { consoleApi, ApiError, gql, setUnauthenticatedHandler } from "./api";
import { MeDocument, type AgentFieldsFragment } from "../gql/generated";
import { shutdown } from "./ws";
import { currentTarget, navigate, route } from "./router";

export type ConsoleRole = "admin" | "supervisor" | "agent" | "analyst";

export interface ConsoleSession {
  agent: { id: string; displayName: string; email: string };
  site: { id: string; name: string };
  role: ConsoleRole;
  expiresAt: string;
}

/** undefined while loading, null when signed out. */
export const session = signal<ConsoleSession | null | undefined>(undefined);
export const profile = signal<AgentFieldsFragment | null>(null);
export const siteId = computed(() => session.value?.site.id ?? "");
export const isStaff = computed(() => session.value?.role === "admin" || session.value?.role === "supervisor");

const PUBLIC = ["/signin", "/invite", "/setup"];

export function isPublicPath(path: string): boolean {
  return PUBLIC.some((p) => path === p || path.startsWith(`${p}/`));
}

setUnauthenticatedHandler(() => {
  if (session.value === null && isPublicPath(route.value.path)) return;
  const next = isPublicPath(route.value.path) ? "" : currentTarget();
  session.value = null;
  profile.value = null;
  shutdown();
  if (!isPublicPath(route.value.path)) navigate(`/signin?reason=ended${next ? `&next=${encodeURIComponent(next)}` : ""}`, true);
});

function normalise(body: ConsoleSession): ConsoleSession {
  return { ...body, role: String(body.role).toLowerCase() as ConsoleRole };
}

export async function loadSession(): Promise<void> {
  try {
    session.value = normalise(await consoleApi<ConsoleSession>("GET", "/session"));
  } catch (error) {
    if (import.meta.env.DEV && error instanceof ApiError && error.status === 404) {
      // Dev only: a server without the sign-in API, reached through the
      // dev proxy that adds a token (vite.config.ts).
      const me = await gql(MeDocument, {});
      session.value = {
        agent: { id: me.me.agent?.id ?? "", displayName: me.me.agent?.displayName ?? "dev", email: me.me.agent?.email ?? "" },
        site: { id: me.me.siteId, name: me.me.site?.name ?? "" },
        role: me.me.role.toLowerCase() as ConsoleRole,
        expiresAt: "",
      };
    } else if (error instanceof ApiError && (error.status === 401 || error.code === "UNAUTHENTICATED")) {
      session.value = null;
      return;
    } else throw error;
  }
  void loadProfile();
}

export async function loadProfile(): Promise<void> {
  try {
    const me = await gql(MeDocument, {});
    profile.value = me.me.agent;
  } catch {
    /* the screens show their own errors */
  }
}

export function signedIn(body: ConsoleSession): void {
  session.value = normalise(body);
  void loadProfile();
}

export async function signOut(everywhere: boolean): Promise<void> {
  await consoleApi(everywhere ? "POST" : "DELETE", everywhere ? "/sessions/revoke-all" : "/session");
  session.value = null;
  profile.value = null;
  shutdown();
  navigate(`/signin?reason=${everywhere ? "signed-out-everywhere" : "signed-out"}`, true);
}
