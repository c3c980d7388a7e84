//! SLA policies, business hours, routing rules and auto-assignment: how
//! a site serves its conversations, and the decisions that change it.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::error::SiteError;
use super::event::{AutoAssignmentConfigured, BusinessHoursSet, RoutingRulesDefined, SiteEvent, SlaPoliciesDefined};
use super::state::SiteProfile;
use crate::conversation::Provider;
use crate::ids::TeamId;
use crate::limits::{
    self, InputError, MAX_BUSINESS_INTERVALS, MAX_CONDITION_VALUES, MAX_HOLIDAYS, MAX_NAME_CHARS,
    MAX_PATH_PREFIX_CHARS, MAX_ROUTING_RULES, MAX_SLA_POLICIES, MAX_SLA_TARGET_SECS, MAX_TAG_VALUE_CHARS,
    REASSIGN_AFTER_SECS,
};
use crate::matching::{is_language_range, is_path_prefix};
use crate::routing::{AutoAssignment, RoutingRule};
use crate::sla::{BusinessHours, MINUTES_PER_DAY, SlaPolicy};

type Decision = Result<Vec<SiteEvent>, SiteError>;

/// A site's rules for serving conversations: what the SLA timer and the
/// routing process read from the folded site stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaAndRouting {
    /// SLA policies in order; the first match applies.
    pub sla_policies: Vec<SlaPolicy>,
    /// Business hours; `None` runs clocks all the time.
    pub business_hours: Option<BusinessHours>,
    /// Routing rules in order; the first match routes.
    pub routing_rules: Vec<RoutingRule>,
    /// Auto-assignment and reassignment (on, no reassignment, by default).
    pub auto_assignment: AutoAssignment,
}

pub(super) fn define_sla_policies(site: &SiteProfile, policies: Vec<SlaPolicy>, at: DateTime<Utc>) -> Decision {
    limits::at_most_items("SLA policies", &policies, MAX_SLA_POLICIES)?;
    let mut ids = BTreeSet::new();
    for policy in &policies {
        if !ids.insert(policy.id) {
            return Err(SiteError::DuplicateSlaPolicy(policy.id));
        }
        validate_policy(site, policy)?;
    }
    if policies == site.sla_and_routing.sla_policies {
        return Ok(Vec::new());
    }
    Ok(vec![SiteEvent::SlaPoliciesDefined(SlaPoliciesDefined { policies, at })])
}

pub(super) fn set_business_hours(site: &SiteProfile, hours: Option<BusinessHours>, at: DateTime<Utc>) -> Decision {
    if let Some(hours) = &hours {
        validate_hours(hours)?;
    }
    if hours == site.sla_and_routing.business_hours {
        return Ok(Vec::new());
    }
    Ok(vec![SiteEvent::BusinessHoursSet(BusinessHoursSet { hours, at })])
}

pub(super) fn define_routing_rules(site: &SiteProfile, rules: Vec<RoutingRule>, at: DateTime<Utc>) -> Decision {
    limits::at_most_items("routing rules", &rules, MAX_ROUTING_RULES)?;
    let mut ids = BTreeSet::new();
    for rule in &rules {
        if !ids.insert(rule.id) {
            return Err(SiteError::DuplicateRoutingRule(rule.id));
        }
        let c = &rule.conditions;
        validate_path_prefixes(&c.page_path_prefixes)?;
        validate_labels(&c.visitor_labels)?;
        validate_providers(&c.providers)?;
        limits::at_most_items("languages", &c.languages, MAX_CONDITION_VALUES)?;
        if let Some(bad) = c.languages.iter().find(|range| !is_language_range(range)) {
            return Err(SiteError::InvalidLanguage(bad.clone()));
        }
        known_team(site, rule.team_id)?;
    }
    if rules == site.sla_and_routing.routing_rules {
        return Ok(Vec::new());
    }
    Ok(vec![SiteEvent::RoutingRulesDefined(RoutingRulesDefined { rules, at })])
}

