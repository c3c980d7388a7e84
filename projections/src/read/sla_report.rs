//! The SLA report: per agent or per team, per target, how many clocks
//! ended met and missed within a period, and the median time the met ones
//! took (`docs/sla-and-routing.md`, "The SLA report").

use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use sqlx::PgPool;
use uuid::Uuid;

/// Whom the report credits a clock to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaReportGroup {
    /// The agent holding the conversation when the clock ended.
    Agent,
    /// The conversation's team when the clock ended.
    Team,
}

/// One line of the report: a group and a target.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SlaReportRow {
    /// The agent or team; `None` for clocks that ended with none.
    pub group_id: Option<Uuid>,
    /// The agent's name (`agents`) or the team's (`teams`), if known.
    pub group_name: Option<String>,
    /// `first_response`, `next_response` or `resolution`.
    pub target: String,
    /// Clocks fulfilled in time.
    pub met: i64,
    /// Clocks breached.
    pub missed: i64,
    /// The median seconds from start to end of the met clocks whose start
    /// is known; `None` when there are none.
    pub median_secs: Option<f64>,
}

/// The report's statement for one grouping column and the table naming
/// its groups.
macro_rules! report_sql {
    ($column:literal, $names:literal) => {
        concat!(
            "SELECT g.group_id, n.name AS group_name, g.target, g.met, g.missed, g.median_secs FROM (",
            "SELECT ",
            $column,
            " AS group_id, target, count(*) FILTER (WHERE met) AS met, count(*) FILTER (WHERE NOT met) AS missed, ",
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at)::float8) ",
            "FILTER (WHERE met) AS median_secs ",
            "FROM sla_results WHERE site_id = $1 AND ended_at >= $2 AND ended_at < $3 ",
            "GROUP BY ",
            $column,
            ", target) g ",
            $names,
            " ORDER BY group_name NULLS LAST, g.group_id NULLS LAST, g.target"
        )
    };
}

const BY_AGENT: &str = report_sql!(
    "agent_id",
    "LEFT JOIN LATERAL (SELECT a.name FROM agents a WHERE a.agent_id = g.group_id) n ON true"
);
const BY_TEAM: &str = report_sql!(
    "team_id",
    "LEFT JOIN LATERAL (SELECT t.name FROM teams t WHERE t.team_id = g.group_id) n ON true"
);

/// The report of `site` over the clocks that ended in `[from, to)`, by
/// group name (groups without a name, then clocks without a group, last)
/// and target, row by row as the database returns them (the index
/// `sla_results_site_ended` finds the period's clocks).
pub fn sla_report_stream(
    pool: &PgPool,
    site: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group: SlaReportGroup,
) -> BoxStream<'_, Result<SlaReportRow, sqlx::Error>> {
    let sql = match group {
        SlaReportGroup::Agent => BY_AGENT,
        SlaReportGroup::Team => BY_TEAM,
    };
    sqlx::query_as::<_, SlaReportRow>(sql)
        .bind(site)
        .bind(from)
        .bind(to)
        .fetch(pool)
        .boxed()
}

/// [`sla_report_stream`], collected.
///
/// # Errors
///
/// The database's.
pub async fn sla_report(
    pool: &PgPool,
    site: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group: SlaReportGroup,
) -> Result<Vec<SlaReportRow>, sqlx::Error> {
    sla_report_stream(pool, site, from, to, group).try_collect().await
}
