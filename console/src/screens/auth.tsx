// Sign-in, accepting an invitation, and the first-run setup: the pages
// before a session exists (the JSON API under /console/api).
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { consoleApi, ApiError } from "../lib/api";
import { route, navigate, safeNext } from "../lib/router";
import { signedIn, session, type ConsoleSession } from "../lib/session";

function AuthFrame(props: { title: string; subtitle?: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · Livedesk`;
  }, [props.title]);
  return (
    <main class="auth" id="main">
      <div class="auth-card">
        <div class="auth-brand">
          <span class="rail-logo" aria-hidden="true">
            L
          </span>
          <span>Livedesk</span>
        </div>
        <h1>{props.title}</h1>
        {props.subtitle ? <p class="muted">{props.subtitle}</p> : null}
        {props.children}
      </div>
    </main>
  );
}

function ErrorNote(props: { message: string | null; code?: string | null }) {
  if (!props.message) return null;
  return (
    <p class="form-error" role="alert" data-testid="form-error" data-code={props.code ?? undefined}>
      {props.message}
    </p>
  );
}

function rateLimitMessage(error: ApiError): string {
  const secs = Number(error.extra["retryAfterSecs"]);
  if (Number.isFinite(secs) && secs > 0) {
    const mins = Math.ceil(secs / 60);
    return `Too many attempts. Try again in ${secs < 90 ? `${secs} seconds` : `${mins} minutes`}.`;
  }
  return "Too many attempts. Try again later.";
}

export function SignIn() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [sites, setSites] = useState<{ id: string; name: string }[] | null>(null);
  const [siteChoice, setSiteChoice] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = safeNext(route.value.query.get("next"));

  useEffect(() => {
    // Already signed in (a reload of /signin): go on.
    if (session.value) navigate(next, true);
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCode(null);
    try {
      const body = await consoleApi<ConsoleSession>("POST", "/session", {
        email: email.trim(),
        password,
        ...(sites && siteChoice ? { siteId: siteChoice } : {}),
      });
      signedIn(body);
      navigate(next, true);
    } catch (err) {
      if (err instanceof ApiError && err.code === "CHOOSE_SITE" && Array.isArray(err.extra["sites"])) {
        const list = err.extra["sites"] as { id: string; name: string }[];
        setSites(list);
        setSiteChoice(list[0]?.id ?? "");
        setError(null);
      } else if (err instanceof ApiError && err.code === "RATE_LIMITED") {
        setCode(err.code);
        setError(rateLimitMessage(err));
      } else if (err instanceof ApiError && err.code === "UNAUTHENTICATED") {
        setCode(err.code);
        setError("Wrong email or password.");
      } else {
        setCode(err instanceof ApiError ? err.code : null);
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  }

  const reason = route.value.query.get("reason");
  const reasonText =
    reason === "ended"
      ? "Your session has ended (signed out elsewhere, or expired). Sign in again."
      : reason === "signed-out"
        ? "You are signed out."
        : reason === "signed-out-everywhere"
          ? "You are signed out on every browser and device."
          : null;
  return (
    <AuthFrame title="Sign in" subtitle="to the agent console">
      {reasonText && !error ? (
        <p class="form-ok" role="status" data-testid="signin-reason" data-reason={reason}>
          {reasonText}
        </p>
      ) : null}
      <form class="form" onSubmit={submit} noValidate>
        <label class="field">
          <span>Email</span>
          <input type="email" name="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Password</span>
          <input type="password" name="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {sites ? (
          <label class="field">
            <span>Site</span>
            <select name="site" value={siteChoice} onChange={(e) => setSiteChoice(e.currentTarget.value)}>
              {sites.map((s) => (
                <option value={s.id} key={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
            <small class="muted">You work on several sites: choose one for this session.</small>
          </label>
        ) : null}
        <ErrorNote message={error} code={code} />
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? "Signing in…" : sites ? "Continue" : "Sign in"}
        </button>
      </form>
    </AuthFrame>
  );
}

/** `email` and `name` are null on a site's first-admin link: the form asks. */
interface InvitationInfo {
  email: string | null;
  name: string | null;
  siteName: string;
  role: string;
}

function PasswordFields(props: { password: string; confirm: string; setPassword: (v: string) => void; setConfirm: (v: string) => void }) {
  return (
    <>
      <label class="field">
        <span>Choose a password</span>
        <input type="password" autoComplete="new-password" minLength={10} maxLength={256} required value={props.password} onInput={(e) => props.setPassword(e.currentTarget.value)} aria-describedby="pw-rules" />
        <small id="pw-rules" class="muted">
          10 to 256 characters.
        </small>
      </label>
      <label class="field">
        <span>Repeat the password</span>
        <input type="password" autoComplete="new-password" required value={props.confirm} onInput={(e) => props.setConfirm(e.currentTarget.value)} />
      </label>
    </>
  );
}

function passwordProblem(password: string, confirm: string): string | null {
  if (password.length < 10) return "The password needs at least 10 characters.";
  if (password.length > 256) return "The password may have at most 256 characters.";
  if (password !== confirm) return "The two passwords differ.";
  return null;
}

export function Invite() {
  const { path, query } = route.value;
  const token = path.startsWith("/invite/") ? decodeURIComponent(path.slice("/invite/".length)) : (query.get("token") ?? "");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [info, setInfo] = useState<InvitationInfo | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!token) {
      setMissing("This invitation link is incomplete.");
      return;
    }
    consoleApi<InvitationInfo>("GET", `/invitations/${encodeURIComponent(token)}`)
      .then(setInfo)
      .catch((err) => setMissing(err instanceof ApiError && err.code === "NOT_FOUND" ? "This invitation is unknown, already used or expired. Ask an admin for a new one." : String(err instanceof Error ? err.message : err)));
  }, [token]);

  async function submit(e: Event) {
    e.preventDefault();
    const problem = passwordProblem(password, confirm);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      const asks = info?.email == null;
      if (asks && (!name.trim() || !email.trim())) {
        setBusy(false);
        return setError("Give your name and email.");
      }
      signedIn(await consoleApi<ConsoleSession>("POST", "/invitations/accept", asks ? { token, password, name: name.trim(), email: email.trim() } : { token, password }));
      navigate("/inbox/unread", true);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  if (missing)
    return (
      <AuthFrame title="Invitation">
        <ErrorNote message={missing} />
      </AuthFrame>
    );
  if (!info)
    return (
      <AuthFrame title="Invitation">
        <p aria-busy="true">Checking the invitation…</p>
      </AuthFrame>
    );
  const asks = info.email == null;
  const role = info.role ? String(info.role).toLowerCase() : "agent";
  return (
    <AuthFrame
      title={`Join ${info.siteName}`}
      subtitle={asks ? `You are invited as the site's ${role}. Tell us who you are and choose a password.` : `Welcome, ${info.name ?? info.email}. Choose a password for ${info.email} (${role}).`}
    >
      <form class="form" onSubmit={submit} noValidate>
        {asks ? (
          <>
            <label class="field">
              <span>Your name</span>
              <input autoComplete="name" required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <label class="field">
              <span>Your email</span>
              <input type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
            </label>
          </>
        ) : (
          <input type="email" hidden autoComplete="username" value={info.email ?? ""} readOnly aria-hidden="true" tabIndex={-1} />
        )}
        <PasswordFields password={password} confirm={confirm} setPassword={setPassword} setConfirm={setConfirm} />
        <ErrorNote message={error} />
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? "Joining…" : "Join and sign in"}
        </button>
      </form>
    </AuthFrame>
  );
}

