// The visitor side panel: identity, labels, "additional information"
// (editable), past conversations, and device/location while the session
// is live.
import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import { gql, describeError } from "../lib/api";
import { siteId } from "../lib/session";
import {
  VisitorDetailsDocument,
  SiteFieldsDocument,
  UpdateVisitorDocument,
  LiveSessionDocument,
  type VisitorFieldsFragment,
  type SiteFieldsQuery,
  type SessionFieldsFragment,
} from "../gql/generated";
import { openConversation } from "./conversation";
import { Link } from "../ui/shell";
import { countryName, dateTime, deviceLabel, flagEmoji, shortAgo } from "../lib/format";

type Field = NonNullable<SiteFieldsQuery["site"]>["customFields"][number];

let fieldsCache: { site: string; fields: Field[] } | null = null;

function valueOf(info: VisitorFieldsFragment["additionalInfo"], key: string): unknown {
  const v = info.find((i) => i.key === key)?.value as { value?: unknown } | unknown;
  return v && typeof v === "object" && "value" in (v as object) ? (v as { value: unknown }).value : v;
}

export function VisitorPanel() {
  const conv = openConversation.value;
  const visitorId = conv?.visitorId ?? null;
  const sessionId = conv?.sessionId ?? null;
  const site = siteId.value;
  const [visitor, setVisitor] = useState<VisitorFieldsFragment | null>(null);
  const [fields, setFields] = useState<Field[]>([]);
  const [live, setLive] = useState<SessionFieldsFragment | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);

  useEffect(() => {
    if (!visitorId) return;
    setVisitor(null);
    setError(null);
    setEditing(false);
    gql(VisitorDetailsDocument, { id: visitorId })
      .then((d) => setVisitor(d.visitor))
      .catch((e) => setError(describeError(e)));
    if (fieldsCache?.site === site) setFields(fieldsCache.fields);
    else
      gql(SiteFieldsDocument, { siteId: site })
        .then((d) => {
          fieldsCache = { site, fields: d.site?.customFields ?? [] };
          setFields(fieldsCache.fields);
        })
        .catch(() => {});
  }, [visitorId]);

  useEffect(() => {
    setLive(undefined);
    if (!sessionId) {
      setLive(null);
      return;
    }
    // Device and location live on the Live View row, which exists only
    // while the session does (the API keeps no device on the visitor).
    gql(LiveSessionDocument, { id: sessionId })
      .then((d) => setLive(d.liveSession ?? null))
      .catch(() => setLive(null));
  }, [sessionId]);

  if (!conv) return <aside class="visitor-panel" aria-label="Visitor details" />;
  return (
    <aside class="visitor-panel" aria-label="Visitor details" data-testid="visitor-panel">
      {error ? (
        <p class="form-error" role="alert">
          {error}
        </p>
      ) : null}
      {!visitor ? (
        <p class="muted">Loading the visitor…</p>
      ) : editing ? (
        <VisitorForm visitor={visitor} fields={fields} onDone={(v) => { if (v) setVisitor(v); setEditing(false); }} />
      ) : (
        <>
          <section class="panel-section">
            <div class="panel-head">
              <h2>{visitor.name ?? visitor.email ?? "Anonymous visitor"}</h2>
              <button type="button" class="btn btn-small btn-ghost" onClick={() => setEditing(true)}>
                Edit
              </button>
            </div>
            <dl class="facts">
              <dt>Email</dt>
              <dd>{visitor.email ?? "—"}</dd>
              {visitor.externalUserId ? (
                <>
                  <dt>User id</dt>
                  <dd>{visitor.externalUserId}</dd>
                </>
              ) : null}
              {visitor.assignedUser ? (
                <>
                  <dt>Routed to</dt>
                  <dd>{visitor.assignedUser}</dd>
                </>
              ) : null}
              <dt>First seen</dt>
              <dd>{visitor.firstSeenAt ? dateTime(visitor.firstSeenAt) : "—"}</dd>
            </dl>
            <div class="labels" role="group" aria-label="Labels">
              {visitor.labels.length ? visitor.labels.map((l) => <span class="tag" key={l}>{l}</span>) : <span class="muted small">No labels</span>}
            </div>
          </section>
          <section class="panel-section">
            <h3>Additional information</h3>
            {fields.length === 0 ? (
              <p class="muted small">The site defines no fields.</p>
            ) : (
              <dl class="facts">
                {fields.map((f) => {
                  const v = valueOf(visitor.additionalInfo, f.key);
                  return (
                    <Fragment key={f.key}>
                      <dt>{f.label}</dt>
                      <dd>{v === undefined || v === null || v === "" ? "—" : typeof v === "boolean" ? (v ? "Yes" : "No") : String(v)}</dd>
                    </Fragment>
                  );
                })}
              </dl>
            )}
          </section>
          <section class="panel-section">
            <h3>Device and location</h3>
            {live === undefined ? (
              <p class="muted small">…</p>
            ) : live ? (
              <dl class="facts">
                <dt>Location</dt>
                <dd>
                  {flagEmoji(live.country)} {countryName(live.country) || "Unknown"}
                </dd>
                <dt>Device</dt>
                <dd>
                  {deviceLabel(live.device)} · {live.os} · {live.browser}
                </dd>
                <dt>Page</dt>
                <dd class="ellipsis" title={live.currentPath}>
                  {live.currentPath}
                </dd>
              </dl>
            ) : (
              <p class="muted small">The session has ended; device and location are known only while it is live.</p>
            )}
          </section>
          <section class="panel-section">
            <h3>Conversations ({visitor.conversationCount})</h3>
            <ul class="past">
              {visitor.conversations.nodes.map((c) => (
                <li key={c.id} class={c.id === conv.id ? "current" : ""}>
                  <Link href={`/inbox/all/${c.id}`}>
                    <span class="ellipsis">{c.lastMessagePreview ?? "(no messages)"}</span>
                    <span class="muted small">
                      {(c.id === conv.id ? conv.status : c.status).toLowerCase()} · {shortAgo((c.id === conv.id ? conv.lastMessageAt : c.lastMessageAt) ?? c.createdAt, Date.now())}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
    </aside>
  );
}

function VisitorForm(props: { visitor: VisitorFieldsFragment; fields: Field[]; onDone: (v: VisitorFieldsFragment | null) => void }) {
  const v = props.visitor;
  const [first, ...rest] = (v.name ?? "").split(" ");
  const [firstName, setFirstName] = useState(first ?? "");
  const [lastName, setLastName] = useState(rest.join(" "));
  const [email, setEmail] = useState(v.email ?? "");
  const [labels, setLabels] = useState(v.labels.join(", "));
  const [values, setValues] = useState<Record<string, string | boolean>>(() => {
    const o: Record<string, string | boolean> = {};
    for (const f of props.fields) {
      const x = valueOf(v.additionalInfo, f.key);
      o[f.key] = f.kind === "boolean" ? x === true : x === undefined || x === null ? "" : String(x);
    }
    return o;
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const additionalInfo = props.fields.map((f) => {
        const raw = values[f.key];
        let value: unknown = raw;
        if (f.kind === "number") value = raw === "" ? null : Number(raw);
        else if (f.kind !== "boolean" && raw === "") value = null;
        return { key: f.key, value };
      });
      const d = await gql(UpdateVisitorDocument, {
        visitorId: v.id,
        info: {
          firstName,
          lastName,
          email,
          labels: labels.split(",").map((l) => l.trim()).filter(Boolean),
          additionalInfo,
        },
      });
      props.onDone(d.updateVisitorInfo);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="form panel-section" onSubmit={save}>
      <h2>Edit visitor</h2>
      <label class="field">
        <span>First name</span>
        <input class="input" value={firstName} onInput={(e) => setFirstName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Last name</span>
        <input class="input" value={lastName} onInput={(e) => setLastName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Email</span>
        <input class="input" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Labels (comma separated)</span>
        <input class="input" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} />
      </label>
      {props.fields.map((f) => (
        <label class={f.kind === "boolean" ? "switch" : "field"} key={f.key}>
          {f.kind === "boolean" ? (
            <>
              <input type="checkbox" checked={values[f.key] === true} onChange={(e) => setValues({ ...values, [f.key]: e.currentTarget.checked })} />
              <span>{f.label}</span>
            </>
          ) : (
            <>
              <span>{f.label}</span>
              {f.kind === "select" ? (
                <select class="select" value={String(values[f.key] ?? "")} onChange={(e) => setValues({ ...values, [f.key]: e.currentTarget.value })}>
                  <option value="">—</option>
                  {f.options.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              ) : (
                <input class="input" type={(f.kind === "number" ? "number" : f.kind === "date" ? "date" : "text") as "text"} value={String(values[f.key] ?? "")} onInput={(e) => setValues({ ...values, [f.key]: e.currentTarget.value })} />
              )}
            </>
          )}
        </label>
      ))}
      {error ? (
        <p class="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="row-gap">
        <button class="btn btn-primary" type="submit" disabled={busy}>
          Save
        </button>
        <button class="btn" type="button" onClick={() => props.onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
