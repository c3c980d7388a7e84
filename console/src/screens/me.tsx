// The agent's own settings: display name, presence, notifications,
// sound, sign out (here or everywhere).
import { useEffect, useState } from "preact/hooks";
import { gql, describeError } from "../lib/api";
import { session, profile, signOut, loadProfile } from "../lib/session";
import { SetDisplayNameDocument, SetPresenceDocument, SetNotificationPreferenceDocument, type NotificationPreference, type Presence } from "../gql/generated";
import { notificationPermission, requestNotificationPermission } from "../lib/notifications";
import { soundEnabled, enableSound, ring } from "../lib/sound";
import { toast } from "../ui/toast";

export function MeScreen() {
  const s = session.value!;
  const me = profile.value;
  const [name, setName] = useState(me?.displayName ?? s.agent.displayName);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  useEffect(() => {
    if (!me) void loadProfile();
  }, []);
  useEffect(() => {
    if (me) setName(me.displayName);
  }, [me?.displayName]);

  async function run(what: string, f: () => Promise<void>) {
    setError(null);
    setSaved(null);
    try {
      await f();
      setSaved(what);
    } catch (e) {
      setError(describeError(e));
    }
  }

  const saveName = (e: Event) => {
    e.preventDefault();
    void run("Display name saved.", async () => {
      profile.value = (await gql(SetDisplayNameDocument, { displayName: name.trim() })).setDisplayName;
      session.value = { ...s, agent: { ...s.agent, displayName: profile.value.displayName } };
    });
  };
  // The radios show the choice at once; the server's answer confirms it
  // (or the error puts the old one back).
  const [presenceDraft, setPresenceDraft] = useState<Presence | null>(null);
  const [prefDraft, setPrefDraft] = useState<NotificationPreference | null>(null);
  const setPresence = (presence: Presence) => {
    setPresenceDraft(presence);
    return run("Presence saved.", async () => {
      profile.value = (await gql(SetPresenceDocument, { presence })).setPresence;
    }).finally(() => setPresenceDraft(null));
  };
  const setPref = (preference: NotificationPreference) => {
    setPrefDraft(preference);
    return run("Notification preference saved.", async () => {
      profile.value = (await gql(SetNotificationPreferenceDocument, { preference })).setNotificationPreference;
    }).finally(() => setPrefDraft(null));
  };

  const presence = presenceDraft ?? me?.presence;
  const pref = prefDraft ?? me?.notificationPreference;
  return (
    <main class="main-pad me" id="main">
      <h1>Me</h1>
      <p class="muted">
        {s.agent.email} · {s.role} on {s.site.name}
      </p>
      {error ? (
        <p class="form-error" role="alert">
          {error}
        </p>
      ) : null}
      {saved ? (
        <p class="form-ok" role="status">
          {saved}
        </p>
      ) : null}
      <div class="cards">
        <section class="card" aria-labelledby="me-name">
          <h2 id="me-name">Display name</h2>
          <p class="muted small">Visitors see it on the "Live agent" badge when you take over.</p>
          <form class="row-gap" onSubmit={saveName}>
            <label class="visually-hidden" for="display-name">
              Display name
            </label>
            <input id="display-name" class="input" value={name} maxLength={64} required onInput={(e) => setName(e.currentTarget.value)} />
            <button class="btn btn-primary" type="submit" disabled={!name.trim() || name.trim() === me?.displayName}>
              Save
            </button>
          </form>
          <p class="muted small">
            Preview: <span class="live-badge">Live agent · {name.trim() || "…"}</span>
          </p>
        </section>
        <section class="card" aria-labelledby="me-presence">
          <h2 id="me-presence">Presence</h2>
          <div class="choice" role="radiogroup" aria-labelledby="me-presence">
            {(["ONLINE", "AWAY", "OFFLINE"] as Presence[]).map((p) => (
              <label class="radio" key={p}>
                <input type="radio" name="presence" checked={presence === p} onChange={() => setPresence(p)} />
                <span class={`presence-dot presence-${p.toLowerCase()}`} aria-hidden="true" />
                <span>{p === "ONLINE" ? "Online — take new conversations" : p === "AWAY" ? "Away — at the console, no new conversations" : "Offline"}</span>
              </label>
            ))}
          </div>
        </section>
        <section class="card" aria-labelledby="me-notify">
          <h2 id="me-notify">Notifications and sound</h2>
          <div class="choice" role="radiogroup" aria-labelledby="me-notify">
            {(
              [
                ["EVERY_MESSAGE", "Every visitor message"],
                ["NEW_CONVERSATIONS_ONLY", "New conversations only"],
                ["NONE", "None — silent"],
              ] as [NotificationPreference, string][]
            ).map(([p, label]) => (
              <label class="radio" key={p}>
                <input type="radio" name="pref" checked={pref === p} onChange={() => setPref(p)} />
                <span>{label}</span>
              </label>
            ))}
          </div>
          <div class="row-gap">
            {notificationPermission.value === "granted" ? (
              <span class="muted small">Desktop notifications are on for this browser.</span>
            ) : notificationPermission.value === "unsupported" ? (
              <span class="muted small">This browser has no desktop notifications; Livedesk shows them in the page.</span>
            ) : (
              <button type="button" class="btn" onClick={() => void requestNotificationPermission()} disabled={notificationPermission.value === "denied"}>
                {notificationPermission.value === "denied" ? "Desktop notifications blocked in the browser" : "Enable desktop notifications"}
              </button>
            )}
            <button
              type="button"
              class="btn btn-ghost"
              onClick={() => {
                enableSound();
                setTimeout(() => ring(true), 50);
                if (!soundEnabled.value) toast({ title: "Sound", body: "The browser has not allowed sound yet.", tone: "info" });
              }}
            >
              Test the sound
            </button>
          </div>
        </section>
        <section class="card" aria-labelledby="me-signout">
          <h2 id="me-signout">Sign out</h2>
          <p class="muted small">Signing out everywhere ends your sessions on every browser and device, this one included.</p>
          <div class="row-gap">
            <button type="button" class="btn" onClick={() => void run("", () => signOut(false))} data-testid="sign-out">
              Sign out
            </button>
            <button type="button" class="btn btn-danger" onClick={() => void run("", () => signOut(true))} data-testid="sign-out-everywhere">
              Sign out everywhere
            </button>
          </div>
        </section>
      </div>
    </main>
  );
}
