//! The SLA report (admins, supervisors and analysts): per agent or per
//! team and target, the clocks met and missed over a period and the median
//! time of the met ones. The same report is served as CSV by
//! `GET /reports/sla.csv` ([`crate::reports`]).

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::types::{SlaTarget, parse_id, stored};
use super::{api, principal};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::reads;

/// Longest period a report covers, in days.
pub const MAX_REPORT_DAYS: i64 = 366;

/// Whom the SLA report credits a clock to.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlaReportGroup {
    /// The agent holding the conversation when the clock ended.
    #[default]
    Agent,
    /// The conversation's team when the clock ended.
    Team,
}

impl From<SlaReportGroup> for reads::SlaReportGroup {
    fn from(group: SlaReportGroup) -> Self {
        match group {
            SlaReportGroup::Agent => Self::Agent,
            SlaReportGroup::Team => Self::Team,
        }
    }
}

/// One line of the SLA report: an agent or team (or none) and a target.
#[derive(Debug, Clone, SimpleObject)]
pub struct SlaReportRow {
    /// The agent (grouped by agent); `null` for clocks that ended while no
    /// agent held the conversation, and when grouped by team.
    pub agent_id: Option<ID>,
    /// The agent's name.
    pub agent_name: Option<String>,
    /// The team (grouped by team); `null` for clocks of conversations
    /// without a team, and when grouped by agent.
    pub team_id: Option<ID>,
    /// The team's name.
    pub team_name: Option<String>,
    /// What the clocks measured.
    pub target: SlaTarget,
    /// Clocks fulfilled in time.
    pub met: i32,
    /// Clocks breached.
    pub missed: i32,
    /// The median seconds the met clocks ran; `null` when none was met.
    pub median_secs: Option<f64>,
}

/// A checked report request: a site the caller may report on and a period
/// of at most [`MAX_REPORT_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRequest {
    /// The site.
    pub site: Uuid,
    /// The period's start (included).
    pub from: DateTime<Utc>,
    /// The period's end (excluded).
    pub to: DateTime<Utc>,
}

impl ReportRequest {
    /// Checks that `principal` may read reports of `site` and that the
    /// period `[from, to)` is not empty nor longer than a leap year.
    ///
    /// # Errors
    ///
    /// [`ApiError::Forbidden`] for another site or a role other than
    /// admin, supervisor and analyst; [`ApiError::BadInput`] for the
    /// period.
    pub fn check(principal: &Principal, site: Uuid, from: DateTime<Utc>, to: DateTime<Utc>) -> ApiResult<Self> {
        principal.require_on(site, Permission::ReadReports)?;
        if to <= from {
            return Err(ApiError::BadInput("`to` must be after `from`".into()));
        }
        if to - from > TimeDelta::days(MAX_REPORT_DAYS) {
            return Err(ApiError::BadInput(format!(
                "a report covers at most {MAX_REPORT_DAYS} days"
            )));
        }
        Ok(Self { site, from, to })
    }
}

impl SlaReportRow {
    /// The GraphQL row of a read model row.
    ///
    /// # Errors
    ///
    /// [`ApiError::Internal`] for an unknown stored target.
    pub fn new(row: reads::SlaReportRow, group: SlaReportGroup) -> ApiResult<Self> {
        let id = row.group_id.map(|id| ID(id.to_string()));
        let (agent_id, agent_name, team_id, team_name) = match group {
            SlaReportGroup::Agent => (id, row.group_name, None, None),
            SlaReportGroup::Team => (None, None, id, row.group_name),
        };
        Ok(Self {
            agent_id,
            agent_name,
            team_id,
            team_name,
            target: stored(&row.target)?,
            met: i32::try_from(row.met).unwrap_or(i32::MAX),
            missed: i32::try_from(row.missed).unwrap_or(i32::MAX),
            median_secs: row.median_secs,
        })
    }
}

/// Reports.
#[derive(Debug, Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Per agent (or team) and target, the SLA clocks that ended in
    /// `[from, to)`: met, missed, and the median seconds the met ones ran.
    /// Clocks ended with no agent (team) are on the row whose id is
    /// `null`. Admins, supervisors and analysts; at most 366 days.
    async fn sla_report(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default)] group_by: SlaReportGroup,
    ) -> ApiResult<Vec<SlaReportRow>> {
        let site = parse_id("siteId", &site_id)?;
        let request = ReportRequest::check(principal(ctx)?, site, from, to)?;
        let rows = reads::sla_report(&api(ctx).pool, request.site, request.from, request.to, group_by.into()).await?;
        rows.into_iter().map(|row| SlaReportRow::new(row, group_by)).collect()
    }
}
