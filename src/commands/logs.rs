//! `ecsdeploy logs SERVICE`: the service's CloudWatch log events, all tasks and containers
//! interleaved by time. ecsdeploy's task definitions log with awslogs to the app's group,
//! stream prefix `<key>` for the main container and `<key>-<sidecar>` for sidecars, so the
//! streams are `<prefix>/<container>/<task id>` (read by [`log_events`]).

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Session;
use crate::cli::{LogsArgs, OutputFormat};
use crate::desired::{service_id, task_def_id, Resource, Spec};
use crate::steps::support::log_events::{json_line, start_ms, text, Follower, Line, Streams};

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

/// The streams of service `key`: every task's, its sidecars' and its proxy's.
pub fn service_streams(desired: &[Resource], key: &str) -> Streams {
    Streams::Prefixes {
        name_prefix: key.to_string(),
        prefixes: prefixes(desired, key),
    }
}

/// A log line on stdout, as text or one JSON object.
pub fn print_line(output: OutputFormat, l: &Line) {
    match output {
        OutputFormat::Json => println!("{}", json_line(l)),
        OutputFormat::Text => println!("{}", text(l)),
    }
}

pub async fn run(s: &Session, a: &LogsArgs) -> Result<()> {
    s.service("logs", &a.service)?;
    let group = s.config.log_group_name();
    let mut follower = Follower::new(
        group.clone(),
        service_streams(&s.desired, &a.service),
        a.filter.clone(),
        start_ms(a.since),
    );
    let mut cancel = s.cancel.clone();
    let mut idle = Duration::from_secs(1);
    loop {
        let lines = follower
            .next(&s.ctx.aws.logs)
            .await
            .with_context(|| format!("has service {} run yet?", a.service))?;
        let printed = !lines.is_empty();
        for l in &lines {
            print_line(s.output, l);
        }
        if !a.follow {
            return Ok(());
        }
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
        let s = service_streams(&desired, "web");
        assert!(p.len() >= 3, "{p:?}");
        assert!(s.select("web/web/0123abcd"));
        assert!(s.select("web-log-router/log-router/0123abcd"));
        assert!(
            p.iter().any(|x| x != "web" && x != "web-log-router"),
            "proxy: {p:?}"
        );
        assert!(!s.select("web2/web2/0123abcd"));
        assert!(!s.select("web-other/other/0123abcd"));
        assert!(!s.select("web"));
        assert_eq!(
            crate::steps::support::log_events::parse_stream("web/app/5f1c2e"),
            Some(("web", "app", "5f1c2e"))
        );
    }
}
