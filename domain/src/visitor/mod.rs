//! A visitor's identity across sessions: tags from the site's JavaScript,
//! "additional information", and `reset` on logout. Stream `visitor-{id}`.
//!
//! Rules kept here: tag values up to 256 characters, up to 50 labels;
//! additional information only for fields the site defined, with values of
//! the field's type; after a reset the identity is retired and every
//! command is rejected.

mod event;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use event::{AdditionalInfoSet, VisitorEvent, VisitorFirstSeen, VisitorReset, VisitorTag, VisitorTagged};

use crate::aggregate::Aggregate;
use crate::ids::{SiteId, VisitorId};
use crate::limits::{self, InputError, MAX_LABELS, MAX_TAG_VALUE_CHARS};
use crate::site::{CustomFieldDefinition, FieldKind, FieldValue};

/// A request to change a visitor identity.
#[derive(Debug, Clone, PartialEq)]
pub enum VisitorCommand {
    /// Record a new visitor.
    FirstSeen {
        /// The visitor.
        visitor_id: VisitorId,
        /// The site.
        site_id: SiteId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Tag the visitor.
    Tag {
        /// The fields given.
        tag: VisitorTag,
        /// When.
        at: DateTime<Utc>,
    },
    /// Set "additional information" values.
    SetAdditionalInfo {
        /// Values by field key; `None` clears.
        values: BTreeMap<String, Option<FieldValue>>,
        /// The site's field definitions now (read from the site).
        fields: Vec<CustomFieldDefinition>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The visitor logged out.
    Reset {
        /// When.
        at: DateTime<Utc>,
    },
}

/// The rule a visitor command breaks. A rejected command appends nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisitorError {
    /// The visitor was never seen.
    #[error("the visitor has not been seen")]
    NotSeen,
    /// `FirstSeen` on a known visitor.
    #[error("the visitor was already seen")]
    AlreadySeen,
    /// The identity was retired by a reset.
    #[error("the visitor was reset (logged out); use a new visitor id")]
    WasReset,
    /// Input breaks a size rule.
    #[error(transparent)]
    Invalid(#[from] InputError),
    /// The site defines no such field.
    #[error("the site defines no additional information field {0:?}")]
    UnknownField(String),
    /// The value does not fit the field's type or options.
    #[error("the value for {key:?} is not a valid {expected}")]
    WrongFieldType {
        /// The field.
        key: String,
        /// What the field takes.
        expected: &'static str,
    },
}

/// The lifecycle of a visitor identity.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum VisitorState {
    /// No events yet.
    #[default]
    Unknown,
    /// Seen; see [`VisitorProfile`].
    Known(Box<VisitorProfile>),
    /// Retired by a reset; the profile is kept for history.
    Reset(Box<VisitorProfile>),
}

/// What is known about a visitor.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitorProfile {
    /// The visitor.
    pub id: VisitorId,
    /// The site.
    pub site_id: SiteId,
    /// When first seen.
    pub first_seen_at: DateTime<Utc>,
    /// Tag fields, as last given.
    pub tag: VisitorTag,
    /// Additional information.
    pub additional_info: BTreeMap<String, FieldValue>,
}

/// The visitor aggregate. See the [module docs](self) for its rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Visitor;

impl Aggregate for Visitor {
    const CATEGORY: &'static str = "visitor";
    type State = VisitorState;
    type Command = VisitorCommand;
    type Event = VisitorEvent;
    type Error = VisitorError;

    /// # Errors
    ///
    /// [`VisitorError`] naming the broken rule.
    fn decide(state: &VisitorState, command: VisitorCommand) -> Result<Vec<VisitorEvent>, VisitorError> {
        let visitor = match (state, command) {
            (
                VisitorState::Unknown,
                VisitorCommand::FirstSeen {
                    visitor_id,
                    site_id,
                    at,
                },
            ) => {
                return Ok(vec![VisitorEvent::FirstSeen(VisitorFirstSeen {
                    visitor_id,
                    site_id,
                    at,
                })]);
            }
            (VisitorState::Unknown, _) => return Err(VisitorError::NotSeen),
            (VisitorState::Reset(_), _) => return Err(VisitorError::WasReset),
            (VisitorState::Known(visitor), command) => (visitor, command),
        };
        match visitor {
            (_, VisitorCommand::FirstSeen { .. }) => Err(VisitorError::AlreadySeen),
            (visitor, VisitorCommand::Tag { tag, at }) => {
                validate_tag(&tag)?;
                if merged(&visitor.tag, &tag) == visitor.tag {
                    return Ok(Vec::new());
                }
                Ok(vec![VisitorEvent::Tagged(VisitorTagged { tag, at })])
            }
            (visitor, VisitorCommand::SetAdditionalInfo { values, fields, at }) => {
                validate_info(&values, &fields)?;
                let unchanged = values
                    .iter()
                    .all(|(key, value)| visitor.additional_info.get(key) == value.as_ref());
                if unchanged {
                    return Ok(Vec::new());
                }
                Ok(vec![VisitorEvent::AdditionalInfoSet(AdditionalInfoSet { values, at })])
            }
            (_, VisitorCommand::Reset { at }) => Ok(vec![VisitorEvent::Reset(VisitorReset { at })]),
        }
    }

