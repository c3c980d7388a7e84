//! The first-run set-up: on a database without sites, the console offers
//! to create the first site and its admin, guarded by a one-time token the
//! server prints in its log at start (`livedesk sites create` does the
//! same from the command line).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use livedesk_domain::site::SiteCommand;
use livedesk_domain::{Actor, Metadata, Role, SiteId};
use livedesk_eventstore::{CommandContext, EventStore, Filter, PgEventStore};
use rand::RngCore;
use serde::Deserialize;
use uuid::Uuid;

use super::routes::{read, refuse, signed_in};
use super::{cookie, invite, password, session};
use crate::GraphQl;
use crate::commands::ReadModel;
use crate::error::{ApiError, ApiResult};

/// Whether any site was ever created (read from the log, which is ahead of
/// every read model).
///
/// # Errors
///
/// A store failure.
pub async fn any_site(store: &PgEventStore) -> ApiResult<bool> {
    let filter = Filter {
        event_types: vec!["SiteCreated".into()],
        categories: vec!["site".into()],
        ..Filter::all()
    };
    let first = store.read_all(0, 1, &filter).await?;
    Ok(!first.is_empty())
}

/// A widget key for a new site: its name's letters and a random suffix.
pub fn widget_key_for(name: &str) -> String {
    let slug: String = name
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            ' ' | '-' | '_' => Some('-'),
            _ => None,
        })
        .take(32)
        .collect();
    let mut suffix = [0u8; 4];
    rand::rng().fill_bytes(&mut suffix);
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        format!("site-{suffix}")
    } else {
        format!("{slug}-{suffix}")
    }
}

/// `GET /console/api/setup`.
pub(super) async fn needed(State(state): State<GraphQl>, headers: HeaderMap) -> Response {
    let answer = async {
        cookie::require_same_origin(&headers)?;
        Ok::<_, ApiError>(!any_site(&state.api.store).await?)
    };
    match answer.await {
        Ok(needed) => Json(serde_json::json!({ "needed": needed })).into_response(),
        Err(error) => refuse(&error),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Setup {
    setup_token: String,
    site_name: String,
    name: String,
    email: String,
    password: String,
}

/// `POST /console/api/setup`.
pub(super) async fn run(State(state): State<GraphQl>, headers: HeaderMap, bytes: axum::body::Bytes) -> Response {
    let request: Setup = match read(&headers, &bytes) {
        Ok(request) => request,
        Err(error) => return refuse(&error),
    };
    match set_up(&state, &headers, request).await {
        Ok(started) => signed_in(&state, started, &headers),
        Err(error) => refuse(&error),
    }
}

async fn set_up(state: &GraphQl, headers: &HeaderMap, request: Setup) -> ApiResult<session::Started> {
    let api = &state.api;
    if any_site(&api.store).await? {
        return Err(ApiError::Conflict {
            message: "Livedesk is set up already: sign in, or ask an admin for an invitation".into(),
            holder: None,
        });
    }
    password::validate(&request.password)?;
    if !api.setup.take(request.setup_token.trim()) {
        return Err(ApiError::Forbidden(
            "wrong set-up token: use the one the server printed in its log at start".into(),
        ));
    }
    let site_id = Uuid::now_v7();
    let context = CommandContext {
        metadata: Metadata {
            site_id: Some(site_id),
            actor: Some(Actor::System),
            correlation_id: Some(Uuid::now_v7()),
            ..Metadata::default()
        },
    };
    let create = SiteCommand::Create {
        site_id: SiteId(site_id),
        name: request.site_name.trim().to_owned(),
        allowed_origins: Vec::new(),
        widget_key: widget_key_for(&request.site_name),
        at: Utc::now(),
    };
    let created = match api.commands.sites.execute(site_id, create, &context).await {
        Ok(created) => created,
        Err(error) => {
            api.setup.restore(request.setup_token.trim());
            return Err(error.into());
        }
    };
    if let Some(append) = created.append {
        api.commands.settle(ReadModel::Directory, append.last_position).await?;
    }
    let agent_id = invite::create_person(api, site_id, &request.email, &request.name, Role::Admin).await?;
    let as_admin = CommandContext {
        metadata: Metadata {
            actor: Some(Actor::Agent(agent_id)),
            ..context.metadata.clone()
        },
    };
    if let Some(position) =
        password::set(&api.pool, &api.commands.agents, agent_id, request.password, &as_admin).await?
    {
        api.commands.settle(ReadModel::Agents, position).await?;
    }
    tracing::info!(site = %site_id, agent = %agent_id, "first-run set-up: site and admin created");
    session::start(&api.pool, &api.config.console, agent_id, site_id, headers).await
}
