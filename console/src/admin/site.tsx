// Admin: teams, text blocks, additional-information fields, site settings.
import { useEffect, useState } from "preact/hooks";
import { gql, useLoad, Problem, useAction } from "./admin";
import { CopyButton, InviteForm } from "./records";
import { session } from "../lib/session";
import {
  AdminTeamsDocument,
  CreateTeamDocument,
  AddTeamMemberDocument,
  RemoveTeamMemberDocument,
  AdminTextBlocksDocument,
  AddTextBlockDocument,
  ChangeTextBlockDocument,
  RemoveTextBlockDocument,
  AdminSiteDocument,
  DefineCustomFieldsDocument,
  UpdateSiteSettingsDocument,
  SetAgentRoleDocument,
  type Role,
  UpdateSiteProfileDocument,
  SetWidgetEnabledDocument,
  ConfigureIdentityVerificationDocument,
  type SiteSettingsInput,
  type CustomFieldInput,
} from "../gql/generated";

const ROLES: Role[] = ["ADMIN", "SUPERVISOR", "AGENT", "ANALYST"];

export function Teams(props: { site: string }) {
  const { data, error, reload } = useLoad(() => gql(AdminTeamsDocument, { siteId: props.site }), [props.site]);
  const me = session.value?.agent.id;
  const { run, status } = useAction();
  const [name, setName] = useState("");
  const [pick, setPick] = useState<Record<string, string>>({});
  return (
    <>
      <Problem error={error} />
      {status}
      <InviteForm site={props.site} onInvited={reload} />
      <form
        class="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await run(`Team “${name}” created.`, () => gql(CreateTeamDocument, { siteId: props.site, name: name.trim() }))) {
            setName("");
            reload();
          }
        }}
      >
        <label class="field">
          <span>New team</span>
          <input class="input" value={name} required onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button class="btn btn-primary" type="submit" disabled={!name.trim()}>
          Create team
        </button>
      </form>
      {data ? (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Team</th>
              <th scope="col">Members</th>
              <th scope="col">Add a member</th>
            </tr>
          </thead>
          <tbody>
            {data.teams.length === 0 ? (
              <tr>
                <td colSpan={3} class="muted">
                  No teams yet. Teams route conversations (Routing) and own SLA policies.
                </td>
              </tr>
            ) : null}
            {data.teams.map((t) => (
              <tr key={t.id}>
                <td>
                  <strong>{t.name}</strong>
                </td>
                <td>
                  <div class="labels">
                    {t.members.length === 0 ? <span class="muted">Nobody yet</span> : null}
                    {t.members.map((m) => (
                      <span class="tag" key={m.id}>
                        {m.displayName}
                        <button type="button" class="icon-btn" aria-label={`Remove ${m.displayName} from ${t.name}`} onClick={async () => (await run("", () => gql(RemoveTeamMemberDocument, { teamId: t.id, agentId: m.id }))) && reload()}>
                          ×
                        </button>
                      </span>
                    ))}
                  </div>
                </td>
                <td>
                  <div class="row-gap">
                    <label class="visually-hidden" for={`add-${t.id}`}>
                      Agent to add to {t.name}
                    </label>
                    <select id={`add-${t.id}`} class="select select-small" value={pick[t.id] ?? ""} onChange={(e) => setPick({ ...pick, [t.id]: e.currentTarget.value })}>
                      <option value="">Choose an agent…</option>
                      {data.agents
                        .filter((a) => !t.members.some((m) => m.id === a.id))
                        .map((a) => (
                          <option key={a.id} value={a.id}>
                            {a.displayName}
                          </option>
                        ))}
                    </select>
                    <button type="button" class="btn btn-small" disabled={!pick[t.id]} onClick={async () => (await run("", () => gql(AddTeamMemberDocument, { teamId: t.id, agentId: pick[t.id]! }))) && reload()}>
                      Add
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {data ? (
        <>
          <h3>Agents</h3>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Presence</th>
                <th scope="col">Open</th>
              </tr>
            </thead>
            <tbody>
              {data.agents.map((a) => (
                <tr key={a.id}>
                  <td>
                    {a.displayName} {a.activated ? null : <span class="tag tag-muted">invited</span>}
                  </td>
                  <td>{a.email}</td>
                  <td>
                    {a.id === me ? (
                      <span>{a.role?.toLowerCase() ?? "—"} (you)</span>
                    ) : (
                      <div class="row-gap">
                        <label class="visually-hidden" for={`role-${a.id}`}>
                          Role of {a.displayName}
                        </label>
                        <select
                          id={`role-${a.id}`}
                          class="select select-small"
                          value={a.role ?? ""}
                          data-testid="agent-role"
                          onChange={async (e) => {
                            const role = e.currentTarget.value as Role;
                            if (await run(`${a.displayName} is ${role.toLowerCase()} now.`, () => gql(SetAgentRoleDocument, { siteId: props.site, agentId: a.id, role }))) reload();
                          }}
                        >
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {r.toLowerCase()}
                            </option>
                          ))}
                        </select>
                        <button
                          type="button"
                          class="btn btn-small"
                          onClick={async () => {
                            if (!window.confirm(`Remove ${a.displayName} from this site? Their console sessions here end.`)) return;
                            if (await run(`${a.displayName} was removed from the site.`, () => gql(SetAgentRoleDocument, { siteId: props.site, agentId: a.id, role: null }))) reload();
                          }}
                        >
                          Remove
                        </button>
                      </div>
                    )}
                  </td>
                  <td>{a.presence.toLowerCase()}</td>
                  <td class="mono">
                    {a.openConversations} / {a.maxConcurrent}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </>
  );
}

export function TextBlocks(props: { site: string }) {
  const { data, error, reload } = useLoad(() => gql(AdminTextBlocksDocument, { siteId: props.site }), [props.site]);
  const { run, status } = useAction();
  const [edit, setEdit] = useState<{ id: string | null; shortcut: string; title: string; body: string } | null>(null);
  async function save(e: Event) {
    e.preventDefault();
    if (!edit) return;
    const vars = { siteId: props.site, shortcut: edit.shortcut.trim(), title: edit.title.trim(), body: edit.body };
    const ok = await run("Text block saved.", () => (edit.id ? gql(ChangeTextBlockDocument, { ...vars, id: edit.id }) : gql(AddTextBlockDocument, vars)));
    if (ok) {
      setEdit(null);
      reload();
    }
  }
  return (
    <>
      <Problem error={error} />
      {status}
      {edit ? (
        <form class="card form" onSubmit={save}>
          <label class="field">
            <span>Shortcut (typed after #)</span>
            <input class="input" value={edit.shortcut} required onInput={(e) => setEdit({ ...edit, shortcut: e.currentTarget.value })} />
          </label>
          <label class="field">
            <span>Title</span>
            <input class="input" value={edit.title} required onInput={(e) => setEdit({ ...edit, title: e.currentTarget.value })} />
          </label>
          <label class="field">
            <span>Text</span>
            <textarea rows={4} value={edit.body} required onInput={(e) => setEdit({ ...edit, body: e.currentTarget.value })} />
          </label>
          <div class="row-gap">
            <button class="btn btn-primary" type="submit">
              Save
            </button>
            <button class="btn" type="button" onClick={() => setEdit(null)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <div>
          <button class="btn btn-primary" type="button" onClick={() => setEdit({ id: null, shortcut: "", title: "", body: "" })}>
            New text block
          </button>
        </div>
      )}
      {data ? (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Shortcut</th>
              <th scope="col">Title</th>
              <th scope="col">Text</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.textBlocks.length === 0 ? (
              <tr>
                <td colSpan={4} class="muted">
                  No text blocks yet.
                </td>
              </tr>
            ) : null}
            {data.textBlocks.map((b) => (
              <tr key={b.id}>
                <td>
                  <code>#{b.shortcut}</code>
                </td>
                <td>{b.title}</td>
                <td>{b.body}</td>
                <td>
                  <div class="row-gap">
                    <button class="btn btn-small" type="button" onClick={() => setEdit({ id: b.id, shortcut: b.shortcut, title: b.title, body: b.body })}>
                      Edit
                    </button>
                    <button class="btn btn-small btn-danger" type="button" onClick={async () => (await run("Text block removed.", () => gql(RemoveTextBlockDocument, { siteId: props.site, id: b.id }))) && reload()}>
                      Remove
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

const KINDS = ["text", "number", "boolean", "date", "select"];

export function Fields(props: { site: string }) {
  const { data, error, reload } = useLoad(() => gql(AdminSiteDocument, { siteId: props.site }), [props.site]);
  const { run, status } = useAction();
  const [fields, setFields] = useState<(CustomFieldInput & { optionsText: string })[] | null>(null);
  useEffect(() => {
    if (data?.site) setFields(data.site.customFields.map((f) => ({ ...f, optionsText: f.options.join(", ") })));
  }, [data]);
  if (!fields) return <Problem error={error} />;
  const set = (i: number, patch: Partial<(typeof fields)[number]>) => setFields(fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  return (
    <form
      class="form"
      onSubmit={async (e) => {
        e.preventDefault();
        const list = fields.map(({ key, label, kind, optionsText }) => ({ key: key.trim(), label: label.trim(), kind, options: kind === "select" ? optionsText.split(",").map((o) => o.trim()).filter(Boolean) : [] }));
        if (await run("Fields saved.", () => gql(DefineCustomFieldsDocument, { siteId: props.site, fields: list }))) reload();
      }}
    >
      <Problem error={error} />
      {status}
      <p class="muted">Fields agents fill in on the visitor panel. Saving replaces the whole list.</p>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Label</th>
            <th scope="col">Kind</th>
            <th scope="col">Options (select)</th>
            <th scope="col">
              <span class="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {fields.map((f, i) => (
            <tr key={i}>
              <td>
                <input class="input" aria-label={`Key of field ${i + 1}`} value={f.key} pattern="[a-z0-9_]+" required onInput={(e) => set(i, { key: e.currentTarget.value })} />
              </td>
              <td>
                <input class="input" aria-label={`Label of field ${i + 1}`} value={f.label} required onInput={(e) => set(i, { label: e.currentTarget.value })} />
              </td>
              <td>
                <select class="select" aria-label={`Kind of field ${i + 1}`} value={f.kind} onChange={(e) => set(i, { kind: e.currentTarget.value })}>
                  {KINDS.map((k) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <input class="input" aria-label={`Options of field ${i + 1}`} value={f.optionsText} disabled={f.kind !== "select"} onInput={(e) => set(i, { optionsText: e.currentTarget.value })} />
              </td>
              <td>
                <button type="button" class="btn btn-small btn-danger" onClick={() => setFields(fields.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="row-gap">
        <button type="button" class="btn" onClick={() => setFields([...fields, { key: "", label: "", kind: "text", options: [], optionsText: "" }])}>
          Add a field
        </button>
        <button type="submit" class="btn btn-primary">
          Save fields
        </button>
      </div>
    </form>
  );
}

const NUMBERS: [keyof SiteSettingsInput, string, number, number][] = [
  ["maxSessionDurationSecs", "Longest session (seconds)", 60, 86_400],
  ["idleTimeoutSecs", "Idle after (seconds hidden)", 10, 86_400],
  ["leaveTimeoutSecs", "Session ends after (seconds silent)", 5, 3_600],
  ["maxMessageChars", "Longest message (characters)", 1, 100_000],
];

export function Settings(props: { site: string }) {
  const { data, error, reload } = useLoad(() => gql(AdminSiteDocument, { siteId: props.site }), [props.site]);
  if (!data?.site) return <Problem error={error} />;
  return (
    <div class="stack">
      <Profile site={props.site} name={data.site.name} origins={data.site.allowedOrigins} onSaved={reload} />
      <WidgetSwitch site={props.site} enabled={data.site.widgetEnabled} onSaved={reload} />
      <Identity site={props.site} required={data.site.identityVerification.required} configured={data.site.identityVerification.configured} onSaved={reload} />
      <SessionRules site={props.site} settings={data.site.settings} onSaved={reload} />
    </div>
  );
}

function Profile(props: { site: string; name: string; origins: string[]; onSaved: () => void }) {
  const { run, status } = useAction();
  const [name, setName] = useState(props.name);
  const [origins, setOrigins] = useState(props.origins.join("\n"));
  return (
    <form
      class="form card"
      aria-labelledby="profile-title"
      onSubmit={async (e) => {
        e.preventDefault();
        const allowedOrigins = origins
          .split(/\s+/)
          .map((o) => o.trim())
          .filter(Boolean);
        if (await run("Profile saved.", () => gql(UpdateSiteProfileDocument, { siteId: props.site, name: name.trim(), allowedOrigins }))) props.onSaved();
      }}
    >
      <h2 id="profile-title">Site</h2>
      {status}
      <label class="field">
        <span>Name</span>
        <input class="input" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>
          Origins the widget may run on <span class="muted small">(one per line, e.g. https://shop.example; none: any)</span>
        </span>
        <textarea class="input" rows={3} value={origins} onInput={(e) => setOrigins(e.currentTarget.value)} />
      </label>
      <div>
        <button class="btn btn-primary" type="submit">
          Save site
        </button>
      </div>
    </form>
  );
}

function WidgetSwitch(props: { site: string; enabled: boolean; onSaved: () => void }) {
  const { run, status } = useAction();
  return (
    <section class="form card" aria-labelledby="widget-title">
      <h2 id="widget-title">Widget</h2>
      {status}
      <p data-testid="widget-state">
        {props.enabled ? "The widget is on: visitors can chat and show up in the Live View." : "The widget is off: it shows nothing on the site's pages and starts no session."}
      </p>
      <div>
        <button
          class={`btn${props.enabled ? "" : " btn-primary"}`}
          type="button"
          data-testid="widget-toggle"
          onClick={async () => {
            const enabled = !props.enabled;
            if (await run(enabled ? "The widget is on." : "The widget is off.", () => gql(SetWidgetEnabledDocument, { siteId: props.site, enabled }))) props.onSaved();
          }}
        >
          {props.enabled ? "Switch the widget off" : "Switch the widget on"}
        </button>
      </div>
    </section>
  );
}

function Identity(props: { site: string; required: boolean; configured: boolean; onSaved: () => void }) {
  const { run, status } = useAction();
  const [secret, setSecret] = useState<string | null>(null);
  const configure = (required: boolean, rotateSecret: boolean) =>
    run(required ? "Signed identities are required." : "Signed identities are optional.", async () => {
      const answer = await gql(ConfigureIdentityVerificationDocument, { siteId: props.site, required, rotateSecret });
      if (answer.configureIdentityVerification.secret) setSecret(answer.configureIdentityVerification.secret);
    }).then((ok) => ok && props.onSaved());
  return (
    <section class="form card" aria-labelledby="identity-title">
      <h2 id="identity-title">Identity verification</h2>
      {status}
      <p class="muted small">
        When required, the widget accepts a visitor's <code>externalUserId</code> only with its signature: the hex HMAC-SHA256 of the id with the site's secret, made by your server.
      </p>
      <label class="switch">
        <input type="checkbox" checked={props.required} data-testid="identity-required" onChange={(e) => void configure(e.currentTarget.checked, false)} />
        <span>Require signed identities</span>
      </label>
      <p class="muted small">{props.configured ? "A secret is set." : "No secret yet: one is made when you first switch this on."}</p>
      {props.configured ? (
        <div>
          <button class="btn" type="button" onClick={() => void configure(props.required, true)}>
            Make a new secret
          </button>
        </div>
      ) : null}
      {secret ? (
        <div class="card" role="status" data-testid="identity-secret">
          <p>Copy the secret now: it is shown once. Your server signs visitor ids with it.</p>
          <code class="secret">{secret}</code> <CopyButton text={secret} label="Copy" />
        </div>
      ) : null}
    </section>
  );
}

function SessionRules(props: { site: string; settings: SiteSettingsInput; onSaved: () => void }) {
  const { run, status } = useAction();
  const [s, setS] = useState<SiteSettingsInput>({ ...props.settings });
  useEffect(() => setS({ ...props.settings }), [props.settings]);
  return (
    <form
      class="form card"
      aria-labelledby="rules-title"
      onSubmit={async (e) => {
        e.preventDefault();
        if (await run("Settings saved.", () => gql(UpdateSiteSettingsDocument, { siteId: props.site, settings: s }))) props.onSaved();
      }}
    >
      <h2 id="rules-title">Session rules</h2>
      {status}
      <label class="switch">
        <input type="checkbox" checked={s.keepSessionAcrossTabs} onChange={(e) => setS({ ...s, keepSessionAcrossTabs: e.currentTarget.checked })} />
        <span>Keep the session across tabs (a new tab joins the open session)</span>
      </label>
      <label class="switch">
        <input type="checkbox" checked={s.persistentVisitorIds} onChange={(e) => setS({ ...s, persistentVisitorIds: e.currentTarget.checked })} />
        <span>Remember visitors after the browser closes</span>
      </label>
      {NUMBERS.map(([k, label, min, max]) => (
        <label class="field" key={k}>
          <span>
            {label} <span class="muted small">({min.toLocaleString()}–{max.toLocaleString()})</span>
          </span>
          <input class="input" type="number" min={min} max={max} required value={String(s[k])} onInput={(e) => setS({ ...s, [k]: Number(e.currentTarget.value) })} />
        </label>
      ))}
      <div>
        <button class="btn btn-primary" type="submit">
          Save settings
        </button>
      </div>
    </form>
  );
}
