use std::collections::BTreeMap;

use chrono::NaiveDate;
use livedesk_domain::limits::InputError;
use livedesk_domain::site::{CustomFieldDefinition, FieldKind, FieldValue};
use livedesk_domain::visitor::*;

use crate::given::{Scenario, at, given, id};

fn seen() -> VisitorEvent {
    VisitorEvent::FirstSeen(VisitorFirstSeen {
        visitor_id: id(3),
        site_id: id(1),
        at: at(0),
    })
}

fn known() -> Scenario<Visitor> {
    given([seen()])
}

fn tag(tag: VisitorTag) -> VisitorCommand {
    VisitorCommand::Tag { tag, at: at(1) }
}

fn fields() -> Vec<CustomFieldDefinition> {
    vec![
        CustomFieldDefinition {
            key: "plan".into(),
            label: "Plan".into(),
            kind: FieldKind::Select {
                options: vec!["free".into(), "pro".into()],
            },
        },
        CustomFieldDefinition {
            key: "renewal".into(),
            label: "Renewal".into(),
            kind: FieldKind::Date,
        },
    ]
}

fn set(values: impl IntoIterator<Item = (&'static str, Option<FieldValue>)>) -> VisitorCommand {
    VisitorCommand::SetAdditionalInfo {
        values: values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        fields: fields(),
        at: at(2),
    }
}

#[test]
fn tagging_records_what_the_site_said_about_the_visitor() {
    let given_tag = VisitorTag {
        email: Some("john@doe.example".into()),
        labels: Some(vec!["vip".into()]),
        ..VisitorTag::default()
    };
    let state = known()
        .when(tag(given_tag.clone()))
        .then([VisitorEvent::Tagged(VisitorTagged {
            tag: given_tag.clone(),
            at: at(1),
        })]);
    let VisitorState::Known(profile) = state else {
        panic!("the visitor is known")
    };
    assert_eq!(profile.tag.email.as_deref(), Some("john@doe.example"));
    given([
        seen(),
        VisitorEvent::Tagged(VisitorTagged {
            tag: given_tag.clone(),
            at: at(1),
        }),
    ])
    .when(tag(given_tag))
    .then_nothing();
}

#[test]
fn a_tag_value_longer_than_256_characters_is_rejected() {
    known()
        .when(tag(VisitorTag {
            first_name: Some("x".repeat(257)),
            ..VisitorTag::default()
        }))
        .then_error(
            InputError::TooLong {
                field: "first name",
                chars: 257,
                max: 256,
            }
            .into(),
        );
}

#[test]
fn more_than_50_labels_are_rejected() {
    let labels = (0..51).map(|n| format!("label-{n}")).collect();
    known()
        .when(tag(VisitorTag {
            labels: Some(labels),
            ..VisitorTag::default()
        }))
        .then_error(
            InputError::TooMany {
                field: "labels",
                count: 51,
                max: 50,
            }
            .into(),
        );
}

#[test]
fn additional_information_only_takes_fields_the_site_defined() {
    known()
        .when(set([("shoe_size", Some(FieldValue::Number(42.0)))]))
        .then_error(VisitorError::UnknownField("shoe_size".into()));
}

#[test]
fn additional_information_values_must_fit_their_field() {
    known()
        .when(set([("plan", Some(FieldValue::Select("enterprise".into())))]))
        .then_error(VisitorError::WrongFieldType {
            key: "plan".into(),
            expected: "choice among the field's options",
        });
    known()
        .when(set([("renewal", Some(FieldValue::Text("soon".into())))]))
        .then_error(VisitorError::WrongFieldType {
            key: "renewal".into(),
            expected: "date",
        });
}

#[test]
fn typed_additional_information_is_recorded_and_can_be_cleared() {
    let renewal = NaiveDate::from_ymd_opt(2025, 3, 1).expect("a valid date");
    let values = BTreeMap::from([
        ("plan".to_owned(), Some(FieldValue::Select("pro".into()))),
        ("renewal".to_owned(), Some(FieldValue::Date(renewal))),
    ]);
    let info = VisitorEvent::AdditionalInfoSet(AdditionalInfoSet {
        values: values.clone(),
        at: at(2),
    });
    known()
        .when(VisitorCommand::SetAdditionalInfo {
            values,
            fields: fields(),
            at: at(2),
        })
        .then([info.clone()]);
    let state = given([seen(), info])
        .when(set([("plan", None)]))
        .then([VisitorEvent::AdditionalInfoSet(AdditionalInfoSet {
            values: BTreeMap::from([("plan".to_owned(), None)]),
            at: at(2),
        })]);
    let VisitorState::Known(profile) = state else {
        panic!("the visitor is known")
    };
    assert_eq!(profile.additional_info.keys().collect::<Vec<_>>(), ["renewal"]);
}

#[test]
fn after_a_reset_the_identity_is_retired() {
    let reset = VisitorEvent::Reset(VisitorReset { at: at(5) });
    known().when(VisitorCommand::Reset { at: at(5) }).then([reset.clone()]);
    given([seen(), reset])
        .when(tag(VisitorTag {
            email: Some("x@y.example".into()),
            ..VisitorTag::default()
        }))
        .then_error(VisitorError::WasReset);
}
