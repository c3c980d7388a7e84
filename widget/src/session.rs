//! Sessions as the widget sees them: start, resume (same tab), join (keep
//! session), renew (after the maximum duration or a timeout), end; who the
//! caller is; and the visitor's conversation.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use chrono::{DateTime, TimeDelta, Utc};
use livedesk_domain::conversation::ConversationState;
use livedesk_domain::limits::{MAX_PAGE_CHARS, MAX_TAG_VALUE_CHARS};
use livedesk_domain::session::{EndReason, SessionCode, SessionCommand, SessionError, SessionState};
use livedesk_domain::site::{SiteProfile, VisitorIdMode};
use livedesk_domain::visitor::{VisitorCommand, VisitorState};
use livedesk_domain::{Actor, Metadata, SessionId, VisitorId};
use livedesk_eventstore::{CommandContext, CommandError};
use serde::Serialize;
use uuid::Uuid;

use crate::Widget;
use crate::error::{WidgetError, WidgetResult};
use crate::token::Claims;
use crate::view::HandledBy;
use livedesk_projections::liveness;

/// Namespace of the visitor's conversation id (UUID v5 of the visitor id).
const CONVERSATIONS: Uuid = Uuid::from_u128(0x6c1d_5e2a_9b7f_4c43_8f0e_2d6a_17c4_b9e1);

/// The conversation of `visitor`: one per visitor identity, so opening it
/// twice at once cannot make two.
pub fn conversation_of(visitor: Uuid) -> Uuid {
    Uuid::new_v5(&CONVERSATIONS, visitor.as_bytes())
}

/// Who calls: a verified token and its (enabled) site.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's claims.
    pub claims: Claims,
    /// The site.
    pub site: Arc<SiteProfile>,
}

/// The request's client: headers and address.
#[derive(Debug, Clone)]
pub struct Client {
    /// The request headers (User-Agent, proxy headers).
    pub headers: HeaderMap,
    /// The client IP.
    pub ip: Option<IpAddr>,
}

/// A session as the script needs it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// The visitor token for every other call.
    pub token: String,
    /// When the token expires.
    pub token_expires_at: DateTime<Utc>,
    /// The session.
    pub session_id: Uuid,
    /// The visitor: store it (see `visitorIdStorage`) and send it back.
    pub visitor_id: Uuid,
    /// The tab.
    pub tab_id: String,
    /// The session code (show it once shared).
    pub code: String,
    /// The visitor's conversation.
    pub conversation_id: Uuid,
    /// Who answers now.
    pub handled_by: HandledBy,
    /// `resumed` (same tab), `joined` (another tab, keep session) or `started`.
    pub outcome: &'static str,
    /// `session` (sessionStorage: a fresh visitor when the browser closes)
    /// or `local` (localStorage: the same visitor on every visit).
    pub visitor_id_storage: &'static str,
    /// Whether a new tab should join this session (store the token where
    /// other tabs see it).
    pub keep_session_across_tabs: bool,
    /// Send a heartbeat this often while no WebSocket is open.
    pub heartbeat_secs: u32,
    /// The session ends after this long without a sign of life.
    pub leave_timeout_secs: u32,
    /// Longest message body.
    pub max_message_chars: u32,
}

/// What an activity call changed besides its own effect.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Renewal {
    /// A new session when the old one had ended (maximum duration, timed
    /// out): switch to its token.
    pub renewed: Option<SessionInfo>,
}

pub(crate) fn context(site: Uuid, actor: Actor) -> CommandContext {
    CommandContext {
        metadata: Metadata {
            site_id: Some(site),
            actor: Some(actor),
            correlation_id: Some(Uuid::now_v7()),
            causation_id: None,
            command_id: None,
        },
    }
}

