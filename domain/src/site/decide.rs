//! Which events a site command produces. A command that changes nothing
//! (same settings, a member joining a team again, revoking a revoked token)
//! produces no events.

use std::collections::BTreeSet;

use super::command::SiteCommand as Cmd;
use super::config;
use super::error::SiteError;
use super::event::{
    AgentJoinedTeam, AgentLeftTeam, ApiTokenIssued, ApiTokenRevoked, CustomFieldsDefined,
    IdentityVerificationConfigured, SiteCreated, SiteEvent, SiteProfileChanged, SiteSettingsChanged, TeamCreated,
    TextBlockAdded, TextBlockChanged, TextBlockRemoved, WidgetDisabled, WidgetEnabled,
};
use super::state::{SiteProfile, SiteState};
use super::types::{CustomFieldDefinition, MAX_CUSTOM_FIELDS};
use crate::ids::TextBlockId;
use crate::limits::{self, DEFAULT_MAX_MESSAGE_CHARS, InputError, MAX_NAME_CHARS};
use crate::routing::AutoAssignment;

type Decision = Result<Vec<SiteEvent>, SiteError>;

/// Most allowed origins on a site.
pub const MAX_ALLOWED_ORIGINS: usize = 100;
/// Longest text block shortcut.
pub const MAX_SHORTCUT_CHARS: usize = 64;

pub(super) fn decide(state: &SiteState, command: Cmd) -> Decision {
    let site = match state {
        SiteState::Active(site) => site.as_ref(),
        SiteState::NotCreated => {
            return match command {
                Cmd::Create {
                    site_id,
                    name,
                    allowed_origins,
                    widget_key,
                    at,
                } => {
                    validate_profile(&name, &allowed_origins)?;
                    validate_widget_key(&widget_key)?;
                    Ok(vec![SiteEvent::Created(SiteCreated {
                        site_id,
                        name,
                        allowed_origins,
                        widget_key,
                        at,
                    })])
                }
                _ => Err(SiteError::NotCreated),
            };
        }
    };
    match command {
        Cmd::Create { .. } => Err(SiteError::AlreadyCreated),
        Cmd::ChangeProfile {
            name,
            allowed_origins,
            at,
        } => {
            validate_profile(&name, &allowed_origins)?;
            if name == site.name && allowed_origins == site.allowed_origins {
                return Ok(Vec::new());
            }
            Ok(vec![SiteEvent::ProfileChanged(SiteProfileChanged {
                name,
                allowed_origins,
                at,
            })])
        }
        Cmd::ChangeSettings { settings, at } => {
            settings.validate()?;
            if settings == site.settings {
                return Ok(Vec::new());
            }
            Ok(vec![SiteEvent::SettingsChanged(SiteSettingsChanged { settings, at })])
        }
        Cmd::DefineCustomFields { fields, at } => {
            validate_fields(&fields)?;
            if fields == site.custom_fields {
                return Ok(Vec::new());
            }
            Ok(vec![SiteEvent::CustomFieldsDefined(CustomFieldsDefined { fields, at })])
        }
        Cmd::AddTextBlock {
            text_block_id,
            shortcut,
            title,
            body,
            at,
        } => {
            if site.text_blocks.contains_key(&text_block_id) {
                return Err(SiteError::DuplicateTextBlock(text_block_id));
            }
            validate_text_block(site, None, &shortcut, &title, &body)?;
            Ok(vec![SiteEvent::TextBlockAdded(TextBlockAdded {
                text_block_id,
                shortcut,
                title,
                body,
                at,
            })])
        }
        Cmd::ChangeTextBlock {
            text_block_id,
            shortcut,
            title,
            body,
            at,
        } => {
            let block = site
                .text_blocks
                .get(&text_block_id)
                .filter(|block| !block.removed)
                .ok_or(SiteError::UnknownTextBlock(text_block_id))?;
            validate_text_block(site, Some(text_block_id), &shortcut, &title, &body)?;
            if block.shortcut == shortcut && block.title == title && block.body == body {
                return Ok(Vec::new());
            }
            Ok(vec![SiteEvent::TextBlockChanged(TextBlockChanged {
                text_block_id,
                shortcut,
                title,
                body,
                at,
            })])
        }
        Cmd::RemoveTextBlock { text_block_id, at } => match site.text_blocks.get(&text_block_id) {
            None => Err(SiteError::UnknownTextBlock(text_block_id)),
            Some(block) if block.removed => Ok(Vec::new()),
            Some(_) => Ok(vec![SiteEvent::TextBlockRemoved(TextBlockRemoved {
                text_block_id,
                at,
            })]),
        },
        Cmd::CreateTeam { team_id, name, at } => {
            limits::required("team name", &name, MAX_NAME_CHARS)?;
            if site.teams.contains_key(&team_id) {
                return Err(SiteError::DuplicateTeam(team_id));
            }
            if site
                .teams
                .values()
                .any(|team| team.name.eq_ignore_ascii_case(name.trim()))
            {
                return Err(SiteError::TeamNameTaken(name));
            }
            Ok(vec![SiteEvent::TeamCreated(TeamCreated { team_id, name, at })])
        }
        Cmd::AddAgentToTeam { team_id, agent_id, at } => {
            let team = site.teams.get(&team_id).ok_or(SiteError::UnknownTeam(team_id))?;
            if team.members.contains(&agent_id) {
                return Ok(Vec::new());
            }
            Ok(vec![SiteEvent::AgentJoinedTeam(AgentJoinedTeam {
                team_id,
                agent_id,
                at,
            })])
        }
        Cmd::RemoveAgentFromTeam { team_id, agent_id, at } => {
            let team = site.teams.get(&team_id).ok_or(SiteError::UnknownTeam(team_id))?;
            if !team.members.contains(&agent_id) {
                return Ok(Vec::new());
            }
            Ok(vec![SiteEvent::AgentLeftTeam(AgentLeftTeam { team_id, agent_id, at })])
        }
        Cmd::IssueApiToken {
            token_id,
            name,
            token_hash,
            role,
            agent_id,
            mut event_categories,
            at,
        } => {
            if site.api_tokens.contains_key(&token_id) {
                return Err(SiteError::DuplicateApiToken(token_id));
            }
            limits::required("token name", &name, MAX_NAME_CHARS)?;
            limits::required("token hash", &token_hash, MAX_NAME_CHARS)?;
            event_categories.sort_unstable();
            event_categories.dedup();
            let issued = ApiTokenIssued {
                token_id,
                name,
                token_hash,
                role,
                agent_id,
                event_categories,
                at,
            };
            Ok(vec![SiteEvent::ApiTokenIssued(issued)])
        }
        Cmd::RevokeApiToken { token_id, at } => match site.api_tokens.get(&token_id) {
            None => Err(SiteError::UnknownApiToken(token_id)),
            Some(token) if token.revoked => Ok(Vec::new()),
            Some(_) => Ok(vec![SiteEvent::ApiTokenRevoked(ApiTokenRevoked { token_id, at })]),
        },
        Cmd::DisableWidget { at } if site.widget_enabled => Ok(vec![SiteEvent::WidgetDisabled(WidgetDisabled { at })]),
        Cmd::EnableWidget { at } if !site.widget_enabled => Ok(vec![SiteEvent::WidgetEnabled(WidgetEnabled { at })]),
        Cmd::DisableWidget { .. } | Cmd::EnableWidget { .. } => Ok(Vec::new()),
        Cmd::ConfigureIdentityVerification { secret, required, at } => {
            validate_identity_secret(&secret)?;
            if site.identity_secret.as_deref() == Some(secret.as_str()) && site.require_signed_identity == required {
                return Ok(Vec::new());
            }
            let configured = IdentityVerificationConfigured { secret, required, at };
            Ok(vec![SiteEvent::IdentityVerificationConfigured(configured)])
        }
        Cmd::DefineSlaPolicies { policies, at } => config::define_sla_policies(site, policies, at),
        Cmd::SetBusinessHours { hours, at } => config::set_business_hours(site, hours, at),
        Cmd::DefineRoutingRules { rules, at } => config::define_routing_rules(site, rules, at),
        Cmd::ConfigureAutoAssignment {
            enabled,
            reassign_after_secs,
            reassign_when_offline,
            at,
        } => {
            let wanted = AutoAssignment {
                enabled,
                reassign_after_secs,
                reassign_when_offline,
            };
            config::configure_auto_assignment(site, wanted, at)
        }
    }
}

