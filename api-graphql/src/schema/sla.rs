//! SLA settings: define a site's SLA policies and business hours (admins),
//! and read them back (anyone on the site). The SLA engine
//! (`livedesk-automation`) applies them to conversations.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{NaiveDate, Utc};
use livedesk_domain::conversation::Provider as DomainProvider;
use livedesk_domain::site::{SiteCommand, SlaAndRouting};
use livedesk_domain::sla::{self, SlaConditions as DomainConditions, SlaPolicy as DomainPolicy};
use livedesk_domain::{SlaPolicyId, TeamId};
use uuid::Uuid;

use super::types::{Provider, parse_id};
use super::{api, principal};
use crate::auth::Permission;
use crate::commands::ReadModel;
use crate::error::{ApiError, ApiResult};

/// A day of the week.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

/// Which conversations a policy covers. Every non-empty list must match;
/// within a list one value is enough; all empty covers every conversation.
#[derive(Debug, Clone, Default, InputObject, SimpleObject)]
#[graphql(input_name = "SlaConditionsInput")]
pub struct SlaConditions {
    /// Where the conversation came from.
    #[graphql(default)]
    pub providers: Vec<Provider>,
    /// Labels the visitor carries (case-insensitive).
    #[graphql(default)]
    pub visitor_labels: Vec<String>,
    /// Teams the conversation is assigned to.
    #[graphql(default)]
    pub team_ids: Vec<ID>,
    /// Page path prefixes where the chat started (`/help` matches
    /// `/help/faq`, not `/helpdesk`).
    #[graphql(default)]
    pub page_path_prefixes: Vec<String>,
}

/// An SLA policy to define. Targets are seconds of business time, 1 to
/// 7,776,000; at least one.
#[derive(Debug, Clone, InputObject)]
pub struct SlaPolicyInput {
    /// Its id; a new one is made when left out. Keep the id to keep a
    /// policy's identity across redefinitions.
    pub id: Option<ID>,
    /// What admins call it.
    pub name: String,
    /// Which conversations it covers; left out covers all.
    #[graphql(default)]
    pub conditions: SlaConditions,
    /// From opening to the first human reply.
    pub first_response_secs: Option<i32>,
    /// From a visitor message to the next human reply.
    pub next_response_secs: Option<i32>,
    /// From opening to Done.
    pub resolution_secs: Option<i32>,
}

/// An SLA policy of a site.
#[derive(Debug, Clone, SimpleObject)]
pub struct SlaPolicy {
    /// Its id.
    pub id: ID,
    /// Its name.
    pub name: String,
    /// Which conversations it covers.
    pub conditions: SlaConditions,
    /// Seconds from opening to the first human reply.
    pub first_response_secs: Option<i32>,
    /// Seconds from a visitor message to the next human reply.
    pub next_response_secs: Option<i32>,
    /// Seconds from opening to Done.
    pub resolution_secs: Option<i32>,
}

/// One weekly interval of business hours, in minutes after local midnight
/// (`startMinute < endMinute <= 1440`).
#[derive(Debug, Clone, InputObject, SimpleObject)]
#[graphql(input_name = "WeeklyIntervalInput")]
pub struct WeeklyInterval {
    /// The day.
    pub weekday: Weekday,
    /// Opening (540 is 09:00).
    pub start_minute: i32,
    /// Closing (1020 is 17:00; 1440 is 24:00).
    pub end_minute: i32,
}

/// When a site's SLA clocks run.
#[derive(Debug, Clone, InputObject, SimpleObject)]
#[graphql(input_name = "BusinessHoursInput")]
pub struct BusinessHours {
    /// IANA time zone (`Europe/Berlin`).
    pub time_zone: String,
    /// Open intervals of the week.
    pub weekly: Vec<WeeklyInterval>,
    /// Dates (in the zone) on which the clocks do not run.
    #[graphql(default)]
    pub holidays: Vec<NaiveDate>,
}

/// A site's SLA policies (in order: the first match applies) and business
/// hours (`null`: clocks always run).
#[derive(Debug, Clone, SimpleObject)]
pub struct SlaSettings {
    /// The policies, in order.
    pub policies: Vec<SlaPolicy>,
    /// The business hours, if set.
    pub business_hours: Option<BusinessHours>,
}

/// Reading SLA settings.
#[derive(Debug, Default)]
pub struct SlaQuery;

#[Object]
impl SlaQuery {
    /// The site's SLA policies and business hours.
    async fn sla_settings(&self, ctx: &Context<'_>, site_id: ID) -> ApiResult<SlaSettings> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        settings(ctx, site).await
    }
}

/// Changing SLA settings (admins).
#[derive(Debug, Default)]
pub struct SlaMutation;

#[Object]
impl SlaMutation {
    /// Replaces the site's SLA policies (the whole ordered list). Clocks
    /// already running keep their due times; conversations opened from now
    /// on, or whose team or visitor labels change, get the new policies.
    async fn define_sla_policies(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        policies: Vec<SlaPolicyInput>,
    ) -> ApiResult<SlaSettings> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let policies = policies
            .into_iter()
            .map(to_domain_policy)
            .collect::<ApiResult<Vec<_>>>()?;
        let command = SiteCommand::DefineSlaPolicies {
            policies,
            at: Utc::now(),
        };
        change_site(ctx, site, command, principal).await?;
        settings(ctx, site).await
    }

    /// Sets the site's business hours; `null` clears them (clocks always
    /// run).
    async fn set_business_hours(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        hours: Option<BusinessHours>,
    ) -> ApiResult<SlaSettings> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let hours = hours.map(to_domain_hours).transpose()?;
        let command = SiteCommand::SetBusinessHours { hours, at: Utc::now() };
        change_site(ctx, site, command, principal).await?;
        settings(ctx, site).await
    }
}