/// Checks a tab id and page before anything is appended.
pub fn check_page(tab_id: &str, path: &str, title: Option<&str>) -> WidgetResult<()> {
    let bad = |what: &str, max: usize| WidgetError::InvalidInput(format!("{what} must be 1 to {max} characters"));
    if tab_id.trim().is_empty() || tab_id.chars().count() > MAX_TAG_VALUE_CHARS {
        return Err(bad("tabId", MAX_TAG_VALUE_CHARS));
    }
    if path.trim().is_empty() || path.chars().count() > MAX_PAGE_CHARS {
        return Err(bad("path", MAX_PAGE_CHARS));
    }
    if title.is_some_and(|t| t.chars().count() > MAX_PAGE_CHARS) {
        return Err(bad("title", MAX_PAGE_CHARS));
    }
    Ok(())
}

impl Widget {
    /// The caller of a token.
    ///
    /// # Errors
    ///
    /// Missing, invalid or expired tokens; unknown or disabled sites.
    pub(crate) async fn caller(&self, token: Option<&str>) -> WidgetResult<Caller> {
        let token = token.ok_or(WidgetError::MissingToken)?;
        let claims = self.signer.verify(token, Utc::now())?;
        let site = self.sites.by_id(claims.site_id).await?;
        Ok(Caller { claims, site })
    }

    /// The visitor `wanted` if it is a live identity of `site`, else a new
    /// one (recorded as first seen).
    pub(crate) async fn visitor_for(&self, site: &SiteProfile, wanted: Option<Uuid>) -> WidgetResult<Uuid> {
        if let Some(id) = wanted
            && let VisitorState::Known(visitor) = self.visitors.load(id).await?
            && visitor.site_id == site.id
        {
            return Ok(id);
        }
        let id = Uuid::now_v7();
        let seen = VisitorCommand::FirstSeen {
            visitor_id: VisitorId(id),
            site_id: site.id,
            at: Utc::now(),
        };
        self.visitors
            .execute(id, seen, &context(site.id.0, Actor::Visitor(id)))
            .await?;
        Ok(id)
    }

    /// Starts a session for `visitor` in `tab` on `path`.
    pub(crate) async fn start_session(
        &self,
        site: &SiteProfile,
        visitor: Uuid,
        tab: &str,
        path: &str,
        referrer: Option<String>,
        client: &Client,
    ) -> WidgetResult<SessionInfo> {
        let session = Uuid::now_v7();
        let at = Utc::now();
        let start = SessionCommand::Start {
            session_id: SessionId(session),
            site_id: site.id,
            visitor_id: VisitorId(visitor),
            tab_id: tab.to_owned(),
            client: crate::client::client_info(&client.headers, &self.geo, client.ip),
            entry_path: path.to_owned(),
            referrer,
            code: SessionCode::from_random(rand::random()),
            max_duration_secs: site.settings.max_session_duration_secs,
            at,
        };
        self.sessions
            .execute(session, start, &context(site.id.0, Actor::Visitor(visitor)))
            .await?;
        let expires_at = at + site.settings.max_session_duration();
        let leave_ms = i64::from(site.settings.leave_timeout_secs) * 1000;
        liveness::started(&self.pool, session, site.id.0, leave_ms, expires_at).await?;
        self.info(site, visitor, session, tab, "started").await
    }

