//! `[services.<key>.autoscaling]`: the range, the tracked metric, cooldowns and schedules.

use super::load_balancer::{alb_listeners, http_web};
use super::*;

fn scaling(body: &str) -> String {
    svc(&format!("[services.web.autoscaling]\n{body}"))
}

#[test]
fn autoscaling_bounds() {
    let p = "services.web.autoscaling";
    assert!(diags(&scaling("min = 0\nmax = 1000\ncpu = 50\n")).is_empty());
    one(
        &scaling("min = 0\nmax = 0\ncpu = 50\n"),
        &format!("{p}.max"),
        "max is 0; it must be 1 to 1000",
    );
    one(
        &scaling("min = 1\nmax = 1001\ncpu = 50\n"),
        &format!("{p}.max"),
        "max is 1001",
    );
    one(
        &scaling("min = 3\nmax = 2\ncpu = 50\n"),
        &format!("{p}.min"),
        "min (3) is greater than max (2)",
    );
}

#[test]
fn autoscaling_tracks_exactly_one_metric() {
    let p = "services.web.autoscaling";
    one(
        &scaling("min = 1\nmax = 2\n"),
        p,
        "set exactly one of `cpu`, `memory` or `requests_per_target`",
    );
    one(
        &scaling("min = 1\nmax = 2\ncpu = 50\nmemory = 50\n"),
        &format!("{p}.memory"),
        "`cpu` and `memory` are both set; autoscaling tracks exactly one of `cpu`, `memory` \
         or `requests_per_target`",
    );
}

#[test]
fn autoscaling_utilisation_targets() {
    let p = "services.web.autoscaling";
    assert!(diags(&scaling("min = 1\nmax = 2\nmemory = 100\n")).is_empty());
    assert!(diags(&scaling("min = 1\nmax = 2\ncpu = 0.5\n")).is_empty());
    one(
        &scaling("min = 1\nmax = 2\ncpu = 0\n"),
        &format!("{p}.cpu"),
        "cpu target is 0; an average utilisation target must be above 0 and at most 100",
    );
    one(
        &scaling("min = 1\nmax = 2\nmemory = 100.5\n"),
        &format!("{p}.memory"),
        "memory target is 100.5",
    );
    one(
        &scaling("min = 1\nmax = 2\ncpu = nan\n"),
        &format!("{p}.cpu"),
        "cpu target is NaN",
    );
}

#[test]
fn autoscaling_requests_per_target() {
    let p = "services.web.autoscaling.requests_per_target";
    let with_tg = |v: &str| {
        alb_listeners(&format!(
            "{}[services.web.autoscaling]\nmin = 1\nmax = 4\nrequests_per_target = {v}\n",
            http_web()
        ))
    };
    assert!(
        diags(&with_tg("500")).is_empty(),
        "{:#?}",
        diags(&with_tg("500"))
    );
    one(
        &with_tg("0"),
        p,
        "requests_per_target is 0; it must be above 0",
    );
    one(
        &scaling("min = 1\nmax = 2\nrequests_per_target = 100\n"),
        p,
        "requests_per_target tracks the load balancer's requests per target, which needs a \
         target_group",
    );
}

#[test]
fn autoscaling_cooldowns() {
    one(
        &scaling("min = 1\nmax = 2\ncpu = 50\nscale_in_cooldown = 3601\n"),
        "services.web.autoscaling.scale_in_cooldown",
        "scale_in_cooldown is 3601 seconds; it must be 0 to 3600",
    );
    one(
        &scaling("min = 1\nmax = 2\ncpu = 50\nscale_out_cooldown = 4000\n"),
        "services.web.autoscaling.scale_out_cooldown",
        "scale_out_cooldown is 4000 seconds",
    );
}

