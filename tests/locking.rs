//! The per-app run lock (src/lock.rs): a second `up`/`down` fails fast with exit code 3
//! naming the holder and changes nothing; expired locks are taken over; `--force-unlock`
//! takes over a live one; a finished run leaves no lock; a SIGKILLed run's lock blocks until
//! its lease ends; two simultaneous `up`s never both hold it; a run whose lock is taken over
//! stops and fails; Ctrl-C stops new steps, says so and releases it, and so does a failed
//! read of what the config imports (the lock is taken during those reads); a lost answer to
//! the lock's own PutItem is recognised as ours. Under the AWS-realism layer, Ctrl-C during
//! a deployment wait ends it within about a second, says AWS carries on, releases the lock
//! and exits 130; a second Ctrl-C exits at once and releases it too. Every test is bounded
//! in time.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use common::faults::Faults;
use common::inventory::inventory;
use common::realism::Realism;
use common::{
    example, run_async, run_with_env, sdk_config, spawn, spawn_captured, unique_account, Output,
    Proxy,
};
use ecsdeploy::lock::TABLE;

const REGION: &str = "ap-northeast-1";
const APP: &str = "fargate-public";
const CLUSTER: &str = "fargate-public-cluster";
/// A locked run must give up at once, not wait for the lock.
const FAIL_FAST: Duration = Duration::from_secs(20);
/// Upper bound for a whole test.
const TEST_TIMEOUT: Duration = Duration::from_secs(240);

async fn bounded<F: Future<Output = ()>>(f: F) {
    tokio::time::timeout(TEST_TIMEOUT, f)
        .await
        .expect("test did not finish in time");
}

/// The fargate-public example with service2 on a public image: these tests kill and rerun
/// `up` at any point, and a rerun after the repository exists would (rightly) stop at
/// preflight until a pipeline pushes the image, which is not what they are about.
fn cfg() -> String {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let text = std::fs::read_to_string(example(APP)).unwrap();
        let from = "image = { repository = \"web\", tag = \"${IMAGE_TAG:-latest}\" }";
        assert!(text.contains(from));
        let path =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("locking-fargate-public.toml");
        std::fs::write(
            &path,
            text.replace(from, "image = \"public.ecr.aws/nginx/nginx:latest\""),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    })
    .clone()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn ddb(proxy: &Proxy) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(proxy, REGION).await)
}