pub(super) fn configure_auto_assignment(site: &SiteProfile, wanted: AutoAssignment, at: DateTime<Utc>) -> Decision {
    if wanted
        .reassign_after_secs
        .is_some_and(|secs| !REASSIGN_AFTER_SECS.contains(&secs))
    {
        return Err(InputError::Invalid {
            field: "reassign_after_secs",
            reason: "30 to 86400",
        }
        .into());
    }
    if wanted == site.sla_and_routing.auto_assignment {
        return Ok(Vec::new());
    }
    Ok(vec![SiteEvent::AutoAssignmentConfigured(AutoAssignmentConfigured {
        enabled: wanted.enabled,
        reassign_after_secs: wanted.reassign_after_secs,
        reassign_when_offline: wanted.reassign_when_offline,
        at,
    })])
}

fn validate_policy(site: &SiteProfile, policy: &SlaPolicy) -> Result<(), SiteError> {
    limits::required("SLA policy name", &policy.name, MAX_NAME_CHARS)?;
    let targets = [
        ("first_response_secs", policy.first_response_secs),
        ("next_response_secs", policy.next_response_secs),
        ("resolution_secs", policy.resolution_secs),
    ];
    if targets.iter().all(|(_, secs)| secs.is_none()) {
        return Err(SiteError::NoSlaTarget(policy.id));
    }
    for (field, secs) in targets {
        if secs.is_some_and(|secs| !(1..=MAX_SLA_TARGET_SECS).contains(&secs)) {
            return Err(InputError::Invalid {
                field,
                reason: "1 to 7776000 seconds (90 days)",
            }
            .into());
        }
    }
    let c = &policy.conditions;
    validate_providers(&c.providers)?;
    validate_labels(&c.visitor_labels)?;
    validate_path_prefixes(&c.page_path_prefixes)?;
    limits::at_most_items("teams", &c.teams, MAX_CONDITION_VALUES)?;
    c.teams.iter().try_for_each(|team| known_team(site, *team))
}

fn validate_hours(hours: &BusinessHours) -> Result<(), SiteError> {
    hours
        .zone()
        .map_err(|_| SiteError::UnknownTimeZone(hours.time_zone.clone()))?;
    if hours.weekly.is_empty() {
        return Err(InputError::Empty {
            field: "business hours intervals",
        }
        .into());
    }
    limits::at_most_items("business hours intervals", &hours.weekly, MAX_BUSINESS_INTERVALS)?;
    limits::at_most_items("holidays", &hours.holidays, MAX_HOLIDAYS)?;
    let mut intervals = hours.weekly.clone();
    for interval in &intervals {
        if interval.start_minute >= interval.end_minute || interval.end_minute > MINUTES_PER_DAY {
            return Err(InputError::Invalid {
                field: "business hours interval",
                reason: "start before end, minutes 0 to 1440",
            }
            .into());
        }
    }
    intervals.sort_by_key(|i| (i.weekday.num_days_from_monday(), i.start_minute));
    match intervals
        .windows(2)
        .find(|pair| pair[0].weekday == pair[1].weekday && pair[1].start_minute < pair[0].end_minute)
    {
        Some(pair) => Err(SiteError::OverlappingHours(pair[0].weekday)),
        None => Ok(()),
    }
}

fn validate_providers(providers: &[Provider]) -> Result<(), InputError> {
    limits::at_most_items("providers", providers, MAX_CONDITION_VALUES)
}

fn validate_labels(labels: &[String]) -> Result<(), InputError> {
    limits::at_most_items("visitor labels", labels, MAX_CONDITION_VALUES)?;
    labels
        .iter()
        .try_for_each(|label| limits::required("visitor label", label, MAX_TAG_VALUE_CHARS))
}

fn validate_path_prefixes(prefixes: &[String]) -> Result<(), SiteError> {
    limits::at_most_items("page path prefixes", prefixes, MAX_CONDITION_VALUES)?;
    for prefix in prefixes {
        limits::at_most("page path prefix", prefix, MAX_PATH_PREFIX_CHARS)?;
        if !is_path_prefix(prefix) {
            return Err(SiteError::InvalidPathPrefix(prefix.clone()));
        }
    }
    Ok(())
}

fn known_team(site: &SiteProfile, team: TeamId) -> Result<(), SiteError> {
    if site.teams.contains_key(&team) {
        Ok(())
    } else {
        Err(SiteError::UnknownTeam(team))
    }
}
