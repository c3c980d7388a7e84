// Admin: inviting people, API tokens, the audit log, the SLA report.
import { useState } from "preact/hooks";
import { gql, useLoad, Problem, useAction } from "./admin";
import { describeError } from "../lib/api";
import { download } from "../lib/download";
import { dateTime } from "../lib/format";
import { reportBars, periodOf, type Period } from "../lib/report";
import {
  AdminTokensDocument,
  IssueApiTokenDocument,
  RevokeApiTokenDocument,
  AuditLogDocument,
  SlaReportDocument,
  InviteAgentDocument,
  type AuditLogQuery,
  type InviteAgentMutation,
  type Role,
  type SlaReportGroup,
  type SlaReportQuery,
  type SlaTarget,
} from "../gql/generated";

const ROLES: [Role, string][] = [
  ["AGENT", "Agent: handles conversations"],
  ["SUPERVISOR", "Supervisor: also overrules agents, sees Admin"],
  ["ADMIN", "Admin: everything, settings and tokens included"],
  ["ANALYST", "Analyst: reads history and reports"],
];

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function CopyButton(props: { text: string; label: string }) {
  const [done, setDone] = useState<boolean | null>(null);
  return (
    <button type="button" class="btn btn-small" onClick={async () => setDone(await copy(props.text))}>
      {done === true ? "Copied" : done === false ? "Select and copy" : props.label}
    </button>
  );
}

