//! Scheduled scaling actions, as DescribeScheduledActions answers them, become
//! `[services.<key>.autoscaling.schedules.<name>]`, or a note saying why not.

use aws_smithy_types::DateTime;

use super::*;

/// A scheduled action on the live service's target: `range` is (min, max).
fn action(
    name: &str,
    schedule: &str,
    timezone: Option<&str>,
    range: (Option<i32>, Option<i32>),
) -> aas::builders::ScheduledActionBuilder {
    aas::ScheduledAction::builder()
        .scheduled_action_name(name)
        .scheduled_action_arn(format!("arn:aws:autoscaling:eu-west-1:123456789012:scheduledAction:x:scheduledActionName/{name}"))
        .service_namespace(aas::ServiceNamespace::Ecs)
        .schedule(schedule)
        .set_timezone(timezone.map(str::to_string))
        .resource_id("service/prod/shop-web")
        .scalable_dimension(aas::ScalableDimension::EcsServiceDesiredCount)
        .scalable_target_action(
            aas::ScalableTargetAction::builder()
                .set_min_capacity(range.0)
                .set_max_capacity(range.1)
                .build(),
        )
        .creation_time(DateTime::from_secs(0))
}

/// `days` days from the conversion's "now" (negative: before it).
fn day(days: i64) -> DateTime {
    DateTime::from_secs(NOW_SECS as i64 + days * 86_400)
}

fn schedule(c: &Conversion, name: &str) -> Option<(String, String, Option<u32>, Option<u32>)> {
    let loaded = load(c);
    let a = loaded.config.services["web"].autoscaling.clone()?;
    let s = a.schedules.get(name)?;
    Some((s.schedule.clone(), s.timezone.clone(), s.min, s.max))
}

#[test]
fn scheduled_actions_become_schedules_under_names_ecsdeploy_takes() {
    let mut l = live();
    l.scheduled_actions = vec![
        action(
            "night",
            "cron(0 20 * * ? *)",
            Some("Asia/Tokyo"),
            (Some(1), Some(1)),
        )
        .build()
        .unwrap(),
        action(
            "Weekday_Morning",
            "cron(0 8 ? * MON-FRI *)",
            Some("UTC"),
            (Some(4), Some(8)),
        )
        .build()
        .unwrap(),
        // One bound, agreeing with the range (2 to 8).
        action("9am", "cron(0 9 * * ? *)", None, (None, Some(6)))
            .build()
            .unwrap(),
        // Derives the name `night` too.
        action(
            "NIGHT",
            "at(2026-12-31T23:00:00)",
            Some("Europe/Paris"),
            (Some(2), None),
        )
        .build()
        .unwrap(),
        // A window that began and has no end changes nothing from now on.
        action("started", "rate(1 day)", None, (Some(3), Some(8)))
            .start_time(day(-30))
            .build()
            .unwrap(),
    ];
    let c = convert(&l, &options());
    assert_eq!(
        schedule(&c, "night"),
        Some((
            "cron(0 20 * * ? *)".into(),
            "Asia/Tokyo".into(),
            Some(1),
            Some(1)
        ))
    );
    assert_eq!(
        schedule(&c, "weekday-morning"),
        Some((
            "cron(0 8 ? * MON-FRI *)".into(),
            "UTC".into(),
            Some(4),
            Some(8)
        ))
    );
    assert_eq!(
        schedule(&c, "s-9am"),
        Some(("cron(0 9 * * ? *)".into(), "UTC".into(), None, Some(6)))
    );
    assert_eq!(
        schedule(&c, "night-2"),
        Some((
            "at(2026-12-31T23:00:00)".into(),
            "Europe/Paris".into(),
            Some(2),
            None
        ))
    );
    assert_eq!(
        schedule(&c, "started"),
        Some(("rate(1 day)".into(), "UTC".into(), Some(3), Some(8)))
    );
    // UTC is the default: not written.
    assert_eq!(c.config.matches("timezone = ").count(), 2, "{}", c.config);
    assert!(c.config.contains(
        "# The live scheduled action `Weekday_Morning`; the new service's is \
         `shop-web-web-weekday-morning`.\n[services.web.autoscaling.schedules.weekday-morning]"
    ));
    // The target-tracking policy is still there.
    let a = load(&c).config.services["web"].autoscaling.clone().unwrap();
    assert_eq!((a.min, a.max, a.cpu), (2, 8, Some(70.0)));

    let notes = c.not_expressible.join("\n");
    for renamed in ["Weekday_Morning", "9am", "NIGHT"] {
        assert!(
            notes.contains(&format!("scheduled scaling action `{renamed}`")),
            "{notes}"
        );
    }
    assert!(
        notes.contains(
            "is the schedule `weekday-morning` (a schedule's name is lowercase letters, digits \
             and hyphens): the new service's action is `shop-web-web-weekday-morning`, and \
             `Weekday_Morning` stays on the old service, which is only read, never changed"
        ),
        "{notes}"
    );
    assert!(notes.contains("is the schedule `night-2`"), "{notes}");
    assert!(!notes.contains("action `night` "), "{notes}");
    assert!(
        notes.contains(
            "scheduled scaling action `started` (rate(1 day)): its start time \
             2026-05-02T00:00:00Z has passed; carried without it"
        ),
        "{notes}"
    );
    assert!(!notes.contains("not carried"), "{notes}");
}

