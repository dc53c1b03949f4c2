//! `[jobs.<key>]`: the schedule, the time zone, where the image comes from, the size.

use super::*;

/// BASE plus `[services.web]` (lines 3-4) and `[jobs.nightly]` on line 5, `body` from line 6.
fn job(body: &str) -> String {
    format!("{BASE}[services.web]\nimage = \"nginx:1.27\"\n[jobs.nightly]\n{body}")
}

#[test]
fn a_valid_job_passes() {
    let text =
        job("service = \"web\"\nschedule = \"cron(0 3 * * ? *)\"\ntimezone = \"Europe/Paris\"\n");
    assert_eq!(diags(&text), vec![]);
    let text = job("image = \"busybox\"\nschedule = \"rate(1 day)\"\ncommand = [\"true\"]\n");
    assert_eq!(diags(&text), vec![]);
}

#[test]
fn a_bad_schedule_is_located_at_its_key() {
    let d = one(
        &job("service = \"web\"\nschedule = \"cron(0 3 * * *)\"\n"),
        "jobs.nightly.schedule",
        "has 5 field(s)",
    );
    assert_eq!(d.line, 7);
    one(
        &job("service = \"web\"\nschedule = \"rate(5 minute)\"\n"),
        "jobs.nightly.schedule",
        "rate(5 minutes)",
    );
}

#[test]
fn the_time_zone_must_be_an_iana_name() {
    one(
        &job("service = \"web\"\nschedule = \"rate(1 hour)\"\ntimezone = \"CET+1\"\n"),
        "jobs.nightly.timezone",
        "not an IANA time zone",
    );
}

#[test]
fn service_must_name_a_service() {
    one(
        &job("service = \"api\"\nschedule = \"rate(1 hour)\"\n"),
        "jobs.nightly.service",
        "`api` is not a key of [services]; services: `web`",
    );
}

#[test]
fn exactly_one_of_service_and_image() {
    one(
        &job("schedule = \"rate(1 hour)\"\n"),
        "jobs.nightly",
        "needs `service",
    );
    one(
        &job("service = \"web\"\nimage = \"busybox\"\nschedule = \"rate(1 hour)\"\n"),
        "jobs.nightly.image",
        "not both",
    );
    one(
        &job("image = { build = { context = \".\" } }\nschedule = \"rate(1 hour)\"\n"),
        "jobs.nightly.image.build",
        "does not build images",
    );
}

#[test]
fn the_task_size_is_checked_as_a_service_s() {
    one(
        &job("image = \"busybox\"\nschedule = \"rate(1 hour)\"\ncpu = 256\nmemory = 4096\n"),
        "jobs.nightly.memory",
        "memory 4096 MiB is not valid with cpu 256",
    );
}

#[test]
fn unknown_keys_and_bad_keys_are_reported() {
    one(
        &job("service = \"web\"\nschedule = \"rate(1 hour)\"\nretries = 3\n"),
        "jobs.nightly.retries",
        "unknown",
    );
    let text = format!("{BASE}[jobs.Nightly]\nimage = \"busybox\"\nschedule = \"rate(1 hour)\"\n");
    one(&text, "jobs.Nightly", "job key `Nightly` is invalid");
}

#[test]
fn a_secret_looking_variable_and_a_public_task_without_ip_are_warned_about() {
    one_warning(
        &job("image = \"busybox\"\nschedule = \"rate(1 hour)\"\nenvironment = { API_TOKEN = \"x\" }\n"),
        "jobs.nightly.environment.API_TOKEN",
        "looks like a secret",
    );
    one_warning(
        &job("image = \"busybox\"\nschedule = \"rate(1 hour)\"\nassign_public_ip = false\n"),
        "jobs.nightly.assign_public_ip",
        "cannot pull images",
    );
}
