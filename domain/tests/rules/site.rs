use livedesk_domain::limits::InputError;
use livedesk_domain::site::*;
use livedesk_domain::{Role, StreamCategory, TextBlockId};
use uuid::Uuid;

use crate::given::{Scenario, at, given, given_no_events, id};

fn created() -> SiteEvent {
    SiteEvent::Created(SiteCreated {
        site_id: id(1),
        name: "Shop".into(),
        allowed_origins: vec!["https://shop.example".into()],
        widget_key: "wk_shop_123".into(),
        at: at(0),
    })
}

fn site() -> Scenario<Site> {
    given([created()])
}

fn block_added(n: u128, shortcut: &str) -> SiteEvent {
    SiteEvent::TextBlockAdded(TextBlockAdded {
        text_block_id: id(n),
        shortcut: shortcut.into(),
        title: "Greeting".into(),
        body: "Hello!".into(),
        at: at(1),
    })
}

fn add_block(n: u128, shortcut: &str) -> SiteCommand {
    SiteCommand::AddTextBlock {
        text_block_id: id(n),
        shortcut: shortcut.into(),
        title: "Greeting".into(),
        body: "Hello!".into(),
        at: at(1),
    }
}

#[test]
fn a_new_site_has_the_default_settings() {
    let state = given_no_events::<Site>()
        .when(SiteCommand::Create {
            site_id: id(1),
            name: "Shop".into(),
            allowed_origins: vec!["https://shop.example".into()],
            widget_key: "wk_shop_123".into(),
            at: at(0),
        })
        .then([created()]);
    let settings = &state.active().expect("created").settings;
    assert!(!settings.keep_session_across_tabs);
    assert_eq!(settings.max_session_duration_secs, 3_600);
    assert_eq!(settings.max_message_chars, 10_000);
}

#[test]
fn an_allowed_origin_must_be_an_origin() {
    given_no_events::<Site>()
        .when(SiteCommand::Create {
            site_id: id(1),
            name: "Shop".into(),
            allowed_origins: vec!["https://shop.example/path".into()],
            widget_key: "wk_shop_123".into(),
            at: at(0),
        })
        .then_error(SiteError::InvalidOrigin("https://shop.example/path".into()));
}

#[test]
fn settings_out_of_range_are_rejected_and_unchanged_settings_record_nothing() {
    let settings = SiteSettings {
        max_message_chars: 0,
        ..SiteSettings::default()
    };
    site()
        .when(SiteCommand::ChangeSettings { settings, at: at(1) })
        .then_error(
            InputError::Invalid {
                field: "max_message_chars",
                reason: "1 to 100000",
            }
            .into(),
        );
    site()
        .when(SiteCommand::ChangeSettings {
            settings: SiteSettings::default(),
            at: at(1),
        })
        .then_nothing();
}

#[test]
fn keeping_sessions_across_tabs_is_a_settings_change() {
    let settings = SiteSettings {
        keep_session_across_tabs: true,
        ..SiteSettings::default()
    };
    site()
        .when(SiteCommand::ChangeSettings {
            settings: settings.clone(),
            at: at(1),
        })
        .then([SiteEvent::SettingsChanged(SiteSettingsChanged { settings, at: at(1) })]);
}

#[test]
fn custom_field_keys_are_unique() {
    let field = CustomFieldDefinition {
        key: "plan".into(),
        label: "Plan".into(),
        kind: FieldKind::Text,
    };
    site()
        .when(SiteCommand::DefineCustomFields {
            fields: vec![field.clone(), field],
            at: at(1),
        })
        .then_error(SiteError::DuplicateFieldKey("plan".into()));
}

#[test]
fn a_text_block_shortcut_is_unique_among_live_blocks() {
    given([created(), block_added(10, "hello")])
        .when(add_block(11, "Hello"))
        .then_error(SiteError::ShortcutTaken("Hello".into()));
}

#[test]
fn a_removed_text_block_frees_its_shortcut_and_stays_in_history() {
    let removed = SiteEvent::TextBlockRemoved(TextBlockRemoved {
        text_block_id: id(10),
        at: at(2),
    });
    let state = given([created(), block_added(10, "hello"), removed.clone()])
        .when(add_block(11, "hello"))
        .then([block_added(11, "hello")]);
    let blocks = &state.active().expect("created").text_blocks;
    assert!(blocks.get(&id::<TextBlockId>(10)).is_some_and(|block| block.removed));
    given([created(), block_added(10, "hello"), removed])
        .when(SiteCommand::ChangeTextBlock {
            text_block_id: id(10),
            shortcut: "hi".into(),
            title: "Hi".into(),
            body: "Hi!".into(),
            at: at(3),
        })
        .then_error(SiteError::UnknownTextBlock(id(10)));
}

