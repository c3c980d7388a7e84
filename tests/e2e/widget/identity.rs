//! Visitor identity: signed tags, history across sessions and devices,
//! reset, assignedUser.

use livedesk_domain::Role;
use livedesk_domain::site::SiteCommand;
use livedesk_widget::token::identity_signature;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::{Tab, eventually, get};
use crate::fixtures::{Fixture, event_count};
use crate::helpers::{TestApp, spawn_app};

const SECRET: &str = "shop-identity-secret-0123456789abcdef";

async fn bodies(app: &TestApp, tab: &Tab) -> Vec<String> {
    let (status, history) = get(app, "history", &tab.token).await;
    assert_eq!(status, 200, "{history}");
    history["conversations"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["messages"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["author"]["type"] == "visitor")
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn login(app: &TestApp, tab: &Tab, user: &str) -> Value {
    let (status, body) = tab
        .post(
            app,
            "tag",
            json!({ "externalUserId": user, "signature": identity_signature(SECRET, user), "email": "kim@example.com" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[sqlx::test(migrations = false)]
async fn a_signed_in_visitor_sees_their_history_on_another_device_and_none_after_reset(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    site.site_command(SiteCommand::ConfigureIdentityVerification {
        secret: SECRET.into(),
        required: true,
        at: chrono::Utc::now(),
    })
    .await;
    let laptop = Tab::start(&app, &site).await;
    assert_eq!(login(&app, &laptop, "user-42").await["verified"], true);
    laptop.say(&app, "hello from my laptop").await;

    // Another device: a new anonymous visitor until the site signs them in.
    let phone = Tab::start(&app, &site).await;
    assert_ne!(phone.visitor, laptop.visitor);
    site.settle().await;
    assert!(bodies(&app, &phone).await.is_empty(), "anonymous: no history");
    login(&app, &phone, "user-42").await;
    site.settle().await;
    assert_eq!(bodies(&app, &phone).await, ["hello from my laptop"]);

    // Logout: a new anonymous visitor who sees none of it.
    let (status, reset) = phone.post(&app, "reset", json!({})).await;
    assert_eq!(status, 200, "{reset}");
    assert_ne!(reset["visitorId"], phone.visitor.to_string());
    let fresh = reset["token"].as_str().expect("new token");
    let (_, history) = get(&app, "history", fresh).await;
    assert_eq!(history["conversations"], json!([]));
    assert_eq!(
        super::end_reason(&app, phone.session).await.as_deref(),
        Some("reset"),
        "the old session ended by the reset"
    );
    let (status, body) = phone.post(&app, "heartbeat", json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("visitor_reset")),
        "{body}"
    );
}

#[sqlx::test(migrations = false)]
async fn an_unsigned_or_wrongly_signed_identity_is_refused_where_signatures_are_required(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    site.site_command(SiteCommand::ConfigureIdentityVerification {
        secret: SECRET.into(),
        required: true,
        at: chrono::Utc::now(),
    })
    .await;
    let tab = Tab::start(&app, &site).await;
    let before = event_count(&app).await;
    let (status, body) = tab.post(&app, "tag", json!({ "externalUserId": "user-42" })).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("signature_required")),
        "{body}"
    );
    let wrong = identity_signature("another-secret-0123456789abcdefghijkl", "user-42");
    let (status, body) = tab
        .post(&app, "tag", json!({ "externalUserId": "user-42", "signature": wrong }))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("invalid_signature")),
        "{body}"
    );
    assert_eq!(event_count(&app).await, before, "nothing appended");
    // Without an external id a tag needs no signature.
    let (status, body) = tab.post(&app, "tag", json!({ "firstName": "Kim" })).await;
    assert_eq!((status, body["verified"].as_bool()), (200, Some(false)), "{body}");
}

#[sqlx::test(migrations = false)]
async fn assigned_user_assigns_the_visitors_conversation_to_that_agent(pool: PgPool) {
    let app = spawn_app(pool).await;
    let site = Fixture::new(&app).await;
    let ana = site.agent("Ana", Role::Agent).await;
    let tab = Tab::start(&app, &site).await;
    let (status, body) = tab
        .post(&app, "tag", json!({ "assignedUser": "ana@shop.example" }))
        .await;
    assert_eq!(
        (status, body["assigned"].as_bool()),
        (200, Some(false)),
        "no conversation yet: {body}"
    );
    tab.say(&app, "I need my invoice").await;
    site.settle().await;
    let assignee = eventually("the assignment", || async {
        sqlx::query_scalar::<_, Option<uuid::Uuid>>("SELECT assignee_id FROM conversations WHERE conversation_id = $1")
            .bind(tab.conversation)
            .fetch_optional(app.store.pool())
            .await
            .expect("row")
            .flatten()
    })
    .await;
    assert_eq!(assignee, ana.id);
}