    /// The script's view of a live session, with a fresh token.
    pub(crate) async fn info(
        &self,
        site: &SiteProfile,
        visitor: Uuid,
        session: Uuid,
        tab: &str,
        outcome: &'static str,
    ) -> WidgetResult<SessionInfo> {
        let code = match self.sessions.load(session).await? {
            SessionState::Live(s) => s.code.to_string(),
            _ => String::new(),
        };
        let conversation = conversation_of(visitor);
        let holder = match self.conversations.load(conversation).await? {
            ConversationState::Open(c) => c.taken_over_by.clone(),
            ConversationState::NotOpened => None,
        };
        let expires = Utc::now() + TimeDelta::from_std(self.config.token_ttl).unwrap_or(TimeDelta::hours(24));
        let claims = Claims {
            site_id: site.id.0,
            visitor_id: visitor,
            session_id: session,
            tab_id: tab.to_owned(),
            expires: expires.timestamp(),
        };
        let settings = &site.settings;
        Ok(SessionInfo {
            token: self.signer.sign(&claims),
            token_expires_at: claims.expires_at(),
            session_id: session,
            visitor_id: visitor,
            tab_id: tab.to_owned(),
            code,
            conversation_id: conversation,
            handled_by: self.labels.handled_by(holder.as_ref()),
            outcome,
            visitor_id_storage: match settings.visitor_ids {
                VisitorIdMode::SessionBased => "session",
                VisitorIdMode::Persistent => "local",
            },
            keep_session_across_tabs: settings.keep_session_across_tabs,
            heartbeat_secs: (settings.leave_timeout_secs / 3).max(1),
            leave_timeout_secs: settings.leave_timeout_secs,
            max_message_chars: settings.max_message_chars,
        })
    }

    /// Ends the caller's session if it has not ended, and starts a new one
    /// for the same visitor and tab.
    pub(crate) async fn renew(
        &self,
        caller: &Caller,
        path: Option<&str>,
        client: &Client,
    ) -> WidgetResult<SessionInfo> {
        let claims = &caller.claims;
        let path = match self.sessions.load(claims.session_id).await? {
            SessionState::Live(s) => {
                self.end(caller, claims.session_id, EndReason::TimedOut).await?;
                path.map_or_else(|| s.current_path.clone(), str::to_owned)
            }
            _ => path.unwrap_or("/").to_owned(),
        };
        if let VisitorState::Reset(_) = self.visitors.load(claims.visitor_id).await? {
            return Err(WidgetError::VisitorReset);
        }
        self.start_session(&caller.site, claims.visitor_id, &claims.tab_id, &path, None, client)
            .await
    }

    /// Ends `session` (an expired one is recorded as ended at its maximum).
    pub(crate) async fn end(&self, caller: &Caller, session: Uuid, reason: EndReason) -> WidgetResult<()> {
        let end = SessionCommand::End { reason, at: Utc::now() };
        let actor = Actor::Visitor(caller.claims.visitor_id);
        match self
            .sessions
            .execute(session, end, &context(caller.site.id.0, actor))
            .await
        {
            Ok(_) | Err(CommandError::Rejected(SessionError::Ended { .. })) => {}
            Err(error) => return Err(error.into()),
        }
        liveness::ended(&self.pool, session).await?;
        Ok(())
    }

    /// A sign of life and, if given, a session command; renews the session
    /// first when it has ended or passed its maximum.
    pub(crate) async fn activity(
        &self,
        caller: &Caller,
        client: &Client,
        path: Option<&str>,
        command: Option<SessionCommand>,
    ) -> WidgetResult<(Uuid, Renewal)> {
        let mut session = caller.claims.session_id;
        let mut renewal = Renewal::default();
        let alive = liveness::heartbeat(&self.pool, session).await?;
        if alive.is_none_or(|expires_at| expires_at <= Utc::now()) {
            let info = self.renew(caller, path, client).await?;
            session = info.session_id;
            renewal.renewed = Some(info);
        }
        let Some(command) = command else {
            return Ok((session, renewal));
        };
        let actor = Actor::Visitor(caller.claims.visitor_id);
        let site = caller.site.id.0;
        match self
            .sessions
            .execute(session, command.clone(), &context(site, actor.clone()))
            .await
        {
            Ok(_) => Ok((session, renewal)),
            Err(CommandError::Rejected(SessionError::Ended { .. } | SessionError::MaxDurationReached { .. }))
                if renewal.renewed.is_none() =>
            {
                let info = self.renew(caller, path, client).await?;
                session = info.session_id;
                renewal.renewed = Some(info);
                self.sessions.execute(session, command, &context(site, actor)).await?;
                Ok((session, renewal))
            }
            Err(error) => Err(error.into()),
        }
    }
}