#[test]
fn desired_count_outside_the_autoscaling_range_warns() {
    let w = warns(&svc(
        "desired_count = 10\n[services.web.autoscaling]\nmin = 1\nmax = 5\ncpu = 50\n",
    ));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].key, "services.web.desired_count");
    assert!(
        w[0].message.contains(
            "desired_count 10 is outside the autoscaling range 1 to 5; the autoscaler starts \
             from the nearest bound (5)"
        ),
        "{}",
        w[0].message
    );
    // The default desired_count (1) below min.
    let w = warns(&scaling("min = 2\nmax = 5\ncpu = 50\n"));
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(
        w[0].message.contains("nearest bound (2)"),
        "{}",
        w[0].message
    );
    assert!(warns(&scaling("min = 1\nmax = 5\ncpu = 50\n")).is_empty());
}

/// `[services.web.autoscaling]` with `body`, then one schedule `night` with `schedule`.
fn scheduled(body: &str, schedule: &str) -> String {
    scaling(&format!(
        "{body}[services.web.autoscaling.schedules.night]\n{schedule}"
    ))
}

#[test]
fn schedules_alone_may_scale() {
    let text = scheduled(
        "min = 1\nmax = 4\n",
        "schedule = \"cron(0 20 ? * MON-FRI *)\"\ntimezone = \"Asia/Tokyo\"\nmin = 0\nmax = 0\n",
    );
    assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
    let once = scheduled(
        "min = 1\nmax = 4\ncpu = 50\n",
        "schedule = \"at(2027-03-01T08:00:00)\"\nmin = 3\n",
    );
    assert!(diags(&once).is_empty(), "{:#?}", diags(&once));
}

#[test]
fn a_schedule_names_when_and_where() {
    let p = "services.web.autoscaling.schedules.night";
    let d = one(
        &scheduled(
            "min = 1\nmax = 4\n",
            "schedule = \"cron(0 20 * * * *)\"\nmax = 1\n",
        ),
        &format!("{p}.schedule"),
        "must be `?`",
    );
    assert_eq!((d.line, d.col), (9, 1));
    one(
        &scheduled(
            "min = 1\nmax = 4\n",
            "schedule = \"rate(1 day)\"\ntimezone = \"Tokyo\"\nmax = 1\n",
        ),
        &format!("{p}.timezone"),
        "`Tokyo` is not an IANA time zone name",
    );
    one(
        &scaling(
            "min = 1\nmax = 4\n[services.web.autoscaling.schedules.Night]\n\
             schedule = \"rate(1 day)\"\nmax = 1\n",
        ),
        "services.web.autoscaling.schedules.Night",
        "schedule name `Night` is invalid (it contains `N`)",
    );
}

#[test]
fn a_schedule_sets_a_range_that_holds() {
    let p = "services.web.autoscaling.schedules.night";
    let base = "min = 2\nmax = 4\n";
    let with = |range: &str| scheduled(base, &format!("schedule = \"rate(1 day)\"\n{range}"));
    one(
        &with(""),
        p,
        "a schedule sets `min`, `max` or both; it has neither",
    );
    one(
        &with("min = 3\nmax = 1\n"),
        &format!("{p}.min"),
        "min (3) is greater than max (1)",
    );
    one(
        &with("min = 5\n"),
        &format!("{p}.min"),
        "min (5) is above autoscaling.max (4), which this schedule leaves as it is; set `max` \
         here too",
    );
    one(
        &with("max = 1\n"),
        &format!("{p}.max"),
        "max (1) is below autoscaling.min (2), which this schedule leaves as it is; set `min` \
         here too",
    );
    one(
        &with("min = 0\nmax = 1001\n"),
        &format!("{p}.max"),
        "max is 1001; it must be 0 to 1000",
    );
    for fine in [
        "min = 4\n",
        "max = 2\n",
        "min = 0\nmax = 0\n",
        "min = 6\nmax = 8\n",
    ] {
        assert!(
            diags(&with(fine)).is_empty(),
            "{fine}: {:#?}",
            diags(&with(fine))
        );
    }
}
