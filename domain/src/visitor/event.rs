//! What happens to a visitor identity. Stored in `visitor-{id}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::codec::event_codec;
use crate::ids::{SiteId, VisitorId};
use crate::site::FieldValue;

/// Everything that can happen to a visitor identity.
#[derive(Debug, Clone, PartialEq)]
pub enum VisitorEvent {
    /// See [`VisitorFirstSeen`].
    FirstSeen(VisitorFirstSeen),
    /// See [`VisitorTagged`].
    Tagged(VisitorTagged),
    /// See [`AdditionalInfoSet`].
    AdditionalInfoSet(AdditionalInfoSet),
    /// See [`VisitorReset`].
    Reset(VisitorReset),
}

event_codec! {
    VisitorEvent {
        FirstSeen(VisitorFirstSeen): "VisitorFirstSeen", v = 1;
        Tagged(VisitorTagged): "VisitorTagged", v = 1;
        AdditionalInfoSet(AdditionalInfoSet): "AdditionalInfoSet", v = 1;
        Reset(VisitorReset): "VisitorReset", v = 1;
    }
}

/// A new, anonymous visitor appeared on a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorFirstSeen {
    /// The visitor.
    pub visitor_id: VisitorId,
    /// The site.
    pub site_id: SiteId,
    /// When.
    pub at: DateTime<Utc>,
}

/// What the site's JavaScript says about the visitor (`tag`). A `None`
/// field was not given and is unchanged; an empty string clears it;
/// `labels` replaces the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VisitorTag {
    /// Email.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Labels, up to 50.
    pub labels: Option<Vec<String>>,
    /// The agent (email) the site wants the visitor's conversations
    /// assigned to.
    pub assigned_user: Option<String>,
    /// The site's own id of the logged-in user; links history across
    /// devices.
    pub external_user_id: Option<String>,
}

/// The visitor was tagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorTagged {
    /// The fields given.
    pub tag: VisitorTag,
    /// When.
    pub at: DateTime<Utc>,
}

/// "Additional information" values were set; `None` clears a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdditionalInfoSet {
    /// Values by field key.
    pub values: BTreeMap<String, Option<FieldValue>>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The visitor logged out: this identity is retired, the next session is a
/// new anonymous visitor, and none of this history is shown to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorReset {
    /// When.
    pub at: DateTime<Utc>,
}
