// Admin: SLA policies and business hours; routing rules and auto-assignment.
import { useEffect, useState } from "preact/hooks";
import { gql, useLoad, Problem, useAction } from "./admin";
import {
  AdminSlaDocument,
  DefineSlaPoliciesDocument,
  SetBusinessHoursDocument,
  AdminRoutingDocument,
  DefineRoutingRulesDocument,
  ConfigureAutoAssignmentDocument,
  type Weekday,
  type Provider,
} from "../gql/generated";

const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
const minutes = (secs: number | null | undefined) => (secs == null ? "" : String(Math.round(secs / 60)));
const secs = (mins: string) => (mins.trim() === "" ? null : Math.round(Number(mins) * 60));

interface PolicyDraft {
  id: string | null;
  name: string;
  labels: string;
  paths: string;
  teamIds: string[];
  providers: Provider[];
  first: string;
  next: string;
  resolution: string;
}

const DAYS: Weekday[] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
const toMin = (s: string) => {
  const [h, m] = s.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

export function Sla(props: { site: string }) {
  const { data, error, reload } = useLoad(() => gql(AdminSlaDocument, { siteId: props.site }), [props.site]);
  const { run, status } = useAction();
  const [policies, setPolicies] = useState<PolicyDraft[] | null>(null);
  const [hours, setHours] = useState<{ on: boolean; zone: string; days: Record<string, { on: boolean; start: string; end: string }>; holidays: string } | null>(null);
  useEffect(() => {
    if (!data) return;
    setPolicies(
      data.slaSettings.policies.map((p) => ({
        id: p.id,
        name: p.name,
        labels: p.conditions.visitorLabels.join(", "),
        paths: p.conditions.pagePathPrefixes.join(", "),
        teamIds: p.conditions.teamIds,
        providers: p.conditions.providers,
        first: minutes(p.firstResponseSecs),
        next: minutes(p.nextResponseSecs),
        resolution: minutes(p.resolutionSecs),
      })),
    );
    const bh = data.slaSettings.businessHours;
    const days: Record<string, { on: boolean; start: string; end: string }> = {};
    for (const d of DAYS) {
      const w = bh?.weekly.find((x) => x.weekday === d);
      days[d] = w ? { on: true, start: hhmm(w.startMinute), end: hhmm(w.endMinute) } : { on: !bh && !["SAT", "SUN"].includes(d), start: "09:00", end: "17:00" };
    }
    setHours({ on: !!bh, zone: bh?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, days, holidays: bh?.holidays.join(", ") ?? "" });
  }, [data]);
  if (!data || !policies || !hours) return <Problem error={error} />;
  const set = (i: number, patch: Partial<PolicyDraft>) => setPolicies(policies.map((p, j) => (j === i ? { ...p, ...patch } : p)));

  return (
    <>
      <Problem error={error} />
      {status}
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const input = policies.map((p) => ({
            id: p.id,
            name: p.name.trim(),
            conditions: { visitorLabels: list(p.labels), pagePathPrefixes: list(p.paths), teamIds: p.teamIds, providers: p.providers },
            firstResponseSecs: secs(p.first),
            nextResponseSecs: secs(p.next),
            resolutionSecs: secs(p.resolution),
          }));
          if (await run("SLA policies saved.", () => gql(DefineSlaPoliciesDocument, { siteId: props.site, policies: input }))) reload();
        }}
      >
        <p class="muted">Policies in order: the first that matches a conversation applies. Targets in business minutes; leave a target empty to not measure it.</p>
        {policies.map((p, i) => (
          <fieldset class="card" key={i}>
            <legend>Policy {i + 1}</legend>
            <div class="inline-form">
              <label class="field">
                <span>Name</span>
                <input class="input" value={p.name} required onInput={(e) => set(i, { name: e.currentTarget.value })} />
              </label>
              <label class="field">
                <span>First response (min)</span>
                <input class="input" type="number" min="1" value={p.first} onInput={(e) => set(i, { first: e.currentTarget.value })} />
              </label>
              <label class="field">
                <span>Next response (min)</span>
                <input class="input" type="number" min="1" value={p.next} onInput={(e) => set(i, { next: e.currentTarget.value })} />
              </label>
              <label class="field">
                <span>Resolution (min)</span>
                <input class="input" type="number" min="1" value={p.resolution} onInput={(e) => set(i, { resolution: e.currentTarget.value })} />
              </label>
            </div>
            <div class="inline-form">
              <label class="field">
                <span>Visitor labels (any)</span>
                <input class="input" value={p.labels} onInput={(e) => set(i, { labels: e.currentTarget.value })} />
              </label>
              <label class="field">
                <span>Page path prefixes</span>
                <input class="input" value={p.paths} placeholder="/pricing, /help" onInput={(e) => set(i, { paths: e.currentTarget.value })} />
              </label>
              <label class="field">
                <span>Teams</span>
                <select class="select" multiple onChange={(e) => set(i, { teamIds: [...e.currentTarget.selectedOptions].map((o) => o.value) })}>
                  {data.teams.map((t) => (
                    <option key={t.id} value={t.id} selected={p.teamIds.includes(t.id)}>
                      {t.name}
                    </option>
                  ))}
                </select>
              </label>
              <button type="button" class="btn btn-danger" onClick={() => setPolicies(policies.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          </fieldset>
        ))}
        <div class="row-gap">
          <button type="button" class="btn" onClick={() => setPolicies([...policies, { id: null, name: "", labels: "", paths: "", teamIds: [], providers: [], first: "5", next: "", resolution: "" }])}>
            Add a policy
          </button>
          <button type="submit" class="btn btn-primary">
            Save policies
          </button>
        </div>
      </form>

      <form
        class="form card"
        onSubmit={async (e) => {
          e.preventDefault();
          const weekly = DAYS.filter((d) => hours.days[d]!.on).map((d) => ({ weekday: d, startMinute: toMin(hours.days[d]!.start), endMinute: toMin(hours.days[d]!.end) || 1440 }));
          const input = hours.on ? { timeZone: hours.zone.trim(), weekly, holidays: list(hours.holidays) } : null;
          if (await run("Business hours saved.", () => gql(SetBusinessHoursDocument, { siteId: props.site, hours: input }))) reload();
        }}
      >
        <h3>Business hours</h3>
        <label class="switch">
          <input type="checkbox" checked={hours.on} onChange={(e) => setHours({ ...hours, on: e.currentTarget.checked })} />
          <span>SLA clocks run only in business hours (off: always)</span>
        </label>
        {hours.on ? (
          <>
            <label class="field">
              <span>Time zone (IANA)</span>
              <input class="input" value={hours.zone} onInput={(e) => setHours({ ...hours, zone: e.currentTarget.value })} />
            </label>
            {DAYS.map((d) => {
              const day = hours.days[d]!;
              const setDay = (patch: Partial<typeof day>) => setHours({ ...hours, days: { ...hours.days, [d]: { ...day, ...patch } } });
              return (
                <div class="row-gap" key={d}>
                  <label class="switch">
                    <input type="checkbox" checked={day.on} onChange={(e) => setDay({ on: e.currentTarget.checked })} />
                    <span class="mono">{d}</span>
                  </label>
                  <input class="input" type="time" aria-label={`${d} opens`} value={day.start} disabled={!day.on} onInput={(e) => setDay({ start: e.currentTarget.value })} />
                  <span aria-hidden="true">–</span>
                  <input class="input" type="time" aria-label={`${d} closes`} value={day.end} disabled={!day.on} onInput={(e) => setDay({ end: e.currentTarget.value })} />
                </div>
              );
            })}
            <label class="field">
              <span>Holidays (YYYY-MM-DD, comma separated)</span>
              <input class="input" value={hours.holidays} onInput={(e) => setHours({ ...hours, holidays: e.currentTarget.value })} />
            </label>
          </>
        ) : null}
        <div>
          <button type="submit" class="btn btn-primary">
            Save business hours
          </button>
        </div>
      </form>
    </>
  );
}

interface RuleDraft {
  id: string | null;
  teamId: string;
  paths: string;
  labels: string;
  languages: string;
}

export function Routing(props: { site: string }) {
  const { data, error, reload } = useLoad(() => gql(AdminRoutingDocument, { siteId: props.site }), [props.site]);
  const { run, status } = useAction();
  const [rules, setRules] = useState<RuleDraft[] | null>(null);
  const [auto, setAuto] = useState<{ enabled: boolean; after: string; offline: boolean } | null>(null);
  useEffect(() => {
    if (!data) return;
    const r = data.routingSettings;
    setRules(r.rules.map((x) => ({ id: x.id, teamId: x.teamId, paths: x.conditions.pagePathPrefixes.join(", "), labels: x.conditions.visitorLabels.join(", "), languages: x.conditions.languages.join(", ") })));
    setAuto({ enabled: r.autoAssignment.enabled, after: r.autoAssignment.reassignAfterSecs == null ? "" : String(r.autoAssignment.reassignAfterSecs), offline: r.autoAssignment.reassignWhenOffline });
  }, [data]);
  if (!data || !rules || !auto) return <Problem error={error} />;
  const set = (i: number, patch: Partial<RuleDraft>) => setRules(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <>
      {status}
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const input = rules.map((r) => ({ id: r.id, teamId: r.teamId, conditions: { pagePathPrefixes: list(r.paths), visitorLabels: list(r.labels), languages: list(r.languages), providers: [] } }));
          if (await run("Routing rules saved.", () => gql(DefineRoutingRulesDocument, { siteId: props.site, rules: input }))) reload();
        }}
      >
        <p class="muted">Rules in order: the first match routes a new conversation to its team. A rule without conditions catches all.</p>
        {data.teams.length === 0 ? <p class="muted">Create a team first (Teams and members).</p> : null}
        <table class="table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Page path prefixes</th>
              <th scope="col">Visitor labels</th>
              <th scope="col">Languages</th>
              <th scope="col">Team</th>
              <th scope="col">
                <span class="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r, i) => (
              <tr key={i}>
                <td class="mono">{i + 1}</td>
                <td>
                  <input class="input" aria-label={`Rule ${i + 1} page paths`} value={r.paths} placeholder="/pricing" onInput={(e) => set(i, { paths: e.currentTarget.value })} />
                </td>
                <td>
                  <input class="input" aria-label={`Rule ${i + 1} labels`} value={r.labels} onInput={(e) => set(i, { labels: e.currentTarget.value })} />
                </td>
                <td>
                  <input class="input" aria-label={`Rule ${i + 1} languages`} value={r.languages} placeholder="de, en-GB" onInput={(e) => set(i, { languages: e.currentTarget.value })} />
                </td>
                <td>
                  <select class="select" aria-label={`Rule ${i + 1} team`} value={r.teamId} onChange={(e) => set(i, { teamId: e.currentTarget.value })}>
                    {data.teams.map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.name}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <button type="button" class="btn btn-small btn-danger" onClick={() => setRules(rules.filter((_, j) => j !== i))}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="row-gap">
          <button type="button" class="btn" disabled={data.teams.length === 0} onClick={() => setRules([...rules, { id: null, teamId: data.teams[0]!.id, paths: "", labels: "", languages: "" }])}>
            Add a rule
          </button>
          <button type="submit" class="btn btn-primary">
            Save rules
          </button>
        </div>
      </form>
      <form
        class="form card"
        onSubmit={async (e) => {
          e.preventDefault();
          await run("Auto-assignment saved.", () =>
            gql(ConfigureAutoAssignmentDocument, { siteId: props.site, enabled: auto.enabled, reassignAfterSecs: auto.after.trim() ? Number(auto.after) : null, reassignWhenOffline: auto.offline }),
          );
        }}
      >
        <h3>Auto-assignment</h3>
        <label class="switch">
          <input type="checkbox" checked={auto.enabled} onChange={(e) => setAuto({ ...auto, enabled: e.currentTarget.checked })} />
          <span>Assign routed conversations to the team's least busy online agent</span>
        </label>
        <label class="field">
          <span>Reassign when unanswered for (seconds, 30–86,400; empty: never)</span>
          <input class="input" type="number" min="30" max="86400" value={auto.after} onInput={(e) => setAuto({ ...auto, after: e.currentTarget.value })} />
        </label>
        <label class="switch">
          <input type="checkbox" checked={auto.offline} onChange={(e) => setAuto({ ...auto, offline: e.currentTarget.checked })} />
          <span>Reassign an agent's conversations when they go offline</span>
        </label>
        <div>
          <button type="submit" class="btn btn-primary">
            Save auto-assignment
          </button>
        </div>
      </form>
    </>
  );
}
