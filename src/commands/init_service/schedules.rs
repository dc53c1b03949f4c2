//! The live service's scheduled scaling actions → `[services.<key>.autoscaling.schedules.<name>]`
//! (pure). An action is carried when ecsdeploy's validation would accept it as a schedule
//! (its expression, time zone and range, the range checked against the base one the config
//! gets) and its start and end times no longer matter (none, or a start that has passed);
//! otherwise it is left out with a note. The new action is `<app>-<key>-<name>`; the live
//! one stays on the old service.

use std::collections::BTreeSet;
use std::time::SystemTime;

use aws_sdk_applicationautoscaling::types::ScheduledAction;
use aws_smithy_types::DateTime;

use super::text::q;
use super::Keys;
use crate::config::schedule::{scaling_expression_problem, timezone_problem};

/// Longest schedule name ecsdeploy takes.
const MAX_NAME_LEN: usize = crate::config::validate::MAX_SCHEDULE_KEY_LEN;
/// The most tasks a range may name (`services.<key>.autoscaling`).
const MAX_TASKS: i32 = crate::config::validate::MAX_DESIRED_COUNT as i32;

/// One schedule of the config.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The key under `schedules`.
    pub name: String,
    /// The live scheduled action's name.
    pub live_name: String,
    /// `schedule`, `timezone`, `min`, `max` (values already TOML).
    pub keys: Keys,
}

/// The schedules the config gets from `actions`, given the base range `(min, max)` it
/// writes and the new actions' name prefix (`<app>-<key>`); what is left out, and a name
/// or a window that changes, is said in `notes`.
pub fn convert(
    actions: &[ScheduledAction],
    base: (i32, i32),
    prefix: &str,
    now: SystemTime,
    notes: &mut Vec<String>,
) -> Vec<Schedule> {
    let now = DateTime::from(now);
    let mut taken = BTreeSet::new();
    let mut out = Vec::new();
    for a in actions {
        let live = a.scheduled_action_name();
        let what = format!("scheduled scaling action `{live}` ({})", a.schedule());
        let window = match window(a, now) {
            Ok(w) => w,
            Err(why) => {
                notes.push(format!("{what}: {why}; not carried"));
                continue;
            }
        };
        if let Some(why) = problem(a, base) {
            notes.push(format!("{what}: {why}; not carried"));
            continue;
        }
        if let Some(start) = window {
            notes.push(format!(
                "{what}: its start time {start} has passed; carried without it (ecsdeploy has \
                 no start time)"
            ));
        }
        let name = unique(&name_from(live), &mut taken);
        if name != live {
            notes.push(format!(
                "{what} is the schedule `{name}` (a schedule's name is lowercase letters, \
                 digits and hyphens): the new service's action is `{prefix}-{name}`, and \
                 `{live}` stays on the old service, which is only read, never changed"
            ));
        }
        let mut keys: Keys = vec![("schedule".into(), q(a.schedule()))];
        // An action put without a time zone runs in UTC (PutScheduledAction `Timezone`), as
        // a schedule without `timezone` does.
        if let Some(tz) = timezone(a).filter(|tz| *tz != "UTC") {
            keys.push(("timezone".into(), q(tz)));
        }
        let range = a.scalable_target_action();
        for (k, v) in [
            ("min", range.and_then(|r| r.min_capacity())),
            ("max", range.and_then(|r| r.max_capacity())),
        ] {
            if let Some(v) = v {
                keys.push((k.into(), v.to_string()));
            }
        }
        out.push(Schedule {
            name,
            live_name: live.to_string(),
            keys,
        });
    }
    out
}

