//! Five-field cron expressions (`minute hour day-of-month month day-of-week`) evaluated in
//! an IANA time zone, and their description in words.
//!
//! Fields take `*`, numbers, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n`, and lists
//! `a,b`; months and weekdays also take names (`JAN`, `MON`), and Sunday is 0 or 7. When
//! both day fields are restricted, a day matching either fires (as in Vixie cron).
//! `@hourly`, `@daily`, `@weekly`, `@monthly` and `@yearly` are shorthands.
//!
//! Daylight saving: the expression is matched against the zone's wall-clock time. A
//! local time that does not exist (skipped by a spring-forward) does not fire that day;
//! a local time that occurs twice (repeated by a fall-back) fires once, at its first
//! occurrence.

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};

const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// How far ahead a match is looked for: `0 0 29 2 1` (Feb 29 or a Monday) always finds
/// one sooner, and `0 0 31 2 *` never does.
const SEARCH_DAYS: i32 = 366 * 5;

/// A parsed expression: one bit per allowed value of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    days_restricted: bool,
    weekdays_restricted: bool,
}

impl Cron {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let expanded = match text.to_ascii_lowercase().as_str() {
            "@hourly" => "0 * * * *".to_owned(),
            "@daily" | "@midnight" => "0 0 * * *".to_owned(),
            "@weekly" => "0 0 * * 0".to_owned(),
            "@monthly" => "0 0 1 * *".to_owned(),
            "@yearly" | "@annually" => "0 0 1 1 *".to_owned(),
            _ if text.starts_with('@') => {
                return Err(format!(
                    "`{text}` is not a shorthand; use @hourly, @daily, @weekly, @monthly or @yearly"
                ));
            }
            _ => text.to_owned(),
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(format!(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week); this one has {}",
                fields.len()
            ));
        };
        let weekdays = field(weekday, "day of week", 0, 7, &WEEKDAYS)?;
        // 7 is Sunday as well as 0.
        let weekdays = ((weekdays | (weekdays >> 7)) & 0x7f) as u8;
        Ok(Self {
            minutes: field(minute, "minute", 0, 59, &[])?,
            hours: field(hour, "hour", 0, 23, &[])? as u32,
            days: field(day, "day of month", 1, 31, &[])? as u32,
            months: field(month, "month", 1, 12, &MONTHS)? as u16,
            weekdays,
            days_restricted: *day != "*",
            weekdays_restricted: *weekday != "*",
        })
    }

    fn day_matches(&self, date: Date) -> bool {
        if self.months & (1 << date.month()) == 0 {
            return false;
        }
        let day = self.days & (1 << date.day()) != 0;
        let weekday = self.weekdays & (1 << date.weekday().to_sunday_zero_offset()) != 0;
        match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => day || weekday,
            (true, false) => day,
            (false, true) => weekday,
            (false, false) => true,
        }
    }

    /// The first fire strictly after `after`, in `tz`'s wall-clock time; `None` when the
    /// expression names no date that exists (`0 0 31 2 *`).
    pub fn next_after(&self, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
        // A day early: in a repeated hour, `after`'s wall clock may already be past a
        // time whose first occurrence is still ahead (and the reverse).
        let start = tz.to_datetime(after).date().checked_sub(1.day()).ok()?;
        for offset in 0..SEARCH_DAYS {
            let date = start.checked_add(offset.days()).ok()?;
            if !self.day_matches(date) {
                continue;
            }
            for hour in bits(u64::from(self.hours), 23) {
                for minute in bits(self.minutes, 59) {
                    let civil = date.at(hour as i8, minute as i8, 0, 0);
                    let Some(at) = resolve(tz, civil) else {
                        continue;
                    };
                    if at > after {
                        return Some(at);
                    }
                }
            }
        }
        None
    }

    /// The expression in words: "at 09:00 on Monday to Friday", "every 15 minutes".
    pub fn describe(&self) -> String {
        let minutes: Vec<u32> = bits(self.minutes, 59).collect();
        let hours: Vec<u32> = bits(u64::from(self.hours), 23).collect();
        let time = if minutes.len() == 60 && hours.len() == 24 {
            "every minute".to_owned()
        } else if hours.len() == 24 {
            match step_of(&minutes, 60) {
                Some(step) => format!("every {step} minutes"),
                None => format!(
                    "at minute {} of every hour",
                    list(&minutes, |m| m.to_string())
                ),
            }
        } else if minutes.len() == 60 {
            format!(
                "every minute of hour {}",
                list(&hours, |h| format!("{h:02}:00"))
            )
        } else if hours.len() * minutes.len() <= 6 {
            let mut times = Vec::new();
            for h in &hours {
                for m in &minutes {
                    times.push(format!("{h:02}:{m:02}"));
                }
            }
            format!("at {}", join(&times))
        } else {
            let every = step_of(&hours, 24)
                .map(|step| format!("every {step} hours"))
                .unwrap_or_else(|| format!("at hours {}", list(&hours, |h| h.to_string())));
            format!("at minute {} {every}", list(&minutes, |m| m.to_string()))
        };
        let mut days = Vec::new();
        if self.days_restricted {
            let d: Vec<u32> = bits(u64::from(self.days), 31).filter(|d| *d >= 1).collect();
            days.push(format!(
                "on day {} of the month",
                list(&d, |d| d.to_string())
            ));
        }
        if self.weekdays_restricted {
            let w: Vec<u32> = bits(u64::from(self.weekdays), 6).collect();
            let names = if w == [1, 2, 3, 4, 5] {
                "Monday to Friday".to_owned()
            } else if w == [0, 6] {
                "Saturday and Sunday".to_owned()
            } else {
                join(
                    &w.iter()
                        .map(|d| WEEKDAY_NAMES[*d as usize].to_owned())
                        .collect::<Vec<_>>(),
                )
            };
            days.push(format!("on {names}"));
        }
        let mut out = time;
        if !days.is_empty() {
            out.push(' ');
            out.push_str(&days.join(" or "));
        }
        let months: Vec<u32> = bits(u64::from(self.months), 12)
            .filter(|m| *m >= 1)
            .collect();
        if months.len() < 12 {
            out.push_str(" in ");
            out.push_str(&join(
                &months
                    .iter()
                    .map(|m| MONTH_NAMES[*m as usize - 1].to_owned())
                    .collect::<Vec<_>>(),
            ));
        }
        out
    }
}

