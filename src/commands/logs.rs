//! `ecsdeploy logs SERVICE`: the service's CloudWatch log events, all tasks and containers
//! interleaved by time. ecsdeploy's task definitions log with awslogs to the app's group,
//! stream prefix `<key>` for the main container and `<key>-<sidecar>` for sidecars, so the
//! streams are `<prefix>/<container>/<task id>`.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde_json::json;

use super::Session;
use crate::aws::err;
use crate::cli::{LogsArgs, OutputFormat};
use crate::desired::{service_id, task_def_id, Resource, Spec};

/// One log event, as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub timestamp: i64,
    pub task: String,
    pub container: String,
    pub message: String,
    pub event_id: String,
}

/// `(prefix, container, task id)` of an awslogs stream name.
pub fn parse_stream(stream: &str) -> Option<(&str, &str, &str)> {
    let mut parts = stream.splitn(3, '/');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

/// Whether a stream is one of the service's: its prefix is one the service's task
/// definition (or Service Connect proxy) logs with. A longer service key such as `web2`
/// does not match `web`.
pub fn belongs(stream: &str, prefixes: &BTreeSet<String>) -> bool {
    parse_stream(stream).is_some_and(|(prefix, _, _)| prefixes.contains(prefix))
}

/// The awslogs stream prefixes of service `key`, from the desired state `up` registers:
/// each container's (`<key>`, `<key>-<sidecar>`, a task-definition file's containers) and
/// the Service Connect proxy's.
pub fn prefixes(desired: &[Resource], key: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in desired {
        match &r.spec {
            Spec::TaskDefinition(t) if r.id == task_def_id(key) => {
                out.extend(t.containers.iter().map(|c| c.log_stream_prefix.clone()));
            }
            Spec::Service(s) if r.id == service_id(key) => {
                out.extend(
                    s.service_connect
                        .iter()
                        .map(|c| c.log_stream_prefix.clone()),
                );
            }
            _ => {}
        }
    }
    out
}

/// How far back each `--follow` poll looks again: CloudWatch may receive an event after
/// newer ones (a slow agent), and the ids already printed are skipped.
const LATE: i64 = 30_000;

/// `2026-11-23T03:20:01.123Z`
pub fn iso(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(t).to_string()
}

/// The text form: `<time> <task id (first 8)> <container> | <message>`.
pub fn text(l: &Line) -> String {
    let short: String = l.task.chars().take(8).collect();
    format!(
        "{} {short} {} | {}",
        iso(l.timestamp),
        l.container,
        l.message.trim_end_matches('\n')
    )
}

pub fn json_line(l: &Line) -> String {
    json!({
        "timestamp": iso(l.timestamp),
        "task": l.task,
        "container": l.container,
        "message": l.message.trim_end_matches('\n'),
    })
    .to_string()
}

/// Milliseconds since the epoch, `since` ago.
fn start_ms(since: Duration) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.saturating_sub(since).as_millis()).unwrap_or(0)
}

