//! The caller's own profile (display name, notifications, presence) and
//! what agents record about visitors.

use std::collections::BTreeMap;

use async_graphql::{Context, ID, InputObject, Json, Object};
use chrono::{NaiveDate, Utc};
use livedesk_domain::agent::AgentCommand;
use livedesk_domain::site::{FieldKind, FieldValue};
use livedesk_domain::visitor::{VisitorCommand, VisitorTag};

use super::types::{Agent, NotificationPreference, Presence, Visitor, parse_id};
use super::{api, principal};
use crate::auth::{Permission, Principal};
use crate::commands::ReadModel;
use crate::error::{ApiError, ApiResult};
use crate::reads;

async fn change_me(ctx: &Context<'_>, principal: &Principal, command: AgentCommand) -> ApiResult<Agent> {
    let agent = principal.staff(Permission::ManageOwnProfile)?.agent;
    let api = api(ctx);
    api.commands
        .run(
            &api.commands.agents,
            agent.id.0,
            command,
            principal,
            principal.site_id,
            ReadModel::Agents,
        )
        .await?;
    let row = reads::agent(&api.pool, agent.id.0)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such agent".into()))?;
    Ok(Agent {
        row,
        site_id: principal.site_id,
    })
}

/// One "additional information" value to set; `null` clears it.
#[derive(Debug, Clone, InputObject)]
pub struct AdditionalInfoInput {
    /// The field's key, as the site defines it.
    pub key: String,
    /// A string (text, date `YYYY-MM-DD`, select option), number or
    /// boolean, per the field's kind; `null` clears.
    pub value: Option<Json<serde_json::Value>>,
}

/// What agents may record about a visitor.
#[derive(Debug, Clone, Default, InputObject)]
pub struct VisitorInfoInput {
    /// Email (empty clears).
    pub email: Option<String>,
    /// First name (empty clears).
    pub first_name: Option<String>,
    /// Last name (empty clears).
    pub last_name: Option<String>,
    /// Labels (replaces the list).
    pub labels: Option<Vec<String>>,
    /// Additional information values.
    #[graphql(default)]
    pub additional_info: Vec<AdditionalInfoInput>,
}

fn field_value(key: &str, kind: Option<&FieldKind>, value: serde_json::Value) -> ApiResult<FieldValue> {
    let wrong = || ApiError::BadInput(format!("the value for {key:?} does not fit the field"));
    let kind = kind.ok_or_else(|| ApiError::BadInput(format!("the site defines no field {key:?}")))?;
    Ok(match (kind, value) {
        (FieldKind::Text, serde_json::Value::String(s)) => FieldValue::Text(s),
        (FieldKind::Select { .. }, serde_json::Value::String(s)) => FieldValue::Select(s),
        (FieldKind::Number, serde_json::Value::Number(n)) => FieldValue::Number(n.as_f64().ok_or_else(wrong)?),
        (FieldKind::Boolean, serde_json::Value::Bool(b)) => FieldValue::Boolean(b),
        (FieldKind::Date, serde_json::Value::String(s)) => {
            FieldValue::Date(NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| wrong())?)
        }
        _ => return Err(wrong()),
    })
}

/// The caller's own profile and visitor details.
#[derive(Debug, Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Changes the name visitors see on a take-over (1 to 64 characters).
    async fn set_display_name(&self, ctx: &Context<'_>, display_name: String) -> ApiResult<Agent> {
        let principal = principal(ctx)?;
        crate::schema::query::short_text("displayName", Some(display_name.clone()))?;
        let command = AgentCommand::ChangeDisplayName {
            display_name,
            at: Utc::now(),
        };
        change_me(ctx, principal, command).await
    }

    /// Chooses when to be notified: every message, new conversations
    /// only, or never.
    async fn set_notification_preference(
        &self,
        ctx: &Context<'_>,
        preference: NotificationPreference,
    ) -> ApiResult<Agent> {
        let principal = principal(ctx)?;
        let command = AgentCommand::ChangeNotificationPreference {
            preference: preference.into(),
            at: Utc::now(),
        };
        change_me(ctx, principal, command).await
    }

    /// Goes online, away or offline.
    async fn set_presence(&self, ctx: &Context<'_>, presence: Presence) -> ApiResult<Agent> {
        let principal = principal(ctx)?;
        let command = AgentCommand::ChangePresence {
            presence: presence.into(),
            at: Utc::now(),
        };
        change_me(ctx, principal, command).await
    }

    /// Records a visitor's details and "additional information".
    async fn update_visitor_info(
        &self,
        ctx: &Context<'_>,
        visitor_id: ID,
        info: VisitorInfoInput,
    ) -> ApiResult<Visitor> {
        let id = parse_id("visitorId", &visitor_id)?;
        let principal = principal(ctx)?;
        let api = api(ctx);
        let row = reads::visitor(&api.pool, id)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such visitor".into()))?;
        principal.require_on(row.site_id, Permission::HandleConversations)?;
        principal.staff(Permission::HandleConversations)?;
        if info.additional_info.len() > livedesk_domain::site::MAX_CUSTOM_FIELDS {
            return Err(ApiError::BadInput("too many additional information values".into()));
        }
        let tag = VisitorTag {
            email: info.email,
            first_name: info.first_name,
            last_name: info.last_name,
            labels: info.labels,
            assigned_user: None,
            external_user_id: None,
        };
        let mut values = BTreeMap::new();
        if !info.additional_info.is_empty() {
            let site = reads::site(&api.pool, row.site_id)
                .await?
                .ok_or_else(|| ApiError::NotFound("no such site".into()))?;
            for entry in info.additional_info {
                let kind = site.custom_fields.iter().find(|f| f.key == entry.key).map(|f| &f.kind);
                let value = match entry.value {
                    None | Some(Json(serde_json::Value::Null)) => None,
                    Some(Json(value)) => Some(field_value(&entry.key, kind, value)?),
                };
                values.insert(entry.key, value);
            }
            let command = VisitorCommand::SetAdditionalInfo {
                values,
                fields: site.custom_fields,
                at: Utc::now(),
            };
            // Validate the tag before anything is appended.
            let check = VisitorCommand::Tag {
                tag: tag.clone(),
                at: Utc::now(),
            };
            let state = api.commands.visitors.load(id).await?;
            <livedesk_domain::visitor::Visitor as livedesk_domain::Aggregate>::decide(&state, check)?;
            api.commands
                .run(
                    &api.commands.visitors,
                    id,
                    command,
                    principal,
                    row.site_id,
                    ReadModel::Inbox,
                )
                .await?;
        }
        if tag != VisitorTag::default() {
            let command = VisitorCommand::Tag { tag, at: Utc::now() };
            api.commands
                .run(
                    &api.commands.visitors,
                    id,
                    command,
                    principal,
                    row.site_id,
                    ReadModel::Inbox,
                )
                .await?;
        }
        let row = reads::visitor(&api.pool, id)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such visitor".into()))?;
        Ok(Visitor(row))
    }
}
