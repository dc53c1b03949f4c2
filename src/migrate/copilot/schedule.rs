//! A Copilot Scheduled Job's `on.schedule` in EventBridge Scheduler's terms (what
//! `[jobs.<key>] schedule` takes): Copilot's `@hourly` ... `@yearly`, `@every <duration>`
//! and five-field Unix cron become `cron(...)` (six fields, one day field `?`, Sunday = 1)
//! or `rate(...)`. `None` for what has no exact equivalent.

/// The Scheduler expression for a Copilot schedule.
pub fn aws_schedule(copilot: &str) -> Option<String> {
    let s = copilot.trim();
    let preset = match s {
        "@hourly" => Some("cron(0 * * * ? *)"),
        "@daily" | "@midnight" => Some("cron(0 0 * * ? *)"),
        "@weekly" => Some("cron(0 0 ? * 1 *)"),
        "@monthly" => Some("cron(0 0 1 * ? *)"),
        "@yearly" | "@annually" => Some("cron(0 0 1 1 ? *)"),
        _ => None,
    };
    if let Some(p) = preset {
        return Some(p.to_string());
    }
    if let Some(d) = s.strip_prefix("@every ") {
        return every(d.trim());
    }
    unix_cron(s)
}

/// `@every 1h30m` (a Go duration of whole minutes) → `rate(90 minutes)`, in the largest
/// whole unit.
fn every(d: &str) -> Option<String> {
    let mut minutes: u64 = 0;
    let mut number = String::new();
    for c in d.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        minutes += match c {
            'h' => n * 60,
            'm' => n,
            _ => return None,
        };
    }
    if !number.is_empty() || minutes == 0 {
        return None;
    }
    let (n, unit) = if minutes % 1440 == 0 {
        (minutes / 1440, "day")
    } else if minutes % 60 == 0 {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    let plural = if n == 1 { "" } else { "s" };
    Some(format!("rate({n} {unit}{plural})"))
}

/// `m h dom mon dow` → `cron(m h dom mon dow *)`: the unused day field becomes `?`, and a
/// numeric day of week moves from Sunday = 0 to Sunday = 1. Both day fields restricted has
/// no equivalent (Unix cron runs on either; Scheduler takes one).
fn unix_cron(s: &str) -> Option<String> {
    let f: Vec<&str> = s.split_whitespace().collect();
    let [m, h, dom, mon, dow] = f[..] else {
        return None;
    };
    let (dom, dow) = match (dom, dow) {
        (_, "*") => (dom.to_string(), "?".to_string()),
        ("*", _) => ("?".to_string(), shift_days(dow)?),
        _ => return None,
    };
    Some(format!("cron({m} {h} {dom} {mon} {dow} *)"))
}

/// Day-of-week numbers 0-7 (0 and 7 are Sunday) → 1-7; names stay.
fn shift_days(dow: &str) -> Option<String> {
    let mut out = String::new();
    let mut number = String::new();
    let flush = |number: &mut String, out: &mut String| -> Option<()> {
        if !number.is_empty() {
            let n: u32 = number.parse().ok()?;
            if n > 7 {
                return None;
            }
            out.push_str(&(n % 7 + 1).to_string());
            number.clear();
        }
        Some(())
    };
    for c in dow.chars() {
        if c.is_ascii_digit() {
            number.push(c);
        } else {
            flush(&mut number, &mut out)?;
            out.push(c);
        }
    }
    flush(&mut number, &mut out)?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::aws_schedule;

    #[test]
    fn copilot_schedules_become_scheduler_expressions() {
        let t = |s: &str| aws_schedule(s);
        assert_eq!(t("@daily").as_deref(), Some("cron(0 0 * * ? *)"));
        assert_eq!(t("@weekly").as_deref(), Some("cron(0 0 ? * 1 *)"));
        assert_eq!(t("@every 30m").as_deref(), Some("rate(30 minutes)"));
        assert_eq!(t("@every 1h30m").as_deref(), Some("rate(90 minutes)"));
        assert_eq!(t("@every 2h").as_deref(), Some("rate(2 hours)"));
        assert_eq!(t("@every 24h").as_deref(), Some("rate(1 day)"));
        assert_eq!(t("0 9 * * 1-5").as_deref(), Some("cron(0 9 ? * 2-6 *)"));
        assert_eq!(t("*/15 * * * *").as_deref(), Some("cron(*/15 * * * ? *)"));
        assert_eq!(t("0 0 1 * *").as_deref(), Some("cron(0 0 1 * ? *)"));
        assert_eq!(t("0 0 0 * 0").as_deref(), None, "both day fields");
        assert_eq!(t("0 0 * * 0").as_deref(), Some("cron(0 0 ? * 1 *)"));
        assert_eq!(t("@every 90s"), None);
        assert_eq!(t("none"), None);
    }
}