/// Remembers the ids of the events already printed (bounded: following prints the
/// events from the newest timestamp on again, so only recent ids matter).
struct Seen {
    ids: BTreeSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    const LIMIT: usize = 10_000;
    fn new() -> Seen {
        Seen {
            ids: BTreeSet::new(),
            order: VecDeque::new(),
        }
    }
    /// True the first time an id is offered.
    fn first(&mut self, id: &str) -> bool {
        if !self.ids.insert(id.to_string()) {
            return false;
        }
        self.order.push_back(id.to_string());
        if self.order.len() > Self::LIMIT {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

pub async fn run(s: &Session, a: &LogsArgs) -> Result<()> {
    s.service("logs", &a.service)?;
    let prefixes = prefixes(&s.desired, &a.service);
    let group = s.config.log_group_name();
    let start = start_ms(a.since);
    let mut from = start;
    let mut seen = Seen::new();
    let mut cancel = s.cancel.clone();
    let mut idle = Duration::from_secs(1);
    loop {
        let lines = fetch(s, &group, &a.service, &prefixes, from, a.filter.as_deref()).await?;
        let mut newest = from;
        let mut printed = false;
        for l in lines {
            if !seen.first(&l.event_id) {
                continue;
            }
            newest = newest.max(l.timestamp);
            printed = true;
            match s.output {
                OutputFormat::Json => println!("{}", json_line(&l)),
                OutputFormat::Text => println!("{}", text(&l)),
            }
        }
        if !a.follow {
            return Ok(());
        }
        from = (newest - LATE).max(start);
        // Poll again soon after news, back off to 5 s while idle.
        idle = if printed {
            Duration::from_secs(1)
        } else {
            (idle * 2).min(Duration::from_secs(5))
        };
        tokio::select! {
            _ = tokio::time::sleep(idle) => {}
            _ = cancel.changed() => return Ok(()),
        }
    }
}

/// Every event of the service's streams from `from` (ms) on, sorted by time.
async fn fetch(
    s: &Session,
    group: &str,
    key: &str,
    prefixes: &BTreeSet<String>,
    from: i64,
    filter: Option<&str>,
) -> Result<Vec<Line>> {
    let mut pages = s
        .ctx
        .aws
        .logs
        .filter_log_events()
        .log_group_name(group)
        // The main container's streams and the sidecars' (`<key>-<name>/...`); `belongs`
        // drops other services whose key starts the same.
        .log_stream_name_prefix(key)
        .start_time(from)
        .set_filter_pattern(filter.map(str::to_string))
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.try_next().await.map_err(err).with_context(|| {
        format!("reading log group {group} (logs:FilterLogEvents); has the service run yet?")
    })? {
        for e in page.events() {
            let stream = e.log_stream_name().unwrap_or_default();
            // Checked here too: the prefix filter also matches a service `web2` for `web`
            // (and some emulators ignore it).
            if !belongs(stream, prefixes) {
                continue;
            }
            let (_, container, task) = parse_stream(stream).unwrap_or_default();
            out.push(Line {
                timestamp: e.timestamp().unwrap_or_default(),
                task: task.to_string(),
                container: container.to_string(),
                message: e.message().unwrap_or_default().to_string(),
                event_id: e.event_id().unwrap_or_default().to_string(),
            });
        }
    }
    out.sort_by(|a, b| (a.timestamp, &a.event_id).cmp(&(b.timestamp, &b.event_id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_of_a_service_its_sidecars_and_proxy_only() {
        let text = "app = \"demo\"\nregion = \"us-east-1\"\n\
                    [service_connect]\nnamespace = \"demo.local\"\n\
                    [services.web]\nimage = \"nginx\"\nports = [80]\n\
                    connect = { publish = [{ port = 80 }] }\n\
                    sidecars = [{ name = \"log-router\", image = \"fluent-bit\" }]\n\
                    [services.web2]\nimage = \"nginx\"\n";
        let loaded = crate::config::load_str(text, std::path::Path::new("t.toml")).unwrap();
        let env = crate::desired::Env {
            region: "us-east-1".into(),
            azs: vec!["us-east-1a".into(), "us-east-1b".into()],
            ..Default::default()
        };
        let desired = crate::desired::build(&loaded.config, &env);
        let p = prefixes(&desired, "web");
        assert!(p.len() >= 3, "{p:?}");
        assert!(belongs("web/web/0123abcd", &p));
        assert!(belongs("web-log-router/log-router/0123abcd", &p));
        assert!(
            p.iter().any(|x| x != "web" && x != "web-log-router"),
            "proxy: {p:?}"
        );
        assert!(!belongs("web2/web2/0123abcd", &p));
        assert!(!belongs("web-other/other/0123abcd", &p));
        assert!(!belongs("web", &p));
        assert_eq!(
            parse_stream("web/app/5f1c2e"),
            Some(("web", "app", "5f1c2e"))
        );
    }

    #[test]
    fn lines_show_time_task_and_container() {
        let l = Line {
            timestamp: 1_795_000_000_123,
            task: "0123456789abcdef".into(),
            container: "web".into(),
            message: "GET / 200\n".into(),
            event_id: "1".into(),
        };
        assert_eq!(
            text(&l),
            "2026-11-18T11:06:40.123Z 01234567 web | GET / 200"
        );
        let v: serde_json::Value = serde_json::from_str(&json_line(&l)).unwrap();
        assert_eq!(v["task"], "0123456789abcdef");
        assert_eq!(v["message"], "GET / 200");
    }

    #[test]
    fn seen_ids_are_skipped_and_bounded() {
        let mut s = Seen::new();
        assert!(s.first("a"));
        assert!(!s.first("a"));
        for i in 0..Seen::LIMIT + 5 {
            s.first(&i.to_string());
        }
        assert!(s.ids.len() <= Seen::LIMIT);
        assert!(s.first("a"), "forgotten once old enough");
    }
}