/// Whether the action's start and end times can be left behind: `Ok(None)` without them,
/// `Ok(Some(start))` when only a start time that has passed (it changes nothing from now
/// on), else why not. With a recurring expression, the two "form the boundaries for when
/// the recurring action starts and stops" (Application Auto Scaling API reference,
/// PutScheduledAction); ecsdeploy has no keys for them. Carried without a window still
/// ahead, the action would also run outside it (a week's scale-up every day of the year),
/// so it is left out instead: the new service then keeps its base range and its target
/// tracking, and the note says what to add when the window no longer matters.
fn window(a: &ScheduledAction, now: DateTime) -> Result<Option<DateTime>, String> {
    let (start, end) = (a.start_time().copied(), a.end_time().copied());
    match (start, end) {
        (_, Some(end)) if end <= now => Err(format!(
            "its end time {end} has passed, so it no longer runs"
        )),
        (None, None) => Ok(None),
        (Some(start), None) if start <= now => Ok(Some(start)),
        (start, end) => {
            let from = start.map(|s| format!(" from {s}")).unwrap_or_default();
            let until = end.map(|e| format!(" until {e}")).unwrap_or_default();
            Err(format!(
                "it runs only{from}{until}, and ecsdeploy has no start or end time: without \
                 them it would also run outside that window"
            ))
        }
    }
}

/// The action's time zone, if it names one (none, or an empty one, is UTC).
fn timezone(a: &ScheduledAction) -> Option<&str> {
    a.timezone().filter(|tz| !tz.is_empty())
}

/// Why ecsdeploy's validation would refuse the action as a schedule, if it would
/// (src/config/validate/autoscaling.rs, `scaling_schedule`, which this mirrors).
fn problem(a: &ScheduledAction, (base_min, base_max): (i32, i32)) -> Option<String> {
    if let Some(m) = scaling_expression_problem(a.schedule()) {
        return Some(m);
    }
    if let Some(m) = timezone(a).and_then(timezone_problem) {
        return Some(format!("time zone: {m}"));
    }
    let range = a.scalable_target_action();
    let (min, max) = (
        range.and_then(|r| r.min_capacity()),
        range.and_then(|r| r.max_capacity()),
    );
    for (k, v) in [("min", min), ("max", max)] {
        if let Some(v) = v.filter(|v| !(0..=MAX_TASKS).contains(v)) {
            return Some(format!(
                "its {k} capacity is {v}; ecsdeploy takes 0 to {MAX_TASKS}"
            ));
        }
    }
    match (min, max) {
        (None, None) => Some("it sets neither a minimum nor a maximum capacity".into()),
        (Some(min), Some(max)) if min > max => Some(format!(
            "its minimum capacity ({min}) is above its maximum ({max})"
        )),
        (Some(min), None) if min > base_max => Some(format!(
            "it sets only the minimum capacity ({min}), above the maximum it leaves as it is \
             ({base_max}, the range's); ecsdeploy needs a schedule's single bound to agree \
             with the range"
        )),
        (None, Some(max)) if max < base_min => Some(format!(
            "it sets only the maximum capacity ({max}), below the minimum it leaves as it is \
             ({base_min}, the range's); ecsdeploy needs a schedule's single bound to agree \
             with the range"
        )),
        _ => None,
    }
}

/// A schedule name from a scheduled action's: lowercase, every character other than a
/// letter, a digit or a hyphen made a hyphen, hyphens trimmed from both ends, `s-` in front
/// when it does not start with a letter, at most 64 characters. A name ecsdeploy takes is
/// kept as it is.
pub fn name_from(live: &str) -> String {
    let lower: String = live
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = lower.trim_matches('-');
    let mut name = if trimmed.starts_with(|c: char| c.is_ascii_lowercase()) {
        trimmed.to_string()
    } else if trimmed.is_empty() {
        "schedule".to_string()
    } else {
        format!("s-{trimmed}")
    };
    name.truncate(MAX_NAME_LEN);
    name.trim_end_matches('-').to_string()
}

/// `name`, or `name-2`, `name-3`, ... (each at most 64 characters): the first not in
/// `taken`, which then holds it.
fn unique(name: &str, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = name.to_string();
    let mut n = 2;
    while taken.contains(&candidate) {
        let suffix = format!("-{n}");
        let mut stem = name.to_string();
        stem.truncate(MAX_NAME_LEN - suffix.len());
        candidate = format!("{}{suffix}", stem.trim_end_matches('-'));
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}
