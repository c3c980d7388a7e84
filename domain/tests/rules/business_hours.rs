//! Business time: clocks pause outside the hours, on holidays, and follow
//! the zone's daylight-saving changes.

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use livedesk_domain::sla::{BusinessHours, ClockError, WeeklyInterval};

fn berlin(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Berlin
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .earliest()
        .expect("a Berlin wall-clock time that exists")
        .with_timezone(&Utc)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("a valid time")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn interval(weekday: Weekday, start_hour: u16, end_hour: u16) -> WeeklyInterval {
    WeeklyInterval {
        weekday,
        start_minute: start_hour * 60,
        end_minute: end_hour * 60,
    }
}

fn hours(zone: &str, weekly: Vec<WeeklyInterval>, holidays: Vec<NaiveDate>) -> BusinessHours {
    BusinessHours {
        time_zone: zone.into(),
        weekly,
        holidays,
    }
}

/// Monday to Friday, 9:00 to 17:00, Berlin time.
fn office() -> BusinessHours {
    let weekdays = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
    hours("Europe/Berlin", weekdays.map(|d| interval(d, 9, 17)).to_vec(), vec![])
}

const HOUR: u64 = 3_600;

#[test]
fn an_hour_asked_for_at_friday_closing_falls_due_monday_at_ten() {
    let due = office().add(berlin(2025, 1, 10, 17, 0), HOUR).expect("computable");
    assert_eq!(due, berlin(2025, 1, 13, 10, 0));
    assert_eq!(office().elapsed(berlin(2025, 1, 10, 17, 0), due), Ok(HOUR));
}

#[test]
fn within_the_hours_business_time_is_real_time_and_a_due_time_may_be_the_closing() {
    let hours = office();
    assert_eq!(
        hours.add(berlin(2025, 1, 6, 10, 0), 2 * HOUR),
        Ok(berlin(2025, 1, 6, 12, 0))
    );
    assert_eq!(
        hours.add(berlin(2025, 1, 10, 16, 0), HOUR),
        Ok(berlin(2025, 1, 10, 17, 0))
    );
    assert_eq!(
        hours.add(berlin(2025, 1, 10, 16, 0), HOUR + 1),
        Ok(berlin(2025, 1, 13, 9, 0) + TimeDelta::seconds(1))
    );
}

#[test]
fn a_clock_started_before_opening_waits_for_it() {
    assert_eq!(
        office().add(berlin(2025, 1, 7, 6, 0), 30 * 60),
        Ok(berlin(2025, 1, 7, 9, 30))
    );
    assert_eq!(
        office().add(berlin(2025, 1, 11, 12, 0), HOUR),
        Ok(berlin(2025, 1, 13, 10, 0))
    );
}

#[test]
fn zero_seconds_is_the_start_itself_even_outside_the_hours() {
    let saturday = berlin(2025, 1, 11, 12, 0);
    assert_eq!(office().add(saturday, 0), Ok(saturday));
}

#[test]
fn a_holiday_pauses_the_clock_for_the_whole_day() {
    let mut hours = office();
    hours.holidays = vec![date(2025, 1, 8)];
    assert_eq!(
        hours.add(berlin(2025, 1, 7, 16, 30), HOUR),
        Ok(berlin(2025, 1, 9, 9, 30))
    );
    assert_eq!(
        hours.elapsed(berlin(2025, 1, 7, 0, 0), berlin(2025, 1, 10, 0, 0)),
        Ok(16 * HOUR)
    );
}

#[test]
fn a_weekend_with_daylight_saving_starting_still_resumes_at_opening_local_time() {
    // Clocks go forward on Sunday 30 March 2025 (CET to CEST).
    let due = office().add(berlin(2025, 3, 28, 16, 0), 2 * HOUR).expect("computable");
    assert_eq!(due, berlin(2025, 3, 31, 10, 0));
    assert_eq!(due, utc(2025, 3, 31, 8, 0));
}

#[test]
fn an_interval_spanning_the_spring_gap_is_an_hour_shorter_in_real_time() {
    let night = hours("Europe/Berlin", vec![interval(Weekday::Sun, 1, 5)], vec![]);
    // 01:00 CET is 00:00 UTC, 05:00 CEST is 03:00 UTC.
    assert_eq!(
        night.elapsed(utc(2025, 3, 29, 12, 0), utc(2025, 3, 31, 0, 0)),
        Ok(3 * HOUR)
    );
    assert_eq!(night.add(utc(2025, 3, 30, 0, 0), 3 * HOUR), Ok(utc(2025, 3, 30, 3, 0)));
    // One second more waits for the next Sunday, 01:00 CEST (Saturday 23:00 UTC).
    assert_eq!(
        night.add(utc(2025, 3, 30, 0, 0), 3 * HOUR + 1),
        Ok(utc(2025, 4, 5, 23, 0) + TimeDelta::seconds(1))
    );
}

#[test]
fn an_interval_opening_inside_the_spring_gap_opens_when_the_gap_ends() {
    let weekly = vec![WeeklyInterval {
        weekday: Weekday::Sun,
        start_minute: 150,
        end_minute: 240,
    }];
    let hours = hours("Europe/Berlin", weekly, vec![]);
    // 02:30 does not exist on 30 March 2025: open from 03:00 CEST (01:00 UTC) to 04:00 CEST.
    assert_eq!(
        hours.add(utc(2025, 3, 29, 12, 0), 1),
        Ok(utc(2025, 3, 30, 1, 0) + TimeDelta::seconds(1))
    );
    assert_eq!(hours.elapsed(utc(2025, 3, 29, 12, 0), utc(2025, 3, 31, 0, 0)), Ok(HOUR));
}

#[test]
fn an_interval_spanning_the_autumn_repeat_is_an_hour_longer_and_one_ending_inside_it_closes_first_time() {
    // Clocks go back on Sunday 26 October 2025 (03:00 CEST becomes 02:00 CET).
    let night = hours("Europe/Berlin", vec![interval(Weekday::Sun, 1, 5)], vec![]);
    assert_eq!(
        night.elapsed(utc(2025, 10, 25, 12, 0), utc(2025, 10, 27, 0, 0)),
        Ok(5 * HOUR)
    );
    let weekly = vec![WeeklyInterval {
        weekday: Weekday::Sun,
        start_minute: 0,
        end_minute: 150,
    }];
    let early = hours("Europe/Berlin", weekly, vec![]);
    // 00:00 CEST (22:00 UTC) until the first 02:30, CEST (00:30 UTC).
    assert_eq!(
        early.elapsed(utc(2025, 10, 25, 12, 0), utc(2025, 10, 27, 0, 0)),
        Ok(150 * 60)
    );
    assert_eq!(
        early.add(utc(2025, 10, 25, 12, 0), 150 * 60),
        Ok(utc(2025, 10, 26, 0, 30))
    );
}

#[test]
fn night_shifts_across_midnight_are_two_intervals_that_run_on_without_a_pause() {
    let weekly = vec![
        WeeklyInterval {
            weekday: Weekday::Mon,
            start_minute: 22 * 60,
            end_minute: 1_440,
        },
        interval(Weekday::Tue, 0, 6),
    ];
    let hours = hours("Europe/Berlin", weekly, vec![]);
    assert_eq!(
        hours.add(berlin(2025, 1, 6, 23, 0), 2 * HOUR),
        Ok(berlin(2025, 1, 7, 1, 0))
    );
}

#[test]
fn without_business_hours_clocks_always_run() {
    let start = utc(2025, 3, 29, 23, 17);
    let always = BusinessHours::or_always_open(None);
    assert_eq!(always.add(start, 90_000), Ok(start + TimeDelta::seconds(90_000)));
    assert_eq!(always.elapsed(start, start + TimeDelta::days(400)), Ok(400 * 86_400));
    assert_eq!(BusinessHours::default(), BusinessHours::always_open());
    let office = office();
    assert_eq!(*BusinessHours::or_always_open(Some(&office)), office);
}

#[test]
fn every_day_all_day_in_a_daylight_saving_zone_is_real_time_too() {
    let all_week = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    // A holiday far away keeps the day-by-day walk in use.
    let hours = hours(
        "Europe/Berlin",
        all_week.map(|d| interval(d, 0, 24)).to_vec(),
        vec![date(2099, 1, 1)],
    );
    for start in [utc(2025, 3, 29, 22, 30), utc(2025, 10, 25, 23, 59)] {
        assert_eq!(hours.add(start, 2 * 86_400), Ok(start + TimeDelta::days(2)));
        assert_eq!(hours.elapsed(start, start + TimeDelta::days(2)), Ok(2 * 86_400));
    }
}

#[test]
fn elapsed_outside_the_hours_or_backwards_is_zero() {
    let hours = office();
    assert_eq!(
        hours.elapsed(berlin(2025, 1, 11, 0, 0), berlin(2025, 1, 13, 9, 0)),
        Ok(0)
    );
    assert_eq!(
        hours.elapsed(berlin(2025, 1, 7, 12, 0), berlin(2025, 1, 7, 10, 0)),
        Ok(0)
    );
}

#[test]
fn a_start_with_fractions_of_a_second_keeps_them() {
    let start = berlin(2025, 1, 7, 10, 0) + TimeDelta::milliseconds(250);
    let due = office().add(start, 10).expect("computable");
    assert_eq!(due, start + TimeDelta::seconds(10));
    assert_eq!(office().elapsed(start, due), Ok(10));
}

#[test]
fn hours_without_any_interval_are_an_error_not_an_endless_walk() {
    let never = hours("Europe/Berlin", vec![], vec![]);
    assert_eq!(never.add(utc(2025, 1, 1, 0, 0), 1), Err(ClockError::NeverOpen));
    assert_eq!(
        never.elapsed(utc(2025, 1, 1, 0, 0), utc(2025, 1, 2, 0, 0)),
        Err(ClockError::NeverOpen)
    );
    // Only an empty interval is as good as none.
    let empty = hours("UTC", vec![interval(Weekday::Mon, 9, 9)], vec![]);
    assert_eq!(empty.add(utc(2025, 1, 1, 0, 0), 1), Err(ClockError::NeverOpen));
}

#[test]
fn a_due_time_more_than_ten_years_away_is_refused() {
    let weekly = vec![WeeklyInterval {
        weekday: Weekday::Mon,
        start_minute: 600,
        end_minute: 601,
    }];
    let minute_a_week = hours("UTC", weekly, vec![]);
    let start = utc(2025, 1, 1, 0, 0);
    let nine_years_of_mondays = 60 * 52 * 9;
    let due = minute_a_week
        .add(start, nine_years_of_mondays)
        .expect("nine years away is within reach");
    assert!(due > start + TimeDelta::days(8 * 365));
    assert_eq!(minute_a_week.elapsed(start, due), Ok(nine_years_of_mondays));
    assert_eq!(minute_a_week.add(start, 90 * 86_400), Err(ClockError::BeyondHorizon));
    assert_eq!(
        minute_a_week.elapsed(start, start + TimeDelta::days(11 * 366)),
        Err(ClockError::BeyondHorizon)
    );
}

#[test]
fn an_unknown_time_zone_is_an_error() {
    let mars = hours("Mars/Olympus_Mons", vec![interval(Weekday::Mon, 9, 17)], vec![]);
    assert_eq!(
        mars.add(utc(2025, 1, 1, 0, 0), 1),
        Err(ClockError::UnknownTimeZone("Mars/Olympus_Mons".into()))
    );
}

#[test]
fn business_hours_travel_as_json_with_weekday_names() {
    let json = serde_json::to_value(office()).expect("encodes");
    assert_eq!(json["time_zone"], "Europe/Berlin");
    assert_eq!(json["weekly"][0]["weekday"], "Mon");
    assert_eq!(json["weekly"][0]["start_minute"], 540);
    let back: BusinessHours = serde_json::from_value(json).expect("decodes");
    assert_eq!(back, office());
}
