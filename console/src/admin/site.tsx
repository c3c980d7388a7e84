// Admin: teams, text blocks, additional-information fields, site settings.
import { useEffect, useState } from "preact/hooks";
import { gql, useLoad, Problem, useAction } from "./admin";
import { InviteForm } from "./records";
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
  type SiteSettingsInput,
  type CustomFieldInput,
} from "../gql/generated";

export function Teams(props: { site: string }) {
  const { data, error, reload } = useLoad(() => gql(AdminTeamsDocument, { siteId: props.site }), [props.site]);
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
                  <td>{a.role?.toLowerCase() ?? "—"}</td>
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
  const { run, status } = useAction();
  const [s, setS] = useState<SiteSettingsInput | null>(null);
  useEffect(() => {
    if (data?.site) setS({ ...data.site.settings });
  }, [data]);
  if (!s || !data?.site) return <Problem error={error} />;
  return (
    <form
      class="form card"
      onSubmit={async (e) => {
        e.preventDefault();
        if (await run("Settings saved.", () => gql(UpdateSiteSettingsDocument, { siteId: props.site, settings: s }))) reload();
      }}
    >
      {status}
      <p>
        <strong>{data.site.name}</strong> <span class="muted">· widget origins: {data.site.allowedOrigins.length ? data.site.allowedOrigins.join(", ") : "any"}</span>
      </p>
      <p class="muted small">
        The name, the widget's origins, switching the widget off and identity verification cannot be changed from the console yet.
      </p>
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