#[test]
fn what_a_schedule_cannot_carry_is_listed_and_left_out() {
    let mut l = live();
    let both = (Some(2), Some(4));
    l.scheduled_actions = vec![
        action("kept", "cron(0 7 * * ? *)", None, both)
            .build()
            .unwrap(),
        action("ended", "cron(0 7 * * ? *)", None, both)
            .start_time(day(-60))
            .end_time(day(-1))
            .build()
            .unwrap(),
        action("season", "cron(0 7 * * ? *)", None, both)
            .start_time(day(-5))
            .end_time(day(20))
            .build()
            .unwrap(),
        action("later", "cron(0 7 * * ? *)", None, both)
            .start_time(day(3))
            .build()
            .unwrap(),
        action("five-fields", "cron(0 7 * * *)", None, both)
            .build()
            .unwrap(),
        action("mars", "cron(0 7 * * ? *)", Some("Mars/Olympus"), both)
            .build()
            .unwrap(),
        // The range is 2 to 8: a single bound must agree with it.
        action("min-only", "cron(0 7 * * ? *)", None, (Some(9), None))
            .build()
            .unwrap(),
        action("max-only", "cron(0 7 * * ? *)", None, (None, Some(1)))
            .build()
            .unwrap(),
        action("neither", "cron(0 7 * * ? *)", None, (None, None))
            .build()
            .unwrap(),
        action("huge", "cron(0 7 * * ? *)", None, (Some(2), Some(5000)))
            .build()
            .unwrap(),
    ];
    let c = convert(&l, &options());
    let a = load(&c).config.services["web"].autoscaling.clone().unwrap();
    assert_eq!(a.schedules.keys().collect::<Vec<_>>(), ["kept"]);
    let notes = c.not_expressible.join("\n");
    for (name, why) in [
        (
            "ended",
            "its end time 2026-05-31T00:00:00Z has passed, so it no longer runs",
        ),
        (
            "season",
            "it runs only from 2026-05-27T00:00:00Z until 2026-06-21T00:00:00Z, and ecsdeploy \
             has no start or end time",
        ),
        ("later", "it runs only from 2026-06-04T00:00:00Z, and"),
        ("five-fields", "`cron(0 7 * * *)` has 5 field(s)"),
        (
            "mars",
            "time zone: `Mars/Olympus` is not an IANA time zone name",
        ),
        (
            "min-only",
            "it sets only the minimum capacity (9), above the maximum it leaves as it is (8",
        ),
        (
            "max-only",
            "it sets only the maximum capacity (1), below the minimum it leaves as it is (2",
        ),
        (
            "neither",
            "it sets neither a minimum nor a maximum capacity",
        ),
        (
            "huge",
            "its max capacity is 5000; ecsdeploy takes 0 to 1000",
        ),
    ] {
        let line = c
            .not_expressible
            .iter()
            .find(|n| n.starts_with(&format!("scheduled scaling action `{name}` ")))
            .unwrap_or_else(|| panic!("{name} not listed:\n{notes}"));
        assert!(line.contains(why), "{line}");
        assert!(line.ends_with("; not carried"), "{line}");
    }
    assert!(!notes.contains("`kept`"), "{notes}");
}

