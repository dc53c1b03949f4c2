//! A SIGKILL at arbitrary points of `up`, followed by another `up`, converges: every
//! resource exists exactly once (the same inventory as a faultless run) and a third `up` has
//! nothing to do. Kill points are spread over the whole run, by the number of write calls
//! the proxy has seen (a faultless reference run gives the total), plus the first sight of
//! the task-definition and service creates. Each run is bounded in time.

mod common;

use std::time::Duration;

use common::inventory::{assert_each_tag_once, inventory};
use common::{example, run_async, spawn, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";
const APP: &str = "fargate-public";
const CLUSTER: &str = "fargate-public-cluster";
/// How many kill points are spread over the writes of a whole `up`.
const SPREAD: usize = 10;

/// Where to kill the run: after this many writes, or when this operation is first sent.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    Writes(usize),
    FirstSight(&'static str),
}

impl KillPoint {
    fn reached(self, proxy: &Proxy) -> bool {
        match self {
            KillPoint::Writes(n) => proxy.writes().len() >= n,
            KillPoint::FirstSight(op) => proxy.count(op) > 0,
        }
    }
}

#[tokio::test]
async fn up_killed_at_seeded_points_then_rerun_converges_without_duplicates() {
    let config = example(APP);
    let cfg = config.to_str().unwrap();

    let reference = Proxy::start(&unique_account()).await;
    run_async(&reference, REGION, &["-c", cfg, "up"])
        .await
        .assert_success();
    let total = reference.writes().len();
    let want = inventory(&reference, REGION, APP, CLUSTER).await;
    assert_each_tag_once(&want, "faultless");
    assert!(total > SPREAD, "only {total} writes in a whole up");

    let mut points: Vec<KillPoint> = (1..=SPREAD)
        .map(|i| KillPoint::Writes(1 + (i - 1) * (total - 1) / SPREAD))
        .collect();
    points.push(KillPoint::FirstSight("RegisterTaskDefinition"));
    points.push(KillPoint::FirstSight("CreateService"));

    let mut killed_mid_run = 0;
    for point in points {
        let proxy = Proxy::start(&unique_account()).await;
        let mut child = spawn(&proxy, REGION, &["-c", cfg, "up"]);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if point.reached(&proxy) {
                if child.try_wait().unwrap().is_none() {
                    killed_mid_run += 1;
                }
                child.kill().await.expect("SIGKILL ecsdeploy");
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "up exited early with {status}");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "kill point {point:?} never reached"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let killed_at = proxy.writes().len();
        let context = format!("killed at {point:?} (after {killed_at} of {total} writes)");

        // The killed run's lock would hold until its lease ends; this test knows it is dead.
        // The pipeline pushes service2's image once its repository exists (preflight checks
        // it before a new revision is deployed); a run killed before that has nothing to
        // push to.
        let ecr = aws_sdk_ecr::Client::new(&common::sdk_config(&proxy, REGION).await);
        if ecr
            .describe_repositories()
            .repository_names("fargate-public")
            .send()
            .await
            .is_ok()
        {
            common::push_image(&proxy, REGION, "fargate-public", "latest").await;
        }
        let again = run_async(&proxy, REGION, &["-c", cfg, "up", "--force-unlock"]).await;
        assert!(again.success(), "{context}: the next up failed\n{again}");
        let got = inventory(&proxy, REGION, APP, CLUSTER).await;
        assert_each_tag_once(&got, &context);
        assert_eq!(got, want, "{context}: owned resources differ");
        proxy.clear();
        let third = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
        third.assert_success();
        assert_eq!(proxy.writes(), vec![], "{context}: not converged");
    }
    // Otherwise the test would prove nothing: the kills must land mid-run.
    assert!(
        killed_mid_run >= SPREAD,
        "only {killed_mid_run} kills landed before up finished"
    );
}