/// Creates the lock table as ecsdeploy's first run would, unless it exists.
async fn create_lock_table(proxy: &Proxy) {
    let created = ddb(proxy)
        .await
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("lock_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("lock_id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await;
    if let Err(e) = created {
        assert!(format!("{e:?}").contains("ResourceInUseException"), "{e:?}");
    }
}

/// Inserts a lock item for APP held by `mallory@elsewhere` (pid 31337), acquired 30 s ago
/// and expiring `expires_in` seconds from now (negative: already expired).
async fn insert_lock(proxy: &Proxy, expires_in: i64) {
    create_lock_table(proxy).await;
    let db = ddb(proxy).await;
    let acquired = UNIX_EPOCH + Duration::from_secs((now() - 30) as u64);
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |v: i64| AttributeValue::N(v.to_string());
    db.put_item()
        .table_name(TABLE)
        .set_item(Some(HashMap::from([
            ("lock_id".to_string(), s(APP)),
            ("holder".to_string(), s("mallory@elsewhere")),
            ("pid".to_string(), n(31337)),
            ("command".to_string(), s("up")),
            ("version".to_string(), s("0.0.1")),
            (
                "acquired_at".to_string(),
                s(&humantime::format_rfc3339_seconds(acquired).to_string()),
            ),
            ("expires_at".to_string(), n(now() + expires_in)),
            ("token".to_string(), s("someone-elses-token")),
        ])))
        .send()
        .await
        .unwrap();
}

/// The lock item of APP, if any.
async fn lock_item(proxy: &Proxy) -> Option<HashMap<String, AttributeValue>> {
    ddb(proxy)
        .await
        .get_item()
        .table_name(TABLE)
        .key("lock_id", AttributeValue::S(APP.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

fn attr(item: &HashMap<String, AttributeValue>, k: &str) -> String {
    match &item[k] {
        AttributeValue::S(s) | AttributeValue::N(s) => s.clone(),
        other => panic!("{k}: {other:?}"),
    }
}

/// Exit 3 with the full lock message, naming `who` (e.g. `(pid 42, ecsdeploy up)`).
fn assert_locked(out: &Output, who: &str) {
    assert_eq!(out.code, Some(3), "expected exit 3 (locked)\n{out}");
    assert!(
        out.stderr.contains(&format!("app {APP} is locked by "))
            && out.stderr.contains(who)
            && out.stderr.contains("ago); the lock expires in ")
            && out.stderr.contains("use --force-unlock to take it over"),
        "lock message\n{out}"
    );
}

fn ops(calls: Vec<common::Call>) -> Vec<String> {
    calls.into_iter().map(|c| c.operation).collect()
}

/// Waits until the proxy saw `n` app writes (the run holds the lock by then).
async fn writes_reach(proxy: &Proxy, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.writes().len() < n {
        assert!(Instant::now() < deadline, "never reached {n} writes");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until the run holds the lock: its PutItem was answered (a call follows it).
async fn lock_taken(proxy: &Proxy) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let answered = || {
        let ops = proxy.operations();
        ops.iter()
            .position(|o| o == "PutItem")
            .is_some_and(|at| ops.len() > at + 1)
    };
    while !answered() {
        assert!(Instant::now() < deadline, "the lock was never taken");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn a_held_lock_stops_up_and_down_at_once_without_writes() {
    bounded(async {
        let proxy = Proxy::start(&unique_account()).await;
        insert_lock(&proxy, 600).await;
        let cfg = cfg();
        for cmd in [&["up"][..], &["down", "--yes"][..]] {
            proxy.clear();
            let mut args = vec!["-c", cfg.as_str()];
            args.extend_from_slice(cmd);
            let started = Instant::now();
            let out = run_async(&proxy, REGION, &args).await;
            assert!(started.elapsed() < FAIL_FAST, "{cmd:?} did not fail fast");
            assert_locked(
                &out,
                "locked by mallory@elsewhere (pid 31337, ecsdeploy up) since ",
            );
            assert_eq!(proxy.writes(), vec![], "{cmd:?} changed something\n{out}");
            assert_eq!(ops(proxy.lock_calls()), ["PutItem", "GetItem"], "{cmd:?}");
        }
        let item = lock_item(&proxy).await.expect("lock kept");
        assert_eq!(attr(&item, "token"), "someone-elses-token");
    })
    .await;
}

#[tokio::test]
async fn an_expired_lock_is_taken_over() {
    bounded(async {
        let proxy = Proxy::start(&unique_account()).await;
        insert_lock(&proxy, -5).await;
        run_async(&proxy, REGION, &["-c", &cfg(), "up"])
            .await
            .assert_success();
        assert!(lock_item(&proxy).await.is_none(), "released at the end");
    })
    .await;
}

#[tokio::test]
async fn force_unlock_takes_over_a_live_lock_and_says_whose_it_was() {
    bounded(async {
        let proxy = Proxy::start(&unique_account()).await;
        insert_lock(&proxy, 600).await;
        let out = run_async(&proxy, REGION, &["-c", &cfg(), "up", "--force-unlock"]).await;
        out.assert_success();
        assert!(
            out.stderr.contains(&format!(
                "--force-unlock: removed the lock on app {APP} held by mallory@elsewhere \
                 (pid 31337, ecsdeploy up) since "
            )),
            "{out}"
        );
        assert!(lock_item(&proxy).await.is_none());
        // Nothing to remove: says so, and works.
        let out = run_async(
            &proxy,
            REGION,
            &["-c", &cfg(), "down", "--yes", "--force-unlock"],
        )
        .await;
        out.assert_success();
        assert!(
            out.stderr.contains(&format!("app {APP} was not locked")),
            "{out}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_finished_run_leaves_no_lock_and_the_table_is_no_apps() {
    bounded(async {
        let proxy = Proxy::start(&unique_account()).await;
        run_async(&proxy, REGION, &["-c", &cfg(), "up"])
            .await
            .assert_success();
        let lock_ops = ops(proxy.lock_calls());
        for op in ["CreateTable", "PutItem", "DeleteItem"] {
            assert!(lock_ops.iter().any(|o| o == op), "{op}: {lock_ops:?}");
        }
        assert!(lock_item(&proxy).await.is_none());
        let db = ddb(&proxy).await;
        let arn = db
            .describe_table()
            .table_name(TABLE)
            .send()
            .await
            .unwrap()
            .table
            .unwrap()
            .table_arn
            .unwrap();
        let tags = db
            .list_tags_of_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap();
        let tags: HashMap<_, _> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(tags.get("ecsdeploy:managed"), Some(&"true"));
        assert!(!tags.contains_key("ecsdeploy:app"), "{tags:?}");

        // A no-op `up` still writes nothing but the lock.
        proxy.clear();
        run_async(&proxy, REGION, &["-c", &cfg(), "up"])
            .await
            .assert_success();
        assert_eq!(proxy.writes(), vec![]);
        assert_eq!(
            ops(proxy.lock_calls()),
            ["PutItem", "DeleteItem"],
            "table exists now"
        );
        // `down` leaves the lock table alone, and `plan`/`status` take no lock.
        run_async(&proxy, REGION, &["-c", &cfg(), "down", "--yes"])
            .await
            .assert_success();
        db.describe_table().table_name(TABLE).send().await.unwrap();
        proxy.clear();
        for cmd in ["plan", "status"] {
            run_async(&proxy, REGION, &["-c", &cfg(), cmd])
                .await
                .assert_success();
        }
        assert_eq!(proxy.lock_calls(), vec![]);
    })
    .await;
}

#[tokio::test]
async fn a_killed_runs_lock_blocks_until_its_lease_ends() {
    bounded(async {
        let cfg = cfg();
        // Default lease (60 s): the next `up` is refused, naming the dead run.
        let proxy = Proxy::start(&unique_account()).await;
        let mut child = spawn(&proxy, REGION, &["-c", &cfg, "up"]);
        let pid = child.id().unwrap();
        writes_reach(&proxy, 3).await;
        assert!(child.try_wait().unwrap().is_none(), "up finished too early");
        child.kill().await.unwrap();
        let item = lock_item(&proxy)
            .await
            .expect("the killed run's lock stays");
        assert_eq!(attr(&item, "pid"), pid.to_string());
        proxy.clear();
        let out = run_async(&proxy, REGION, &["-c", &cfg, "up"]).await;
        assert_locked(&out, &format!("(pid {pid}, ecsdeploy up) since "));
        assert_eq!(proxy.writes(), vec![]);

        // A 2 s lease: after a wait the next `up` proceeds and converges.
        let proxy = Proxy::start(&unique_account()).await;
        let short = [("ECSDEPLOY_LOCK_LEASE_SECS", "2")];
        let up = ["-c", cfg.as_str(), "up"];
        let doomed = run_with_env(&proxy, REGION, &up, &short);
        tokio::select! {
            out = doomed => panic!("up finished before the kill\n{out}"),
            // Dropping `doomed` SIGKILLs the run (kill_on_drop).
            () = writes_reach(&proxy, 3) => {}
        }
        assert!(lock_item(&proxy).await.is_some());
        tokio::time::sleep(Duration::from_secs(4)).await;
        run_with_env(&proxy, REGION, &["-c", &cfg, "up"], &short)
            .await
            .assert_success();
        assert!(lock_item(&proxy).await.is_none());
        proxy.clear();
        run_async(&proxy, REGION, &["-c", &cfg, "up"])
            .await
            .assert_success();
        assert_eq!(proxy.writes(), vec![], "converged");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_simultaneous_ups_never_both_hold_the_lock() {
    bounded(async {
        let proxy = Proxy::start(&unique_account()).await;
        let cfg = example("dynamodb-webapp");
        let cfg = cfg.to_str().unwrap();
        let args = ["-c", cfg, "up"];
        let (a, b) = tokio::join!(
            run_async(&proxy, REGION, &args),
            run_async(&proxy, REGION, &args)
        );
        // Both start within milliseconds and take the lock within a second; a deployment
        // takes far longer, so the second always finds the first's lock.
        let mut codes = [a.code, b.code];
        codes.sort();
        assert_eq!(
            codes,
            [Some(0), Some(3)],
            "exactly one run succeeds\n{a}\n{b}"
        );
        let loser = if a.code == Some(3) { &a } else { &b };
        assert!(
            loser.stderr.contains("app dynamodb-webapp is locked by "),
            "{loser}"
        );
        // On this fresh account the table is created on the way (by one run, or by both with
        // one CreateTable refused as ResourceInUseException). The loser reads the holder once;
        // only the winner releases.
        let lock_ops = ops(proxy.lock_calls());
        let count = |op: &str| lock_ops.iter().filter(|o| *o == op).count();
        assert!(count("CreateTable") >= 1, "{lock_ops:?}");
        assert_eq!(count("GetItem"), 1, "{lock_ops:?}");
        assert_eq!(
            count("DeleteItem"),
            1,
            "only the winner releases\n{lock_ops:?}"
        );
        assert_eq!(
            proxy.count("CreateVpc"),
            1,
            "only one run built the network"
        );
        assert!(lock_item(&proxy).await.is_none());
    })
    .await;
}

#[tokio::test]
async fn a_run_whose_lock_is_taken_over_stops_and_fails() {
    bounded(async {
        // 150 ms per call: the run lasts seconds (moto alone answers a whole `up` in less
        // than a second), well past the takeover below and the next renewal.
        let slow = Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        };
        let proxy = Proxy::start_with(&unique_account(), slow).await;
        insert_lock(&proxy, -5).await; // the table exists; the stale lock is taken over
        proxy.clear();
        let cfg = cfg();
        let up = ["-c", cfg.as_str(), "up"];
        // A 1 s lease: renewed every ~333 ms.
        let run = run_with_env(&proxy, REGION, &up, &[("ECSDEPLOY_LOCK_LEASE_SECS", "1")]);
        tokio::pin!(run);
        tokio::select! {
            out = &mut run => panic!("up finished before the takeover\n{out}"),
            () = lock_taken(&proxy) => {}
        }
        // Someone else's now, while the run still observes or applies.
        insert_lock(&proxy, 600).await;
        let out = run.await;
        assert_eq!(out.code, Some(1), "{out}");
        assert_eq!(proxy.faults_injected(), 0);
        assert!(
            out.stderr.contains("skipped (interrupted)"),
            "no new step after the loss\n{out}"
        );
        assert!(
            out.stderr.contains(&format!(
                "lost the lock on app {APP}: another run took it over"
            )),
            "{out}"
        );
        let item = lock_item(&proxy)
            .await
            .expect("the new holder's lock stays");
        assert_eq!(attr(&item, "token"), "someone-elses-token");
    })
    .await;
}

/// Ctrl-C (SIGINT) mid-`up`: no new step starts, the running ones finish, the summary says
/// what was skipped and how to continue, the exit code is 130 and the lock is released; the
/// next `up` continues to the same end state as an uninterrupted one.
#[tokio::test]
async fn ctrl_c_stops_new_steps_says_so_and_releases_the_lock() {
    bounded(async {
        let reference = Proxy::start(&unique_account()).await;
        run_async(&reference, REGION, &["-c", &cfg(), "up"])
            .await
            .assert_success();
        let total = reference.writes().len();
        let want = inventory(&reference, REGION, APP, CLUSTER).await;

        // Slow calls keep the run going well past the interrupt.
        let slow = Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        };
        let proxy = Proxy::start_with(&unique_account(), slow).await;
        let child = spawn_captured(&proxy, REGION, &["-c", &cfg(), "up"]);
        writes_reach(&proxy, 2).await;
        let pid = child.id().unwrap().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("the interrupted run ends")
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown = format!("--- stdout\n{stdout}--- stderr\n{stderr}");
        assert_eq!(out.status.code(), Some(130), "exit code\n{shown}");
        assert!(
            stderr.contains(
                "interrupted: starting no new steps and ending the waits; AWS carries on"
            ),
            "{shown}"
        );
        assert!(stderr.contains("skipped (interrupted)"), "{shown}");
        assert!(
            stdout
                .contains("Interrupted: run the same command again to continue where it stopped."),
            "{shown}"
        );
        // `N done, 0 failed, M skipped in T.`
        let counts: Vec<usize> = stdout
            .lines()
            .find(|l| l.contains(" done, ") && l.contains(" skipped in "))
            .unwrap_or_else(|| panic!("no summary line\n{shown}"))
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .take(3)
            .collect();
        assert!(
            counts.len() == 3 && counts[1] == 0 && counts[2] > 0,
            "summary {counts:?}\n{shown}"
        );
        let made = proxy.writes().len();
        assert!(
            made < total,
            "{made} of {total} writes: the run did not stop"
        );
        assert_eq!(
            ops(proxy.lock_calls()).last().map(String::as_str),
            Some("DeleteItem")
        );
        assert!(lock_item(&proxy).await.is_none(), "released on Ctrl-C");

        run_async(&proxy, REGION, &["-c", &cfg(), "up"])
            .await
            .assert_success();
        assert_eq!(inventory(&proxy, REGION, APP, CLUSTER).await, want);
        proxy.clear();
        run_async(&proxy, REGION, &["-c", &cfg(), "up"])
            .await
            .assert_success();
        assert_eq!(proxy.writes(), vec![], "not converged");
    })
    .await;
}

/// `up` takes the lock while it reads what the config imports; when that read fails (here:
/// the imported VPC does not exist), the run changes nothing and still releases the lock.
#[tokio::test]
async fn a_failed_import_lookup_releases_the_lock() {
    bounded(async {
        let proxy = Proxy::start(&unique_account()).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ecsdeploy.toml");
        std::fs::write(
            &path,
            format!(
                "app = \"{APP}\"\nregion = \"{REGION}\"\n\
                 [network.existing]\nvpc = \"no-such-vpc\"\n\
                 public_subnets = [\"no-such-a\", \"no-such-c\"]\n\
                 [services.web]\nimage = \"nginx\"\nports = [80]\n"
            ),
        )
        .unwrap();
        let out = run_async(&proxy, REGION, &["-c", path.to_str().unwrap(), "up"]).await;
        assert_eq!(out.code, Some(2), "a config problem: {out}");
        assert!(
            out.stderr
                .contains("network.existing.vpc: no VPC has the id or Name tag `no-such-vpc`"),
            "{out}"
        );
        assert_eq!(proxy.writes(), vec![], "{out}");
        let lock_ops = ops(proxy.lock_calls());
        assert!(lock_ops.iter().any(|o| o == "PutItem"), "{lock_ops:?}");
        assert_eq!(lock_ops.last().map(String::as_str), Some("DeleteItem"));
        assert!(
            lock_item(&proxy).await.is_none(),
            "released after the failure"
        );
    })
    .await;
}

/// A lost answer to the lock's own PutItem: the write happened, the SDK sends it again and
/// meets its own item (condition failed); the run reads the item back, recognises its token
/// and goes on holding the lock — not "locked by someone else".
#[tokio::test]
async fn a_lost_answer_to_the_lock_put_is_recognised_as_ours() {
    bounded(async {
        let faults = Faults {
            lose_first: vec![("PutItem".into(), 1)],
            include_lock_table: true,
            ..Faults::default()
        };
        let proxy = Proxy::start_with(&unique_account(), faults).await;
        create_lock_table(&proxy).await;
        proxy.clear();
        let out = run_async(&proxy, REGION, &["-c", &cfg(), "up"]).await;
        out.assert_success();
        assert_eq!(proxy.faults_injected(), 1);
        let lock_ops = ops(proxy.lock_calls());
        assert_eq!(
            lock_ops[..3],
            ["PutItem", "PutItem", "GetItem"],
            "resent, refused, read back: {lock_ops:?}"
        );
        assert_eq!(lock_ops.last().map(String::as_str), Some("DeleteItem"));
        assert!(lock_item(&proxy).await.is_none(), "released at the end");
    })
    .await;
}

/// A run of `up` under the realism layer whose deployments last minutes, once it waits for
/// one: a DescribeServices answered after the first CreateService.
async fn up_waiting_for_a_deployment() -> (Proxy, tokio::process::Child) {
    let realism = Realism {
        deployment: Duration::from_secs(600),
        ..Realism::aws()
    };
    // Slow answers: the run is still unwinding from the first Ctrl-C when a second comes.
    let slow = Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    };
    let proxy = Proxy::start_full(&unique_account(), slow, Some(realism)).await;
    let child = spawn_captured(&proxy, REGION, &["-c", &cfg(), "up"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    let waiting = |ops: &[String]| {
        ops.iter()
            .position(|o| o == "CreateService")
            .is_some_and(|at| ops[at..].iter().any(|o| o == "DescribeServices"))
    };
    while !waiting(&proxy.operations()) {
        assert!(Instant::now() < deadline, "never waited for a deployment");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (proxy, child)
}

fn sigint(child: &tokio::process::Child) {
    let pid = child.id().expect("still running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Ctrl-C while `up` waits for a deployment that would take ten minutes: the wait ends
/// within about a second (not at its deadline), the run says AWS carries on with the
/// deployment, releases the lock and exits 130; the interrupted wait is no failure.
#[tokio::test]
async fn ctrl_c_ends_a_deployment_wait_at_once_and_releases_the_lock() {
    bounded(async {
        let (proxy, child) = up_waiting_for_a_deployment().await;
        let t = Instant::now();
        sigint(&child);
        let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .expect("the interrupted run ends")
            .unwrap();
        let took = t.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown = format!("--- stdout\n{stdout}--- stderr\n{stderr}");
        assert_eq!(out.status.code(), Some(130), "exit code\n{shown}");
        // A call in flight (300 ms here), the summary, the lock's release (300 ms): a few
        // seconds at most on a loaded machine, where the wait itself had ten minutes left.
        assert!(took < Duration::from_secs(6), "took {took:?}\n{shown}");
        assert!(
            stderr.contains("AWS carries on with what was already started"),
            "{shown}"
        );
        assert!(
            stderr.contains(": waiting for deployment ecs-svc/")
                && stderr.contains("stopped waiting: the run was interrupted; AWS carries on"),
            "the wait's line\n{shown}"
        );
        assert!(stdout.contains(" done, 0 failed, "), "{shown}");
        assert_eq!(
            ops(proxy.lock_calls()).last().map(String::as_str),
            Some("DeleteItem")
        );
        assert!(lock_item(&proxy).await.is_none(), "released on Ctrl-C");
    })
    .await;
}

/// A second Ctrl-C while the first one unwinds: exit 130 at once, and the lock is
/// released all the same.
#[tokio::test]
async fn a_second_ctrl_c_exits_at_once_and_still_releases_the_lock() {
    bounded(async {
        let (proxy, child) = up_waiting_for_a_deployment().await;
        sigint(&child);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let t = Instant::now();
        sigint(&child);
        let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .expect("the interrupted run ends")
            .unwrap();
        let took = t.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown = format!("--- stdout\n{stdout}--- stderr\n{stderr}");
        assert_eq!(out.status.code(), Some(130), "exit code\n{shown}");
        assert!(
            stderr.contains("interrupted again: exiting now; AWS carries on"),
            "{shown}"
        );
        // The release (one 300 ms call) is all it waits for.
        assert!(took < Duration::from_secs(4), "took {took:?}\n{shown}");
        assert!(
            lock_item(&proxy).await.is_none(),
            "released on the second Ctrl-C"
        );
    })
    .await;
}
