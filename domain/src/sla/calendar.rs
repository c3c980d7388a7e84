//! Business time computed over a site's calendar, day by day.
//!
//! An interval `[start, end)` on local date `D` is open from the first
//! instant the zone's wall clock reads `D start` or later until the first
//! instant it reads `D end` or later. So on a day the clocks go forward an
//! interval spanning the gap is an hour shorter in real time (and a time
//! inside the gap opens at the end of the gap); on a day they go back an
//! interval spanning the repeated hour is an hour longer, and one that ends
//! inside it closes the first time the clock shows its end. This "first
//! instant at or after" rule is monotonic, so intervals never overlap in
//! real time, not even across midnight.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::hours::{BusinessHours, ClockError, HORIZON_DAYS, MINUTES_PER_DAY};

/// Longest daylight-saving or zone-change gap searched (tzdb's longest is a
/// day, Samoa skipping 30 December 2011).
const GAP_SEARCH_MINUTES: i64 = 2 * 1_440;

/// Business hours made ready for computing: the zone parsed, each weekday's
/// intervals sorted and merged, holidays in a set.
pub(super) struct Calendar {
    zone: Tz,
    /// Indexed by days from Monday.
    week: [Vec<(u16, u16)>; 7],
    holidays: BTreeSet<NaiveDate>,
    /// Every day 00:00-24:00 and no holidays: real time is business time.
    always_open: bool,
}

impl Calendar {
    pub(super) fn new(hours: &BusinessHours) -> Result<Self, ClockError> {
        let zone = hours.zone()?;
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for interval in &hours.weekly {
            let end = interval.end_minute.min(MINUTES_PER_DAY);
            if interval.start_minute < end {
                week[interval.weekday.num_days_from_monday() as usize].push((interval.start_minute, end));
            }
        }
        for day in &mut week {
            *day = merged(std::mem::take(day));
        }
        if week.iter().all(Vec::is_empty) {
            return Err(ClockError::NeverOpen);
        }
        let always_open = hours.holidays.is_empty() && week.iter().all(|day| *day == [(0, MINUTES_PER_DAY)]);
        Ok(Self {
            zone,
            week,
            holidays: hours.holidays.iter().copied().collect(),
            always_open,
        })
    }

    pub(super) fn add(&self, start: DateTime<Utc>, seconds: u64) -> Result<DateTime<Utc>, ClockError> {
        let mut remaining = i64::try_from(seconds)
            .ok()
            .and_then(TimeDelta::try_seconds)
            .ok_or(ClockError::BeyondHorizon)?;
        if self.always_open || remaining.is_zero() {
            return start.checked_add_signed(remaining).ok_or(ClockError::BeyondHorizon);
        }
        // The day before too: its last interval may reach past midnight in
        // real time on a day the clocks go back.
        let mut date = self.local_date(start).pred_opt().ok_or(ClockError::BeyondHorizon)?;
        for _ in 0..=HORIZON_DAYS {
            for (open, close) in self.spans(date) {
                let open = open.max(start);
                if close <= open {
                    continue;
                }
                let span = close - open;
                if span >= remaining {
                    return Ok(open + remaining);
                }
                remaining -= span;
            }
            date = date.succ_opt().ok_or(ClockError::BeyondHorizon)?;
        }
        Err(ClockError::BeyondHorizon)
    }

    pub(super) fn elapsed(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<u64, ClockError> {
        if to <= from {
            return Ok(0);
        }
        if self.always_open {
            return Ok(whole_seconds(to - from));
        }
        let first = self.local_date(from).pred_opt().ok_or(ClockError::BeyondHorizon)?;
        let last = self.local_date(to).succ_opt().ok_or(ClockError::BeyondHorizon)?;
        if (last - first).num_days() > HORIZON_DAYS {
            return Err(ClockError::BeyondHorizon);
        }
        let total = first
            .iter_days()
            .take_while(|date| *date <= last)
            .flat_map(|date| self.spans(date))
            .map(|(open, close)| (open.max(from), close.min(to)))
            .filter(|(open, close)| close > open)
            .fold(TimeDelta::zero(), |total, (open, close)| total + (close - open));
        Ok(whole_seconds(total))
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// The real-time spans the clocks run on `date`, in order; none on a
    /// holiday. A span whose ends fall outside chrono's dates is left out.
    fn spans(&self, date: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let day: &[(u16, u16)] = if self.holidays.contains(&date) {
            &[]
        } else {
            &self.week[date.weekday().num_days_from_monday() as usize]
        };
        day.iter().filter_map(move |&(start, end)| {
            let open = self.first_instant(date, start)?;
            let close = self.first_instant(date, end)?;
            Some((open, close))
        })
    }

    /// The first instant the wall clock reads `minute` of `date` or later.
    fn first_instant(&self, date: NaiveDate, minute: u16) -> Option<DateTime<Utc>> {
        let local = date
            .and_time(NaiveTime::MIN)
            .checked_add_signed(TimeDelta::minutes(i64::from(minute)))?;
        self.resolve(local).or_else(|| {
            // In a gap: the clock jumps from before `local` to the gap's
            // end, which (like every tzdb transition since 1970) lies on a
            // whole minute.
            (1..=GAP_SEARCH_MINUTES).find_map(|m| self.resolve(local.checked_add_signed(TimeDelta::minutes(m))?))
        })
    }

    /// The first instant the wall clock reads exactly `local`, if it ever
    /// does.
    fn resolve(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .map(|at| at.with_timezone(&Utc))
    }
}

/// Sorted, overlapping or touching intervals joined.
fn merged(mut intervals: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    intervals.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

fn whole_seconds(delta: TimeDelta) -> u64 {
    u64::try_from(delta.num_seconds()).unwrap_or(0)
}