export function InviteForm(props: { site: string; onInvited?: () => void }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("AGENT");
  const [result, setResult] = useState<InviteAgentMutation["inviteAgent"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const d = await gql(InviteAgentDocument, { siteId: props.site, email: email.trim(), name: name.trim(), role });
      setResult(d.inviteAgent);
      setEmail("");
      setName("");
      props.onInvited?.();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card" aria-labelledby="invite-title">
      <h3 id="invite-title">Invite someone</h3>
      <form class="inline-form" onSubmit={submit}>
        <label class="field">
          <span>Name</span>
          <input class="input" value={name} required maxLength={64} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Email</span>
          <input class="input" type="email" value={email} required onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Role</span>
          <select class="select" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.map(([r, label]) => (
              <option key={r} value={r}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button class="btn btn-primary" type="submit" disabled={busy || !email.trim() || !name.trim()} data-testid="invite">
          {busy ? "Inviting…" : "Invite"}
        </button>
      </form>
      <Problem error={error} />
      {result ? (
        <div class="form-ok" role="status" data-testid="invite-result">
          <p>
            {result.setsPassword
              ? "Send this one-time link. It sets their password and works until "
              : "They already have a password: they sign in here with it. The link works until "}
            {dateTime(result.expiresAt)}. It is shown only now.
          </p>
          <div class="row-gap">
            <code class="secret" data-testid="invite-url">
              {result.url}
            </code>
            <CopyButton text={result.url} label="Copy link" />
          </div>
        </div>
      ) : null}
    </section>
  );
}

export function Tokens(props: { site: string }) {
  const { data, error, reload } = useLoad(() => gql(AdminTokensDocument, { siteId: props.site }), [props.site]);
  const { run, status } = useAction();
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("INTEGRATOR");
  const [agentId, setAgentId] = useState("");
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const agentName = (id: string | null) => (id ? (data?.agents.find((a) => a.id === id)?.displayName ?? id.slice(0, 8)) : "—");
  return (
    <>
      <Problem error={error} />
      {status}
      <form
        class="card inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const issued = name.trim();
          await run("", async () => {
            const d = await gql(IssueApiTokenDocument, { siteId: props.site, name: issued, role, agentId: agentId || null });
            setSecret({ name: issued, secret: d.issueApiToken.secret });
            setName("");
            reload();
          });
        }}
      >
        <label class="field">
          <span>Token name</span>
          <input class="input" value={name} required placeholder="CRM sync" onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Role</span>
          <select class="select" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {(["INTEGRATOR", "ANALYST", "AGENT", "SUPERVISOR", "ADMIN"] as Role[]).map((r) => (
              <option key={r} value={r}>
                {r.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Acts as agent (optional)</span>
          <select class="select" value={agentId} onChange={(e) => setAgentId(e.currentTarget.value)}>
            <option value="">Nobody</option>
            {data?.agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.displayName}
              </option>
            ))}
          </select>
        </label>
        <button class="btn btn-primary" type="submit" disabled={!name.trim()} data-testid="issue-token">
          Issue token
        </button>
      </form>
      {secret ? (
        <div class="card" role="status" data-testid="token-secret">
          <p>
            <strong>{secret.name}</strong>: copy the secret now. It is shown once and Livedesk keeps only its hash.
          </p>
          <div class="row-gap">
            <code class="secret" data-testid="secret">
              {secret.secret}
            </code>
            <CopyButton text={secret.secret} label="Copy" />
            <button type="button" class="btn btn-small btn-ghost" onClick={() => setSecret(null)}>
              I have stored it
            </button>
          </div>
        </div>
      ) : null}
      {data ? (
        <table class="table">
          <caption class="visually-hidden">API tokens</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Agent</th>
              <th scope="col">Issued</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.apiTokens.length === 0 ? (
              <tr>
                <td colSpan={6} class="muted">
                  No tokens yet.
                </td>
              </tr>
            ) : null}
            {data.apiTokens.map((t) => (
              <tr key={t.id} data-testid="token-row">
                <td>{t.name}</td>
                <td>{t.role.toLowerCase()}</td>
                <td>{agentName(t.agentId)}</td>
                <td>{dateTime(t.issuedAt)}</td>
                <td>{t.revokedAt ? <span class="tag tag-muted">revoked {dateTime(t.revokedAt)}</span> : <span class="tag tag-human">valid</span>}</td>
                <td>
                  {t.revokedAt ? null : (
                    <button
                      type="button"
                      class="btn btn-small btn-danger"
                      aria-label={`Revoke ${t.name}`}
                      onClick={async () => {
                        if (!confirm(`Revoke “${t.name}”? Clients using it stop working at once.`)) return;
                        if (await run(`“${t.name}” revoked.`, () => gql(RevokeApiTokenDocument, { siteId: props.site, id: t.id }))) reload();
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

type AuditEntry = AuditLogQuery["auditLog"]["nodes"][number];

export function Audit(props: { site: string }) {
  const [action, setAction] = useState("");
  const [applied, setApplied] = useState("");
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [busy, setBusy] = useState(false);
  const filter = applied ? { actions: applied.split(",").map((a) => a.trim()).filter(Boolean) } : null;
  const { error } = useLoad(async () => {
    const d = await gql(AuditLogDocument, { siteId: props.site, filter, after: null });
    setEntries(d.auditLog.nodes);
    setCursor(d.auditLog.pageInfo.endCursor);
    setMore(d.auditLog.pageInfo.hasNextPage);
    return d;
  }, [props.site, applied]);
  const [pageError, setPageError] = useState<string | null>(null);
  async function loadMore() {
    setBusy(true);
    try {
      const d = await gql(AuditLogDocument, { siteId: props.site, filter, after: cursor });
      const seen = new Set(entries.map((e) => e.position));
      setEntries([...entries, ...d.auditLog.nodes.filter((e) => !seen.has(e.position))]);
      setCursor(d.auditLog.pageInfo.endCursor);
      setMore(d.auditLog.pageInfo.hasNextPage);
    } catch (e) {
      setPageError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <Problem error={error ?? pageError} />
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(action.trim());
        }}
      >
        <label class="field">
          <span>Actions (event types, comma separated)</span>
          <input class="input" value={action} placeholder="ConversationTakenOver, ApiTokenIssued" onInput={(e) => setAction(e.currentTarget.value)} />
        </label>
        <button class="btn" type="submit">
          Filter
        </button>
      </form>
      <table class="table">
        <caption class="visually-hidden">Audit log, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Where</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.length === 0 ? (
            <tr>
              <td colSpan={5} class="muted">
                Nothing recorded{applied ? " for these actions" : ""}.
              </td>
            </tr>
          ) : null}
          {entries.map((e) => (
            <tr key={e.position}>
              <td>{dateTime(e.at)}</td>
              <td>{e.actorName ?? e.actor ?? "—"}</td>
              <td>
                <code>{e.action}</code>
              </td>
              <td class="details">{e.streamId}</td>
              <td class="details">{summarizeDetails(e.details)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {more ? (
        <div>
          <button type="button" class="btn" onClick={loadMore} disabled={busy}>
            {busy ? "Loading…" : "Older entries"}
          </button>
        </div>
      ) : null}
    </>
  );
}

/** Event payloads as compact text (never as HTML). */
function summarizeDetails(details: unknown): string {
  const text = JSON.stringify(details);
  if (!text) return "";
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}

const TARGETS: [SlaTarget, string][] = [
  ["FIRST_RESPONSE", "First response"],
  ["NEXT_RESPONSE", "Next response"],
  ["RESOLUTION", "Resolution"],
];

export function Report(props: { site: string }) {
  const [period, setPeriod] = useState<Period>(() => periodOf(7, new Date()));
  const [group, setGroup] = useState<SlaReportGroup>("AGENT");
  const [target, setTarget] = useState<SlaTarget>("FIRST_RESPONSE");
  const [csvError, setCsvError] = useState<string | null>(null);
  const { data, error } = useLoad<SlaReportQuery>(
    () => gql(SlaReportDocument, { siteId: props.site, from: period.from, to: period.to, groupBy: group }),
    [props.site, period.from, period.to, group],
  );
  const rows = data?.slaReport ?? [];
  const bars = reportBars(rows, target, group === "AGENT" ? "No agent" : "No team");
  const csv = async () => {
    setCsvError(null);
    const q = new URLSearchParams({ siteId: props.site, from: period.from, to: period.to, groupBy: group.toLowerCase() });
    try {
      await download(`/reports/sla.csv?${q}`, "sla-report.csv");
    } catch (e) {
      setCsvError(describeError(e));
    }
  };
  return (
    <>
      <Problem error={error ?? csvError} />
      <div class="inline-form">
        <label class="field">
          <span>Period</span>
          <select class="select" value={period.days} onChange={(e) => setPeriod(periodOf(Number(e.currentTarget.value), new Date()))}>
            <option value={1}>Last 24 hours</option>
            <option value={7}>Last 7 days</option>
            <option value={30}>Last 30 days</option>
            <option value={90}>Last 90 days</option>
          </select>
        </label>
        <label class="field">
          <span>Per</span>
          <select class="select" value={group} onChange={(e) => setGroup(e.currentTarget.value as SlaReportGroup)}>
            <option value="AGENT">Agent</option>
            <option value="TEAM">Team</option>
          </select>
        </label>
        <label class="field">
          <span>Target in the chart</span>
          <select class="select" value={target} onChange={(e) => setTarget(e.currentTarget.value as SlaTarget)}>
            {TARGETS.map(([t, l]) => (
              <option key={t} value={t}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="btn" onClick={csv} data-testid="sla-csv">
          Download CSV
        </button>
      </div>
      <figure class="chart" data-testid="sla-chart">
        <figcaption class="muted small">
          {TARGETS.find((t) => t[0] === target)?.[1]}: clocks met and missed, {dateTime(period.from)} – {dateTime(period.to)}
        </figcaption>
        {bars.length === 0 ? <p class="muted pad">No SLA clock ended in this period.</p> : <BarChart bars={bars} />}
      </figure>
      <table class="table" data-testid="sla-table">
        <caption class="visually-hidden">SLA report</caption>
        <thead>
          <tr>
            <th scope="col">{group === "AGENT" ? "Agent" : "Team"}</th>
            <th scope="col">Target</th>
            <th scope="col">Met</th>
            <th scope="col">Missed</th>
            <th scope="col">Met in time</th>
            <th scope="col">Median (met)</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={6} class="muted">
                No data.
              </td>
            </tr>
          ) : null}
          {rows.map((r, i) => (
            <tr key={i}>
              <td>{(group === "AGENT" ? r.agentName : r.teamName) ?? (group === "AGENT" ? "No agent" : "No team")}</td>
              <td>{TARGETS.find((t) => t[0] === r.target)?.[1] ?? r.target}</td>
              <td class="mono">{r.met}</td>
              <td class="mono">{r.missed}</td>
              <td class="mono">{r.met + r.missed ? `${Math.round((100 * r.met) / (r.met + r.missed))} %` : "—"}</td>
              <td class="mono">{r.medianSecs == null ? "—" : formatSecs(r.medianSecs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function formatSecs(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function BarChart(props: { bars: ReturnType<typeof reportBars> }) {
  const rowH = 26;
  const labelW = 150;
  const width = 640;
  const barW = width - labelW - 60;
  const height = props.bars.length * rowH + 24;
  return (
    <svg class="bars" viewBox={`0 0 ${width} ${height}`} width="100%" height={height} role="img" aria-label="Met and missed SLA clocks per row">
      {props.bars.map((b, i) => {
        const y = i * rowH + 4;
        const met = b.total ? (barW * b.met) / b.total : 0;
        return (
          <g key={b.label}>
            <text x={labelW - 8} y={y + 14} text-anchor="end">
              {b.label.length > 22 ? `${b.label.slice(0, 21)}…` : b.label}
            </text>
            <rect class="bar-met" x={labelW} y={y} width={met} height={rowH - 8} rx={3} />
            <rect class="bar-missed" x={labelW + met} y={y} width={barW - met} height={rowH - 8} rx={3} />
            <text x={labelW + barW + 6} y={y + 14}>
              {b.total ? `${Math.round((100 * b.met) / b.total)}%` : "—"}
            </text>
          </g>
        );
      })}
      <g transform={`translate(${labelW}, ${height - 6})`}>
        <rect class="bar-met" x={0} y={-9} width={10} height={10} />
        <text x={14} y={0}>
          met
        </text>
        <rect class="bar-missed" x={54} y={-9} width={10} height={10} />
        <text x={68} y={0}>
          missed
        </text>
      </g>
    </svg>
  );
}