/// Shortest and longest identity-verification secret.
pub const IDENTITY_SECRET_CHARS: std::ops::RangeInclusive<usize> = 32..=256;

fn validate_identity_secret(secret: &str) -> Result<(), InputError> {
    let ok = IDENTITY_SECRET_CHARS.contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(InputError::Invalid {
            field: "identity secret",
            reason: "32-256 printable ASCII characters without spaces",
        })
    }
}

fn validate_profile(name: &str, origins: &[String]) -> Result<(), SiteError> {
    limits::required("site name", name, MAX_NAME_CHARS)?;
    limits::at_most_items("allowed origins", origins, MAX_ALLOWED_ORIGINS)?;
    match origins.iter().find(|origin| !is_origin(origin)) {
        Some(bad) => Err(SiteError::InvalidOrigin(bad.clone())),
        None => Ok(()),
    }
}

/// `http(s)://host[:port]` with no path, query, credentials or whitespace.
pub fn is_origin(origin: &str) -> bool {
    let Some(authority) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    !authority.is_empty()
        && authority.len() <= 253 + 6
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

fn validate_widget_key(key: &str) -> Result<(), InputError> {
    let ok = (8..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(InputError::Invalid {
            field: "widget key",
            reason: "8-128 characters of A-Za-z0-9_-",
        })
    }
}

fn validate_fields(fields: &[CustomFieldDefinition]) -> Result<(), SiteError> {
    limits::at_most_items("custom fields", fields, MAX_CUSTOM_FIELDS)?;
    let mut keys = BTreeSet::new();
    for field in fields {
        field.validate()?;
        if !keys.insert(field.key.as_str()) {
            return Err(SiteError::DuplicateFieldKey(field.key.clone()));
        }
    }
    Ok(())
}

fn validate_text_block(
    site: &SiteProfile,
    except: Option<TextBlockId>,
    shortcut: &str,
    title: &str,
    body: &str,
) -> Result<(), SiteError> {
    limits::required("shortcut", shortcut, MAX_SHORTCUT_CHARS)?;
    if shortcut.chars().any(char::is_whitespace) || shortcut.starts_with('#') {
        return Err(InputError::Invalid {
            field: "shortcut",
            reason: "no spaces and no leading #",
        }
        .into());
    }
    limits::required("text block title", title, MAX_NAME_CHARS)?;
    limits::required("text block body", body, DEFAULT_MAX_MESSAGE_CHARS as usize)?;
    if site.text_block_by_shortcut(shortcut, except).is_some() {
        return Err(SiteError::ShortcutTaken(shortcut.to_owned()));
    }
    Ok(())
}