    fn evolve(state: VisitorState, event: &VisitorEvent) -> VisitorState {
        match (state, event) {
            (VisitorState::Unknown, VisitorEvent::FirstSeen(e)) => VisitorState::Known(Box::new(VisitorProfile {
                id: e.visitor_id,
                site_id: e.site_id,
                first_seen_at: e.at,
                tag: VisitorTag::default(),
                additional_info: BTreeMap::new(),
            })),
            (VisitorState::Known(visitor), VisitorEvent::Reset(_)) => VisitorState::Reset(visitor),
            (VisitorState::Known(mut visitor), VisitorEvent::Tagged(e)) => {
                visitor.tag = merged(&visitor.tag, &e.tag);
                VisitorState::Known(visitor)
            }
            (VisitorState::Known(mut visitor), VisitorEvent::AdditionalInfoSet(e)) => {
                for (key, value) in &e.values {
                    match value {
                        Some(value) => visitor.additional_info.insert(key.clone(), value.clone()),
                        None => visitor.additional_info.remove(key),
                    };
                }
                VisitorState::Known(visitor)
            }
            (state, _) => state,
        }
    }
}

/// `current` with the fields `given` sets.
fn merged(current: &VisitorTag, given: &VisitorTag) -> VisitorTag {
    let pick = |given: &Option<String>, current: &Option<String>| given.clone().or_else(|| current.clone());
    VisitorTag {
        email: pick(&given.email, &current.email),
        first_name: pick(&given.first_name, &current.first_name),
        last_name: pick(&given.last_name, &current.last_name),
        labels: given.labels.clone().or_else(|| current.labels.clone()),
        assigned_user: pick(&given.assigned_user, &current.assigned_user),
        external_user_id: pick(&given.external_user_id, &current.external_user_id),
    }
}

fn validate_tag(tag: &VisitorTag) -> Result<(), InputError> {
    let fields = [
        ("email", &tag.email),
        ("first name", &tag.first_name),
        ("last name", &tag.last_name),
        ("assigned user", &tag.assigned_user),
        ("external user id", &tag.external_user_id),
    ];
    for (field, value) in fields {
        limits::at_most(field, value.as_deref().unwrap_or_default(), MAX_TAG_VALUE_CHARS)?;
    }
    if let Some(labels) = &tag.labels {
        limits::at_most_items("labels", labels, MAX_LABELS)?;
        for label in labels {
            limits::required("label", label, MAX_TAG_VALUE_CHARS)?;
        }
    }
    Ok(())
}

fn validate_info(
    values: &BTreeMap<String, Option<FieldValue>>,
    fields: &[CustomFieldDefinition],
) -> Result<(), VisitorError> {
    if values.is_empty() {
        return Err(InputError::Empty {
            field: "additional information",
        }
        .into());
    }
    for (key, value) in values {
        let field = fields
            .iter()
            .find(|field| field.key == *key)
            .ok_or_else(|| VisitorError::UnknownField(key.clone()))?;
        let Some(value) = value else { continue };
        if !value.fits(&field.kind) {
            let expected = match field.kind {
                FieldKind::Text => "text",
                FieldKind::Number => "number",
                FieldKind::Boolean => "yes/no value",
                FieldKind::Date => "date",
                FieldKind::Select { .. } => "choice among the field's options",
            };
            return Err(VisitorError::WrongFieldType {
                key: key.clone(),
                expected,
            });
        }
        if let FieldValue::Text(text) = value {
            limits::at_most("additional information text", text, MAX_TAG_VALUE_CHARS)?;
        }
    }
    Ok(())
}