/// Runs an admin's settings command on `site` and waits until the
/// directory read model has it (the SLA and routing mutations).
pub(super) async fn change_site(
    ctx: &Context<'_>,
    site: Uuid,
    command: SiteCommand,
    principal: &crate::auth::Principal,
) -> ApiResult<()> {
    let api = api(ctx);
    api.commands
        .run(
            &api.commands.sites,
            site,
            command,
            principal,
            site,
            ReadModel::Directory,
        )
        .await?;
    Ok(())
}

/// The site's SLA settings, folded from its stream (the write side: what
/// the SLA engine reads too).
async fn settings(ctx: &Context<'_>, site: Uuid) -> ApiResult<SlaSettings> {
    let state = api(ctx).commands.sites.load(site).await?;
    let profile = state
        .active()
        .ok_or_else(|| ApiError::NotFound("no such site".into()))?;
    Ok(from_domain(&profile.sla_and_routing))
}

fn secs(argument: &str, value: Option<i32>) -> ApiResult<Option<u32>> {
    value
        .map(|v| u32::try_from(v).map_err(|_| ApiError::BadInput(format!("{argument} must not be negative"))))
        .transpose()
}

fn minute(argument: &str, value: i32) -> ApiResult<u16> {
    u16::try_from(value).map_err(|_| ApiError::BadInput(format!("{argument} must be 0 to 1440")))
}

fn to_domain_policy(input: SlaPolicyInput) -> ApiResult<DomainPolicy> {
    let id = match &input.id {
        Some(id) => parse_id("policies.id", id)?,
        None => Uuid::now_v7(),
    };
    let c = input.conditions;
    let teams = c
        .team_ids
        .iter()
        .map(|t| parse_id("conditions.teamIds", t).map(TeamId))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(DomainPolicy {
        id: SlaPolicyId(id),
        name: input.name,
        conditions: DomainConditions {
            providers: c.providers.into_iter().map(to_domain_provider).collect(),
            visitor_labels: c.visitor_labels,
            teams,
            page_path_prefixes: c.page_path_prefixes,
        },
        first_response_secs: secs("firstResponseSecs", input.first_response_secs)?,
        next_response_secs: secs("nextResponseSecs", input.next_response_secs)?,
        resolution_secs: secs("resolutionSecs", input.resolution_secs)?,
    })
}

fn to_domain_hours(input: BusinessHours) -> ApiResult<sla::BusinessHours> {
    let weekly = input
        .weekly
        .into_iter()
        .map(|i| {
            Ok(sla::WeeklyInterval {
                weekday: to_chrono(i.weekday),
                start_minute: minute("startMinute", i.start_minute)?,
                end_minute: minute("endMinute", i.end_minute)?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(sla::BusinessHours {
        time_zone: input.time_zone,
        weekly,
        holidays: input.holidays,
    })
}

fn from_domain(config: &SlaAndRouting) -> SlaSettings {
    let int = |v: Option<u32>| v.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
    let policies = config
        .sla_policies
        .iter()
        .map(|p| SlaPolicy {
            id: ID(p.id.0.to_string()),
            name: p.name.clone(),
            conditions: SlaConditions {
                providers: p
                    .conditions
                    .providers
                    .iter()
                    .map(|p| from_domain_provider(*p))
                    .collect(),
                visitor_labels: p.conditions.visitor_labels.clone(),
                team_ids: p.conditions.teams.iter().map(|t| ID(t.0.to_string())).collect(),
                page_path_prefixes: p.conditions.page_path_prefixes.clone(),
            },
            first_response_secs: int(p.first_response_secs),
            next_response_secs: int(p.next_response_secs),
            resolution_secs: int(p.resolution_secs),
        })
        .collect();
    let business_hours = config.business_hours.as_ref().map(|h| BusinessHours {
        time_zone: h.time_zone.clone(),
        weekly: h
            .weekly
            .iter()
            .map(|i| WeeklyInterval {
                weekday: from_chrono(i.weekday),
                start_minute: i32::from(i.start_minute),
                end_minute: i32::from(i.end_minute),
            })
            .collect(),
        holidays: h.holidays.clone(),
    });
    SlaSettings {
        policies,
        business_hours,
    }
}

pub(super) fn to_domain_provider(p: Provider) -> DomainProvider {
    match p {
        Provider::WebChat => DomainProvider::WebChat,
        Provider::Facebook => DomainProvider::Facebook,
        Provider::Api => DomainProvider::Api,
    }
}

pub(super) fn from_domain_provider(p: DomainProvider) -> Provider {
    match p {
        DomainProvider::WebChat => Provider::WebChat,
        DomainProvider::Facebook => Provider::Facebook,
        DomainProvider::Api => Provider::Api,
    }
}

fn to_chrono(day: Weekday) -> chrono::Weekday {
    match day {
        Weekday::Mon => chrono::Weekday::Mon,
        Weekday::Tue => chrono::Weekday::Tue,
        Weekday::Wed => chrono::Weekday::Wed,
        Weekday::Thu => chrono::Weekday::Thu,
        Weekday::Fri => chrono::Weekday::Fri,
        Weekday::Sat => chrono::Weekday::Sat,
        Weekday::Sun => chrono::Weekday::Sun,
    }
}

fn from_chrono(day: chrono::Weekday) -> Weekday {
    match day {
        chrono::Weekday::Mon => Weekday::Mon,
        chrono::Weekday::Tue => Weekday::Tue,
        chrono::Weekday::Wed => Weekday::Wed,
        chrono::Weekday::Thu => Weekday::Thu,
        chrono::Weekday::Fri => Weekday::Fri,
        chrono::Weekday::Sat => Weekday::Sat,
        chrono::Weekday::Sun => Weekday::Sun,
    }
}
