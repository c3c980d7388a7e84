//! Routing settings: define a site's routing rules and auto-assignment
//! (admins), and read them back (anyone on the site). The rules are in
//! `docs/sla-and-routing.md`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::Utc;
use livedesk_domain::routing::{RoutingConditions as DomainConditions, RoutingRule as DomainRule};
use livedesk_domain::site::{SiteCommand, SlaAndRouting};
use livedesk_domain::{RoutingRuleId, TeamId};
use uuid::Uuid;

use super::sla::{change_site, from_domain_provider, to_domain_provider};
use super::types::{Provider, parse_id};
use super::{api, principal};
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};

/// Which conversations a rule covers. Every non-empty list must match;
/// within a list one value is enough; all empty is a catch-all.
#[derive(Debug, Clone, Default, InputObject, SimpleObject)]
#[graphql(input_name = "RoutingConditionsInput")]
pub struct RoutingConditions {
    /// Page path prefixes where the chat started (`/help` matches
    /// `/help/faq`, not `/helpdesk`).
    #[graphql(default)]
    pub page_path_prefixes: Vec<String>,
    /// Labels the visitor carries (case-insensitive).
    #[graphql(default)]
    pub visitor_labels: Vec<String>,
    /// Where the conversation came from.
    #[graphql(default)]
    pub providers: Vec<Provider>,
    /// Language ranges (`de`, `de-AT`) matched against the browser's
    /// preferred language.
    #[graphql(default)]
    pub languages: Vec<String>,
}

/// A routing rule to define.
#[derive(Debug, Clone, InputObject)]
pub struct RoutingRuleInput {
    /// Its id; a new one is made when left out. Keep the id to keep a
    /// rule's identity across redefinitions.
    pub id: Option<ID>,
    /// Which conversations it covers; left out covers all.
    #[graphql(default)]
    pub conditions: RoutingConditions,
    /// The team of the site they go to.
    pub team_id: ID,
}

/// A routing rule of a site.
#[derive(Debug, Clone, SimpleObject)]
pub struct RoutingRule {
    /// Its id.
    pub id: ID,
    /// Which conversations it covers.
    pub conditions: RoutingConditions,
    /// The team they go to.
    pub team_id: ID,
}

/// Whether routed conversations go to an agent automatically, and when
/// they are reassigned.
#[derive(Debug, Clone, SimpleObject)]
pub struct AutoAssignment {
    /// On: a routed conversation goes to the team's least busy online
    /// agent; off: it waits in the team's queue.
    pub enabled: bool,
    /// Seconds an agent may leave the visitor unanswered before the
    /// conversation is reassigned; `null` never.
    pub reassign_after_secs: Option<i32>,
    /// Whether an agent's conversations are reassigned when they go
    /// offline.
    pub reassign_when_offline: bool,
}

/// A site's routing rules (in order: the first match routes) and
/// auto-assignment.
#[derive(Debug, Clone, SimpleObject)]
pub struct RoutingSettings {
    /// The rules, in order.
    pub rules: Vec<RoutingRule>,
    /// Auto-assignment and reassignment.
    pub auto_assignment: AutoAssignment,
}

/// Reading routing settings.
#[derive(Debug, Default)]
pub struct RoutingQuery;

#[Object]
impl RoutingQuery {
    /// The site's routing rules and auto-assignment.
    async fn routing_settings(&self, ctx: &Context<'_>, site_id: ID) -> ApiResult<RoutingSettings> {
        let site = parse_id("siteId", &site_id)?;
        principal(ctx)?.require_on(site, Permission::Read)?;
        settings(ctx, site).await
    }
}

/// Changing routing settings (admins).
#[derive(Debug, Default)]
pub struct RoutingMutation;

#[Object]
impl RoutingMutation {
    /// Replaces the site's routing rules (the whole ordered list; the
    /// first match routes a new conversation).
    async fn define_routing_rules(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        rules: Vec<RoutingRuleInput>,
    ) -> ApiResult<RoutingSettings> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let rules = rules.into_iter().map(to_domain_rule).collect::<ApiResult<Vec<_>>>()?;
        let command = SiteCommand::DefineRoutingRules { rules, at: Utc::now() };
        change_site(ctx, site, command, principal).await?;
        settings(ctx, site).await
    }

    /// Switches auto-assignment on or off and sets when conversations are
    /// reassigned (`reassignAfterSecs` 30 to 86,400; `null` never).
    async fn configure_auto_assignment(
        &self,
        ctx: &Context<'_>,
        site_id: ID,
        enabled: bool,
        reassign_after_secs: Option<i32>,
        #[graphql(default = false)] reassign_when_offline: bool,
    ) -> ApiResult<RoutingSettings> {
        let site = parse_id("siteId", &site_id)?;
        let principal = principal(ctx)?;
        principal.require_on(site, Permission::ManageSite)?;
        let reassign_after_secs = reassign_after_secs
            .map(|v| u32::try_from(v).map_err(|_| ApiError::BadInput("reassignAfterSecs must be 30 to 86400".into())))
            .transpose()?;
        let command = SiteCommand::ConfigureAutoAssignment {
            enabled,
            reassign_after_secs,
            reassign_when_offline,
            at: Utc::now(),
        };
        change_site(ctx, site, command, principal).await?;
        settings(ctx, site).await
    }
}

/// The site's routing settings, folded from its stream (the write side:
/// what routing reads too).
async fn settings(ctx: &Context<'_>, site: Uuid) -> ApiResult<RoutingSettings> {
    let state = api(ctx).commands.sites.load(site).await?;
    let profile = state
        .active()
        .ok_or_else(|| ApiError::NotFound("no such site".into()))?;
    Ok(from_domain(&profile.sla_and_routing))
}

fn to_domain_rule(input: RoutingRuleInput) -> ApiResult<DomainRule> {
    let id = match &input.id {
        Some(id) => parse_id("rules.id", id)?,
        None => Uuid::now_v7(),
    };
    let c = input.conditions;
    Ok(DomainRule {
        id: RoutingRuleId(id),
        conditions: DomainConditions {
            page_path_prefixes: c.page_path_prefixes,
            visitor_labels: c.visitor_labels,
            providers: c.providers.into_iter().map(to_domain_provider).collect(),
            languages: c.languages,
        },
        team_id: TeamId(parse_id("rules.teamId", &input.team_id)?),
    })
}

fn from_domain(config: &SlaAndRouting) -> RoutingSettings {
    let rules = config
        .routing_rules
        .iter()
        .map(|r| RoutingRule {
            id: ID(r.id.0.to_string()),
            conditions: RoutingConditions {
                page_path_prefixes: r.conditions.page_path_prefixes.clone(),
                visitor_labels: r.conditions.visitor_labels.clone(),
                providers: r
                    .conditions
                    .providers
                    .iter()
                    .map(|p| from_domain_provider(*p))
                    .collect(),
                languages: r.conditions.languages.clone(),
            },
            team_id: ID(r.team_id.0.to_string()),
        })
        .collect();
    let a = config.auto_assignment;
    RoutingSettings {
        rules,
        auto_assignment: AutoAssignment {
            enabled: a.enabled,
            reassign_after_secs: a.reassign_after_secs.map(|v| i32::try_from(v).unwrap_or(i32::MAX)),
            reassign_when_offline: a.reassign_when_offline,
        },
    }
}
