//! Business time over random hours, zones and starts: `add` and `elapsed`
//! are inverse, `add` is monotonic, business time never outruns real time,
//! and `elapsed` adds up over consecutive stretches.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc, Weekday};
use livedesk_domain::sla::{BusinessHours, WeeklyInterval};
use proptest::prelude::*;

/// Zones with daylight saving (north and south), half-hour offsets and
/// DST, a zone without DST, and Samoa, which skipped 30 December 2011.
const ZONES: &[&str] = &[
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Apia",
    "America/Sao_Paulo",
    "UTC",
];

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Up to three intervals per weekday cut from sorted minutes, and at least
/// one interval of 30 minutes or more in the week, so a week of business
/// time is long enough for every target within the ten-year horizon.
fn hours() -> impl Strategy<Value = BusinessHours> {
    let day = prop::collection::btree_set(0u16..=1_440, 0..=6);
    (
        prop::sample::select(ZONES),
        prop::array::uniform7(day),
        0usize..7,
        0u16..=1_380,
        30u16..=60,
        prop::collection::vec(0i64..400, 0..20),
    )
        .prop_map(|(zone, days, anchor_day, anchor_start, anchor_len, holidays)| {
            let mut weekly = Vec::new();
            for (weekday, cuts) in WEEKDAYS.into_iter().zip(days) {
                let cuts: Vec<u16> = cuts.into_iter().collect();
                weekly.extend(cuts.chunks_exact(2).map(|pair| WeeklyInterval {
                    weekday,
                    start_minute: pair[0],
                    end_minute: pair[1],
                }));
            }
            // May overlap the others: the calendar merges them.
            weekly.push(WeeklyInterval {
                weekday: WEEKDAYS[anchor_day],
                start_minute: anchor_start,
                end_minute: anchor_start + anchor_len,
            });
            let base = NaiveDate::from_ymd_opt(2011, 12, 1).expect("a date");
            BusinessHours {
                time_zone: zone.to_owned(),
                weekly,
                holidays: holidays.into_iter().map(|d| base + TimeDelta::days(d)).collect(),
            }
        })
}

/// Whole seconds between 2011 and 2031, often near Samoa's skipped day.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![1_293_840_000i64..1_924_992_000, 1_324_900_000i64..1_325_500_000]
        .prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap_or_default())
}

/// Up to two weeks of business seconds.
fn seconds() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..=3_600, 0u64..=14 * 86_400]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn elapsed_undoes_add(hours in hours(), start in instant(), s in seconds()) {
        let due = hours.add(start, s).expect("computable");
        prop_assert_eq!(hours.elapsed(start, due), Ok(s));
    }

    #[test]
    fn add_is_monotonic_and_never_faster_than_real_time(
        hours in hours(), start in instant(), a in seconds(), b in seconds()
    ) {
        let (a, b) = (a.min(b), a.max(b));
        let due_a = hours.add(start, a).expect("computable");
        let due_b = hours.add(start, b).expect("computable");
        prop_assert!(due_a <= due_b, "{} s due {} after {} s due {}", a, due_a, b, due_b);
        prop_assert!(due_a - start >= TimeDelta::seconds(i64::try_from(a).unwrap_or(i64::MAX)));
    }

    #[test]
    fn elapsed_adds_up_over_consecutive_stretches(
        hours in hours(), start in instant(), a in 0i64..30 * 86_400, b in 0i64..30 * 86_400
    ) {
        let middle = start + TimeDelta::seconds(a);
        let end = middle + TimeDelta::seconds(b);
        let whole = hours.elapsed(start, end).expect("computable");
        let parts = hours.elapsed(start, middle).expect("computable") + hours.elapsed(middle, end).expect("computable");
        prop_assert_eq!(whole, parts);
        prop_assert!(whole <= u64::try_from(a + b).unwrap_or(u64::MAX));
    }

    #[test]
    fn every_day_all_day_is_real_time_in_any_zone(
        zone in prop::sample::select(ZONES), start in instant(), s in seconds()
    ) {
        let hours = BusinessHours {
            time_zone: zone.to_owned(),
            weekly: WEEKDAYS.map(|weekday| WeeklyInterval { weekday, start_minute: 0, end_minute: 1_440 }).to_vec(),
            // A holiday far away keeps the day-by-day walk in use.
            holidays: vec![NaiveDate::from_ymd_opt(2099, 1, 1).expect("a date")],
        };
        let due = hours.add(start, s).expect("computable");
        prop_assert_eq!(due, start + TimeDelta::seconds(i64::try_from(s).unwrap_or(i64::MAX)));
    }
}