#[test]
fn schedules_alone_keep_autoscaling_without_a_policy() {
    let mut l = live();
    l.scaling_policies = vec![step_policy()];
    l.scheduled_actions =
        vec![
            action("stop", "cron(0 21 ? * MON-FRI *)", None, (Some(0), Some(0)))
                .build()
                .unwrap(),
        ];
    let c = convert(&l, &options());
    let a = load(&c).config.services["web"].autoscaling.clone().unwrap();
    assert_eq!((a.min, a.max), (2, 8));
    assert_eq!((a.cpu, a.memory, a.requests_per_target), (None, None, None));
    assert_eq!(
        schedule(&c, "stop"),
        Some((
            "cron(0 21 ? * MON-FRI *)".into(),
            "UTC".into(),
            Some(0),
            Some(0)
        ))
    );
    let notes = c.not_expressible.join("\n");
    assert!(
        notes.contains("scaling policy `steps` (StepScaling)"),
        "{notes}"
    );
    assert!(!notes.contains("fixed desired_count"), "{notes}");
    assert!(!notes.contains("not the service's usual one"), "{notes}");

    // Nothing ecsdeploy can express: no autoscaling, and the note says so.
    l.scheduled_actions = vec![action("bad", "cron(0 21 * * *)", None, (Some(0), Some(0)))
        .build()
        .unwrap()];
    let c = convert(&l, &options());
    assert!(load(&c).config.services["web"].autoscaling.is_none());
    let notes = c.not_expressible.join("\n");
    assert!(
        notes.contains(
            "autoscaling between 2 and 8 tasks: no policy or schedule ecsdeploy can express"
        ),
        "{notes}"
    );
}

#[test]
fn schedule_names_are_made_from_the_actions() {
    for (live, name) in [
        ("night", "night"),
        ("scale-in--late", "scale-in--late"),
        ("Night_Scale", "night-scale"),
        ("__x__", "x"),
        ("9am", "s-9am"),
        ("-9am", "s-9am"),
        ("___", "schedule"),
        ("Été", "t"),
    ] {
        assert_eq!(schedules::name_from(live), name, "{live}");
    }
    let long = schedules::name_from(&format!("{}-{}", "a".repeat(63), "b".repeat(10)));
    assert_eq!(long, "a".repeat(63));
    let long = schedules::name_from(&"X".repeat(100));
    assert_eq!(long.len(), 64);
}

#[test]
fn a_live_range_a_schedule_set_is_said() {
    // The target (2 to 8) was read while the action `day` was in force.
    let mut l = live();
    l.scheduled_actions = vec![
        action("day", "cron(0 7 * * ? *)", None, (Some(2), Some(8)))
            .build()
            .unwrap(),
        action("night", "cron(0 20 * * ? *)", None, (Some(1), Some(1)))
            .build()
            .unwrap(),
    ];
    let c = convert(&l, &options());
    let notes = c.not_expressible.join("\n");
    assert!(
        notes.contains(
            "autoscaling range 2 to 8: the range scheduled action `day` sets, so perhaps not \
             the service's usual one"
        ),
        "{notes}"
    );
}
