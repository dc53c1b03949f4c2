//! Reading containers' CloudWatch log events: what `ecsdeploy logs` prints, what `ecsdeploy
//! run` streams and what a failed release task shows. ecsdeploy's task definitions log with
//! awslogs, so a container's stream is `<prefix>/<container>/<task id>`.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde_json::json;

use crate::aws::err;

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

/// Which streams of a group to read.
#[derive(Debug, Clone)]
pub enum Streams {
    /// Every stream whose awslogs prefix is one of these (a service's, all its tasks).
    Prefixes {
        name_prefix: String,
        prefixes: BTreeSet<String>,
    },
    /// Exactly these streams (one task's containers).
    Named(Vec<String>),
}

impl Streams {
    /// Whether `stream` is one of the selected. A longer service key such as `web2` does
    /// not match the prefix `web`.
    pub fn select(&self, stream: &str) -> bool {
        match self {
            Streams::Prefixes { prefixes, .. } => {
                parse_stream(stream).is_some_and(|(prefix, _, _)| prefixes.contains(prefix))
            }
            Streams::Named(names) => names.iter().any(|n| n == stream),
        }
    }
}

/// How far back each poll of a [`Follower`] looks again: CloudWatch may receive an event
/// after newer ones (a slow agent), and the ids already printed are skipped.
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
pub fn start_ms(since: Duration) -> i64 {
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

/// Reads the new events of some streams, poll after poll, each event once.
pub struct Follower {
    pub group: String,
    pub streams: Streams,
    pub filter: Option<String>,
    from: i64,
    seen: Seen,
}

impl Follower {
    /// Events from `start` (ms since the epoch) on.
    pub fn new(group: String, streams: Streams, filter: Option<String>, start: i64) -> Follower {
        Follower {
            group,
            streams,
            filter,
            from: start,
            seen: Seen::new(),
        }
    }

    /// The events not returned before, oldest first.
    pub async fn next(&mut self, logs: &aws_sdk_cloudwatchlogs::Client) -> Result<Vec<Line>> {
        let lines = fetch(
            logs,
            &self.group,
            &self.streams,
            self.from,
            self.filter.as_deref(),
        )
        .await?;
        let fresh: Vec<Line> = lines
            .into_iter()
            .filter(|l| self.seen.first(&l.event_id))
            .collect();
        if let Some(newest) = fresh.iter().map(|l| l.timestamp).max() {
            self.from = self.from.max(newest - LATE);
        }
        Ok(fresh)
    }
}

/// Every event of the selected streams from `from` (ms) on, sorted by time. A group that
/// does not exist (yet) has none.
pub async fn fetch(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    streams: &Streams,
    from: i64,
    filter: Option<&str>,
) -> Result<Vec<Line>> {
    let call = logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(from)
        .set_filter_pattern(filter.map(str::to_string));
    let call = match streams {
        // The main container's streams and the sidecars' (`<key>-<name>/...`); `select`
        // drops other services whose key starts the same.
        Streams::Prefixes { name_prefix, .. } => call.log_stream_name_prefix(name_prefix),
        Streams::Named(names) => call.set_log_stream_names(Some(names.clone())),
    };
    let mut pages = call.into_paginator().send();
    let mut out = Vec::new();
    loop {
        let page = match pages.try_next().await.map_err(err) {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) if crate::aws::code_of(&e) == Some("ResourceNotFoundException") => break,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading log group {group} (logs:FilterLogEvents)"))
            }
        };
        for e in page.events() {
            let stream = e.log_stream_name().unwrap_or_default();
            // Checked here too: the prefix filter also matches a service `web2` for `web`
            // (and some emulators ignore it).
            if !streams.select(stream) {
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

    #[test]
    fn named_streams_select_exactly_those() {
        let s = Streams::Named(vec!["web/web/abc".into()]);
        assert!(s.select("web/web/abc"));
        assert!(!s.select("web/web/abcd"));
        assert_eq!(
            parse_stream("web/app/5f1c2e"),
            Some(("web", "app", "5f1c2e"))
        );
    }
}
