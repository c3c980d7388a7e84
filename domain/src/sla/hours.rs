//! Business hours: when a site's SLA clocks run.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;

/// Minutes in a day: the latest end of an interval (24:00).
pub const MINUTES_PER_DAY: u16 = 1_440;

/// How far [`BusinessHours::add`] and [`BusinessHours::elapsed`] walk the
/// calendar: ten years of days. Beyond it they answer
/// [`ClockError::BeyondHorizon`] instead of walking on.
pub const HORIZON_DAYS: i64 = 3_653;

/// When a site's SLA clocks run: weekly intervals of local time in an IANA
/// time zone, except on holidays. A site with no business hours runs its
/// clocks all the time ([`BusinessHours::always_open`]).
///
/// Invariants a site keeps (checked when the site sets them, not here): the
/// zone is an IANA name, at least one interval, each interval
/// `start_minute < end_minute <= 1440`, no two intervals of one weekday
/// overlap (touching is fine). The clock functions also accept hours that
/// break them: intervals are merged and empty ones dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Open intervals of the week, in the zone's local time.
    pub weekly: Vec<WeeklyInterval>,
    /// Dates (in the zone) on which the clocks do not run at all.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

/// One open interval on a weekday, in minutes of the local day. An interval
/// never crosses midnight: "Mon 22:00 to Tue 06:00" is two intervals
/// (Mon 1320-1440 and Tue 0-360).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WeeklyInterval {
    /// The weekday (`"Mon"` to `"Sun"` in JSON).
    pub weekday: Weekday,
    /// Opening, minutes after local midnight (0 to 1439).
    pub start_minute: u16,
    /// Closing, minutes after local midnight, after the opening (at most
    /// 1440, i.e. 24:00).
    pub end_minute: u16,
}

/// Why business time could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The time zone is not an IANA name chrono-tz knows.
    #[error("{0:?} is not an IANA time zone")]
    UnknownTimeZone(String),
    /// The hours have no interval at all: the clocks never run, so no
    /// amount of business time ever elapses.
    #[error("the business hours have no open interval")]
    NeverOpen,
    /// The answer lies more than [`HORIZON_DAYS`] days away (or beyond
    /// the dates chrono can represent).
    #[error("the answer lies more than {HORIZON_DAYS} days away")]
    BeyondHorizon,
}

impl Default for BusinessHours {
    /// [`BusinessHours::always_open`].
    fn default() -> Self {
        Self::always_open()
    }
}

impl BusinessHours {
    /// Clocks that always run: every day from 00:00 to 24:00 in UTC, no
    /// holidays. What a site without business hours uses.
    pub fn always_open() -> Self {
        let weekly = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .map(|weekday| WeeklyInterval {
            weekday,
            start_minute: 0,
            end_minute: MINUTES_PER_DAY,
        })
        .collect();
        Self {
            time_zone: "UTC".into(),
            weekly,
            holidays: Vec::new(),
        }
    }

    /// The configured hours, or [`always_open`](Self::always_open) when a
    /// site has none.
    pub fn or_always_open(hours: Option<&Self>) -> Cow<'_, Self> {
        hours.map_or_else(|| Cow::Owned(Self::always_open()), Cow::Borrowed)
    }

    /// The time zone.
    ///
    /// # Errors
    ///
    /// [`ClockError::UnknownTimeZone`] when the name is not an IANA zone.
    pub fn zone(&self) -> Result<Tz, ClockError> {
        self.time_zone
            .parse()
            .map_err(|_| ClockError::UnknownTimeZone(self.time_zone.clone()))
    }

    /// The moment at which `seconds` of business time have elapsed after
    /// `start`. A clock started outside the hours waits for the next
    /// opening; a due time that falls exactly on a closing is that closing.
    /// Zero seconds is `start` itself.
    ///
    /// Walks the calendar day by day (a day's intervals at a time), so it
    /// costs at most [`HORIZON_DAYS`] days of work whatever `seconds` is.
    ///
    /// # Errors
    ///
    /// [`ClockError::UnknownTimeZone`]; [`ClockError::NeverOpen`] for hours
    /// with no interval (rather than walking forever);
    /// [`ClockError::BeyondHorizon`] when the moment is more than ten years
    /// of calendar days away.
    pub fn add(&self, start: DateTime<Utc>, seconds: u64) -> Result<DateTime<Utc>, ClockError> {
        Calendar::new(self)?.add(start, seconds)
    }

    /// The whole seconds of business time between `from` and `to`; zero
    /// when `to` is not after `from`. The inverse of [`add`](Self::add):
    /// `elapsed(t, add(t, s)) == s`.
    ///
    /// # Errors
    ///
    /// [`ClockError::UnknownTimeZone`]; [`ClockError::NeverOpen`];
    /// [`ClockError::BeyondHorizon`] when `from` and `to` are more than ten
    /// years apart.
    pub fn elapsed(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<u64, ClockError> {
        Calendar::new(self)?.elapsed(from, to)
    }
}
