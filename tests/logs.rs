//! `ecsdeploy logs` against log events put into the emulator's CloudWatch Logs.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::{example, run_async, sdk_config, spawn_piped, unique_account, Proxy};
use tokio::io::{AsyncBufReadExt, BufReader};

const REGION: &str = "ap-northeast-1";
const GROUP: &str = "/ecs/fargate-public";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn put(logs: &aws_sdk_cloudwatchlogs::Client, stream: &str, events: &[(i64, &str)]) {
    let _ = logs
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name(stream)
        .send()
        .await;
    let mut req = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(stream);
    for (t, m) in events {
        req = req.log_events(
            InputLogEvent::builder()
                .timestamp(*t)
                .message(*m)
                .build()
                .unwrap(),
        );
    }
    req.send().await.unwrap();
}

async fn logs(proxy: &Proxy, args: &[&str]) -> common::Output {
    let cfg = example("fargate-public");
    let mut all = vec!["-c", cfg.to_str().unwrap(), "logs"];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_the_services_tasks_interleaved_by_time() {
    let proxy = Proxy::start(&unique_account()).await;
    let cfg = example("fargate-public");
    run_async(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "up", "--no-wait"],
    )
    .await
    .assert_success();
    let logs_client = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(&proxy, REGION).await);
    let t = now_ms() - 60_000;
    let (a, b) = ("aaaaaaaa11112222", "bbbbbbbb33334444");
    put(
        &logs_client,
        &format!("service1/service1/{a}"),
        &[(t, "a first"), (t + 2000, "a ERROR second")],
    )
    .await;
    put(
        &logs_client,
        &format!("service1/service1/{b}"),
        &[(t + 1000, "b first"), (t + 3000, "b second")],
    )
    .await;
    // Another service's stream, and an old event.
    put(
        &logs_client,
        "service2/service2/cccccccc",
        &[(t + 500, "not mine")],
    )
    .await;
    put(
        &logs_client,
        &format!("service1/service1/{a}-old"),
        &[(now_ms() - 2 * 3_600_000, "old")],
    )
    .await;

    let out = logs(&proxy, &["service1"]).await;
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let messages: Vec<&str> = lines
        .iter()
        .map(|l| l.split(" | ").nth(1).unwrap())
        .collect();
    assert_eq!(
        messages,
        ["a first", "b first", "a ERROR second", "b second"],
        "{out}"
    );
    assert!(lines[0].contains(" aaaaaaaa service1 | "), "{out}");
    assert!(lines[1].contains(" bbbbbbbb service1 | "), "{out}");

    let out = logs(&proxy, &["service1", "--since", "3h"]).await;
    assert!(out.stdout.contains("| old"), "--since reaches back: {out}");

    let out = logs(&proxy, &["service1", "--filter", "ERROR"]).await;
    out.assert_success();
    let messages: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split(" | ").nth(1).unwrap())
        .collect();
    assert_eq!(messages, ["a ERROR second"], "{out}");

    let out = logs(&proxy, &["service1", "--output", "json"]).await;
    let first: serde_json::Value =
        serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["task"], a);
    assert_eq!(first["container"], "service1");
    assert_eq!(first["message"], "a first");

    let out = logs(&proxy, &["nope"]).await;
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("service1, service2"), "{out}");

    // --follow prints what arrives later, then stops when killed.
    let mut child = spawn_piped(
        &proxy,
        REGION,
        &["-c", cfg.to_str().unwrap(), "logs", "service1", "--follow"],
    );
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let read = async {
        while let Some(l) = stdout.next_line().await.unwrap() {
            seen.push(l.clone());
            if seen.len() == 4 {
                put(
                    &logs_client,
                    &format!("service1/service1/{b}"),
                    &[(now_ms(), "b later")],
                )
                .await;
            }
            if l.ends_with("| b later") {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("--follow did not print the new event within 60 s");
    assert_eq!(seen.len(), 5, "no event printed twice: {seen:?}");
    child.kill().await.unwrap();
}