/// The instant of a wall-clock time: `None` for one that does not exist, the first of two.
pub fn resolve(tz: &TimeZone, civil: DateTime) -> Option<Timestamp> {
    let ambiguous = tz.to_ambiguous_timestamp(civil);
    match ambiguous.offset() {
        AmbiguousOffset::Gap { .. } => None,
        AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
            ambiguous.earlier().ok()
        }
    }
}

/// Parses one field into a bit set over `min..=max`.
fn field(text: &str, name: &str, min: u32, max: u32, names: &[&str]) -> Result<u64, String> {
    let value = |part: &str| -> Result<u32, String> {
        let upper = part.to_ascii_uppercase();
        if let Some(i) = names.iter().position(|n| *n == upper) {
            // Month names count from 1, weekday names from 0.
            return Ok(i as u32 + min);
        }
        let n: u32 = part
            .parse()
            .map_err(|_| format!("the {name} field has `{part}`, which is not a number"))?;
        if !(min..=max).contains(&n) {
            return Err(format!("the {name} field allows {min} to {max}, not {n}"));
        }
        Ok(n)
    };
    let mut set = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("the {name} field has an empty list item"));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step.parse().ok().filter(|s| *s >= 1).ok_or_else(|| {
                    format!("the {name} field has a step `/{step}` that is not a positive number")
                })?;
                (range, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(format!(
                    "the {name} field has a range `{range}` that runs backwards"
                ));
            }
            (a, b)
        } else {
            let a = value(range)?;
            // `a/n` runs from a to the end.
            (a, if item.contains('/') { max } else { a })
        };
        let mut n = lo;
        while n <= hi {
            set |= 1 << n;
            n += step;
        }
    }
    Ok(set)
}

fn bits(set: u64, max: u32) -> impl Iterator<Item = u32> {
    (0..=max).filter(move |n| set & (1 << n) != 0)
}

/// `n` when `values` is exactly 0, n, 2n, … below `period`.
fn step_of(values: &[u32], period: u32) -> Option<u32> {
    let step = *values.get(1)?;
    (values[0] == 0
        && step > 1
        && values
            .iter()
            .enumerate()
            .all(|(i, v)| *v == i as u32 * step)
        && values.len() as u32 == period.div_ceil(step))
    .then_some(step)
}

fn list(values: &[u32], show: impl Fn(u32) -> String) -> String {
    join(&values.iter().map(|v| show(*v)).collect::<Vec<_>>())
}

fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(name: &str) -> TimeZone {
        jiff::tz::db().get(name).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// The next `n` fires after `from`, as UTC instants.
    fn fires(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
        let cron = Cron::parse(expr).unwrap();
        let tz = tz(zone);
        let mut t = at(from);
        (0..n)
            .map(|_| {
                t = cron.next_after(&tz, t).unwrap();
                t.to_string()
            })
            .collect()
    }

    #[test]
    fn berlin_spring_forward_skips_the_missing_time_and_keeps_wall_clock_times() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
        assert_eq!(
            fires("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 3),
            [
                "2026-03-28T01:30:00Z",
                "2026-03-30T00:30:00Z",
                "2026-03-31T00:30:00Z"
            ]
        );
        // 09:00 local is 08:00 UTC before, 07:00 UTC after.
        assert_eq!(
            fires("0 9 * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", 2),
            ["2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z"]
        );
    }

    #[test]
    fn berlin_fall_back_fires_a_repeated_time_once() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        assert_eq!(
            fires("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 3),
            [
                "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00Z",
                "2026-10-27T01:30:00Z"
            ]
        );
        // Every 30 minutes through the repeated hour: each wall-clock time once.
        assert_eq!(
            fires("*/30 * * * *", "Europe/Berlin", "2026-10-24T23:45:00Z", 6),
            [
                "2026-10-25T00:00:00Z", // 02:00 CEST
                "2026-10-25T00:30:00Z", // 02:30 CEST
                // 02:00 and 02:30 CET are the same wall-clock times again: not repeated.
                "2026-10-25T02:00:00Z", // 03:00 CET
                "2026-10-25T02:30:00Z",
                "2026-10-25T03:00:00Z",
                "2026-10-25T03:30:00Z",
            ]
        );
    }

    #[test]
    fn new_york_changes_on_its_own_dates() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        assert_eq!(
            fires("30 2 * * *", "America/New_York", "2026-03-07T00:00:00Z", 2),
            ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z"]
        );
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        assert_eq!(
            fires("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2),
            ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
        );
        assert_eq!(
            fires("0 9 * * 1-5", "America/New_York", "2026-10-30T00:00:00Z", 2),
            ["2026-10-30T13:00:00Z", "2026-11-02T14:00:00Z"],
            "Friday in EDT, Monday in EST"
        );
    }

    #[test]
    fn fields_parse_with_names_steps_and_either_day_rule() {
        let cron = Cron::parse("0 12 1 * MON").unwrap();
        // The 1st of June 2026 is a Monday anyway; the 8th is a Monday, the 1st of July a
        // Wednesday: either day field fires.
        assert_eq!(
            fires("0 12 1 * MON", "UTC", "2026-06-01T12:00:00Z", 2),
            ["2026-06-08T12:00:00Z", "2026-06-15T12:00:00Z"]
        );
        assert!(cron.days_restricted && cron.weekdays_restricted);
        assert_eq!(
            fires("0 0 * * 7", "UTC", "2026-06-01T00:00:00Z", 1),
            ["2026-06-07T00:00:00Z"],
            "7 is Sunday"
        );
        assert_eq!(
            fires("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 1),
            ["2028-02-29T00:00:00Z"]
        );
        assert_eq!(
            Cron::parse("0 0 31 2 *")
                .unwrap()
                .next_after(&tz("UTC"), at("2026-01-01T00:00:00Z")),
            None
        );
        assert_eq!(
            Cron::parse("@daily").unwrap(),
            Cron::parse("0 0 * * *").unwrap()
        );
        for (bad, says) in [
            ("* * * *", "5 fields"),
            ("60 * * * *", "0 to 59"),
            ("*/0 * * * *", "step"),
            ("5-1 * * * *", "backwards"),
            ("x * * * *", "not a number"),
            ("@often", "shorthand"),
            ("1,,2 * * * *", "empty"),
        ] {
            let err = Cron::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn expressions_read_as_words() {
        for (expr, words) in [
            ("* * * * *", "every minute"),
            ("*/15 * * * *", "every 15 minutes"),
            ("5 * * * *", "at minute 5 of every hour"),
            ("0 9 * * 1-5", "at 09:00 on Monday to Friday"),
            ("30 8,17 * * *", "at 08:30 and 17:30"),
            ("0 */6 * * *", "at 00:00, 06:00, 12:00 and 18:00"),
            ("0 */2 * * *", "at minute 0 every 2 hours"),
            (
                "0 0 1 1,7 *",
                "at 00:00 on day 1 of the month in January and July",
            ),
            ("0 10 * * SAT,SUN", "at 10:00 on Saturday and Sunday"),
        ] {
            assert_eq!(Cron::parse(expr).unwrap().describe(), words, "{expr}");
        }
    }
}