#[test]
fn team_names_are_unique_and_joining_twice_records_nothing() {
    let team = SiteEvent::TeamCreated(TeamCreated {
        team_id: id(20),
        name: "Support".into(),
        at: at(1),
    });
    given([created(), team.clone()])
        .when(SiteCommand::CreateTeam {
            team_id: id(21),
            name: "support".into(),
            at: at(2),
        })
        .then_error(SiteError::TeamNameTaken("support".into()));
    let joined = SiteEvent::AgentJoinedTeam(AgentJoinedTeam {
        team_id: id(20),
        agent_id: id(101),
        at: at(2),
    });
    given([created(), team.clone()])
        .when(SiteCommand::AddAgentToTeam {
            team_id: id(20),
            agent_id: id(101),
            at: at(2),
        })
        .then([joined.clone()]);
    given([created(), team, joined])
        .when(SiteCommand::AddAgentToTeam {
            team_id: id(20),
            agent_id: id(101),
            at: at(3),
        })
        .then_nothing();
}

#[test]
fn a_token_issued_before_scopes_existed_reads_every_category() {
    let old = serde_json::json!({
        "token_id": Uuid::now_v7(),
        "name": "CRM",
        "token_hash": "sha256:00",
        "role": "integrator",
        "agent_id": null,
        "at": at(1),
    });
    let issued: ApiTokenIssued = serde_json::from_value(old).expect("an old ApiTokenIssued");
    assert!(issued.event_categories.is_empty());
    let written = serde_json::to_value(&issued).expect("json");
    assert!(written.get("event_categories").is_none(), "no scope writes no field");
}

#[test]
fn an_api_token_is_recorded_by_its_hash_and_revoked_once() {
    let issued = SiteEvent::ApiTokenIssued(ApiTokenIssued {
        token_id: id(30),
        name: "CRM".into(),
        token_hash: "sha256:9f86d081884c7d65".into(),
        role: Role::Integrator,
        agent_id: None,
        event_categories: vec![StreamCategory::Session, StreamCategory::Conversation],
        at: at(1),
    });
    site()
        .when(SiteCommand::IssueApiToken {
            token_id: id(30),
            name: "CRM".into(),
            token_hash: "sha256:9f86d081884c7d65".into(),
            role: Role::Integrator,
            agent_id: None,
            event_categories: vec![
                StreamCategory::Conversation,
                StreamCategory::Session,
                StreamCategory::Conversation,
            ],
            at: at(1),
        })
        .then([issued.clone()]);
    let revoked = SiteEvent::ApiTokenRevoked(ApiTokenRevoked {
        token_id: id(30),
        at: at(2),
    });
    given([created(), issued.clone()])
        .when(SiteCommand::RevokeApiToken {
            token_id: id(30),
            at: at(2),
        })
        .then([revoked.clone()]);
    given([created(), issued, revoked])
        .when(SiteCommand::RevokeApiToken {
            token_id: id(30),
            at: at(3),
        })
        .then_nothing();
    site()
        .when(SiteCommand::RevokeApiToken {
            token_id: id(31),
            at: at(3),
        })
        .then_error(SiteError::UnknownApiToken(id(31)));
}

#[test]
fn a_disabled_widget_is_recorded_once_and_can_be_enabled_again() {
    let disabled = SiteEvent::WidgetDisabled(WidgetDisabled { at: at(1) });
    let state = site()
        .when(SiteCommand::DisableWidget { at: at(1) })
        .then([disabled.clone()]);
    assert!(!state.active().expect("created").widget_enabled);
    given([created(), disabled.clone()])
        .when(SiteCommand::DisableWidget { at: at(2) })
        .then_nothing();
    let state = given([created(), disabled])
        .when(SiteCommand::EnableWidget { at: at(2) })
        .then([SiteEvent::WidgetEnabled(WidgetEnabled { at: at(2) })]);
    assert!(state.active().expect("created").widget_enabled);
    site().when(SiteCommand::EnableWidget { at: at(2) }).then_nothing();
}

#[test]
fn identity_verification_needs_a_long_printable_secret_and_repeating_it_records_nothing() {
    let secret = "s3cret-for-signing-user-ids-0123456789".to_owned();
    let configured = SiteEvent::IdentityVerificationConfigured(IdentityVerificationConfigured {
        secret: secret.clone(),
        required: true,
        at: at(1),
    });
    let state = site()
        .when(SiteCommand::ConfigureIdentityVerification {
            secret: secret.clone(),
            required: true,
            at: at(1),
        })
        .then([configured.clone()]);
    let profile = state.active().expect("created");
    assert_eq!(profile.identity_secret.as_deref(), Some(secret.as_str()));
    assert!(profile.require_signed_identity);
    given([created(), configured])
        .when(SiteCommand::ConfigureIdentityVerification {
            secret,
            required: true,
            at: at(2),
        })
        .then_nothing();
    for bad in ["short", "with a space but long enough to pass the length rule"] {
        site()
            .when(SiteCommand::ConfigureIdentityVerification {
                secret: bad.into(),
                required: false,
                at: at(1),
            })
            .then_error(
                InputError::Invalid {
                    field: "identity secret",
                    reason: "32-256 printable ASCII characters without spaces",
                }
                .into(),
            );
    }
}

#[test]
fn a_one_second_leave_timeout_and_maximum_duration_are_allowed_but_zero_is_not() {
    let short = SiteSettings {
        leave_timeout_secs: 1,
        max_session_duration_secs: 1,
        ..SiteSettings::default()
    };
    assert_eq!(short.validate(), Ok(()));
    let zero = SiteSettings {
        leave_timeout_secs: 0,
        ..SiteSettings::default()
    };
    assert!(zero.validate().is_err());
}