export function Setup() {
  const [needed, setNeeded] = useState<boolean | null>(null);
  const [setupToken, setSetupToken] = useState(route.value.query.get("token") ?? "");
  const [siteName, setSiteName] = useState("");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    consoleApi<{ needed: boolean }>("GET", "/setup")
      .then((r) => setNeeded(r.needed))
      .catch((err) => setError(err instanceof Error ? err.message : String(err)));
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    const problem = passwordProblem(password, confirm);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      signedIn(await consoleApi<ConsoleSession>("POST", "/setup", { setupToken: setupToken.trim(), siteName: siteName.trim(), name: name.trim(), email: email.trim(), password }));
      navigate("/admin/settings", true);
    } catch (err) {
      if (err instanceof ApiError && err.code === "FORBIDDEN") setError("The setup token is wrong. It is printed in the server's log at first start.");
      else if (err instanceof ApiError && err.code === "CONFLICT") setError("This Livedesk is already set up. Sign in instead.");
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  if (needed === false)
    return (
      <AuthFrame title="Setup">
        <p>This Livedesk is already set up.</p>
        <a class="btn btn-primary" href="/console/signin">
          Sign in
        </a>
      </AuthFrame>
    );
  return (
    <AuthFrame title="Set up Livedesk" subtitle="Create the first site and its admin.">
      <form class="form" onSubmit={submit} noValidate aria-busy={needed === null}>
        <label class="field">
          <span>Setup token</span>
          <input autoComplete="off" required value={setupToken} onInput={(e) => setSetupToken(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Site name</span>
          <input required value={siteName} onInput={(e) => setSiteName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Your name</span>
          <input autoComplete="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Your email</span>
          <input type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <PasswordFields password={password} confirm={confirm} setPassword={setPassword} setConfirm={setConfirm} />
        <ErrorNote message={error} />
        <button class="btn btn-primary btn-block" type="submit" disabled={busy || needed === null}>
          {busy ? "Creating…" : "Create the site"}
        </button>
      </form>
    </AuthFrame>
  );
}
