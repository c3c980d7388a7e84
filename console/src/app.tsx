import { lazy, Suspense } from "preact/compat";
import { useEffect } from "preact/hooks";
import { route, navigate, match, currentTarget } from "./lib/router";
import { session, loadSession, isPublicPath, isStaff } from "./lib/session";
import { SignIn, Invite, Setup } from "./screens/auth";
import { Shell } from "./ui/shell";
import { InboxScreen } from "./screens/inbox";
import { LiveView } from "./screens/live";
import { MeScreen } from "./screens/me";

const Admin = lazy(() => import("./admin/admin").then((m) => ({ default: m.AdminScreen })));

const FOLDERS = ["unread", "unresolved", "done", "all"];

let booted = false;

export function App() {
  useEffect(() => {
    if (booted) return;
    booted = true;
    loadSession().catch(() => {
      session.value = null;
    });
  }, []);

  const { path } = route.value;
  const s = session.value;

  if (path === "/signin") return <SignIn />;
  if (path === "/invite" || path.startsWith("/invite/")) return <Invite />;
  if (path === "/setup") return <Setup />;

  if (s === undefined) {
    return (
      <main class="boot" aria-busy="true">
        <p>Loading Livedesk…</p>
      </main>
    );
  }
  if (s === null) {
    if (!isPublicPath(path)) {
      queueMicrotask(() => navigate(`/signin?next=${encodeURIComponent(currentTarget())}`, true));
    }
    return null;
  }

  if (path === "/" || path === "/inbox") {
    queueMicrotask(() => navigate("/inbox/unread", true));
    return null;
  }

  let screen = null;
  let title = "Livedesk";
  let m: Record<string, string> | null;
  if ((m = match("/inbox/:folder", path) ?? match("/inbox/:folder/:id", path)) && FOLDERS.includes(m["folder"]!)) {
    screen = <InboxScreen folder={m["folder"]!} conversationId={m["id"] ?? null} />;
    title = "Inbox";
  } else if (path === "/live") {
    screen = <LiveView />;
    title = "Live View";
  } else if (path === "/me") {
    screen = <MeScreen />;
    title = "Me";
  } else if (path === "/admin" || (m = match("/admin/:section", path))) {
    screen = !isStaff.value ? (
      <AdminRefused />
    ) : (
      <Suspense fallback={<main class="main-pad" id="main"><p>Loading admin…</p></main>}>
        <Admin section={m?.["section"] ?? "teams"} />
      </Suspense>
    );
    title = "Admin";
  } else {
    screen = (
      <main class="main-pad" id="main">
        <h1>Not found</h1>
        <p>There is no page at {path}.</p>
      </main>
    );
  }
  return <Shell title={title}>{screen}</Shell>;
}

/** Admin is for admins and supervisors; the API refuses the others too. */
function AdminRefused() {
  return (
    <main class="main-pad" id="main" data-testid="admin-refused">
      <h1>Admin</h1>
      <p class="form-error" role="alert">
        Not allowed: Admin is for admins and supervisors, and you are signed in as {session.value?.role ?? "an agent"}. Ask an admin if you need a setting changed.
      </p>
    </main>
  );
}
