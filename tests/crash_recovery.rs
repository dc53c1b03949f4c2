//! A SIGKILL at arbitrary points of `up`, followed by another `up`, converges: every
//! resource exists exactly once and a third `up` has nothing to do. Kill points are seeded
//! by the number of write calls the proxy has seen; each run is bounded in time.

mod common;

use std::time::Duration;

use common::{example, owned_by, run_async, sdk_config, spawn, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";

async fn count_owned(proxy: &Proxy) -> [usize; 5] {
    let c = sdk_config(proxy, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&c);
    let ecs = aws_sdk_ecs::Client::new(&c);
    let owned = || owned_by("fargate-public");
    let vpcs = ec2.describe_vpcs().filters(owned()).send().await.unwrap();
    let subnets = ec2
        .describe_subnets()
        .filters(owned())
        .send()
        .await
        .unwrap();
    let sgs = ec2
        .describe_security_groups()
        .filters(owned())
        .send()
        .await
        .unwrap();
    let igws = ec2
        .describe_internet_gateways()
        .filters(owned())
        .send()
        .await
        .unwrap();
    let services = ecs
        .list_services()
        .cluster("fargate-public-cluster")
        .send()
        .await
        .unwrap();
    [
        vpcs.vpcs().len(),
        subnets.subnets().len(),
        sgs.security_groups().len(),
        igws.internet_gateways().len(),
        services.service_arns().len(),
    ]
}

#[tokio::test]
async fn up_killed_at_seeded_points_then_rerun_converges_without_duplicates() {
    let config = example("fargate-public");
    let cfg = config.to_str().unwrap();
    let mut killed_mid_run = 0;
    for kill_after in [1usize, 3, 6, 9, 13, 17] {
        let proxy = Proxy::start(&unique_account()).await;
        let mut child = spawn(&proxy, REGION, &["-c", cfg, "up"]);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if proxy.writes().len() >= kill_after {
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
                "kill point {kill_after} never reached"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let killed_at = proxy.writes().len();

        // The killed run's lock would hold until its lease ends; this test knows it is dead.
        let again = run_async(&proxy, REGION, &["-c", cfg, "up", "--force-unlock"]).await;
        again.assert_success();
        assert_eq!(
            count_owned(&proxy).await,
            [1, 2, 2, 1, 2],
            "kill after {killed_at} writes: VPCs, subnets, SGs, IGWs, services must exist once"
        );
        proxy.clear();
        let third = run_async(&proxy, REGION, &["-c", cfg, "up"]).await;
        third.assert_success();
        assert_eq!(
            proxy.writes(),
            vec![],
            "kill after {killed_at} writes: not converged"
        );
    }
    // Otherwise the test would prove nothing: most kill points must land mid-run.
    assert!(
        killed_mid_run >= 4,
        "only {killed_mid_run} kills landed before up finished"
    );
}
