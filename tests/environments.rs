//! One config, two environments in one account: `--env staging` deploys the example as its
//! own app next to the base one, with the image tag a pipeline passes in a variable, and
//! neither touches the other's resources.

mod common;

use common::{example, run_with_env, sdk_config, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";

async fn ecsdeploy(proxy: &Proxy, args: &[&str], env: &[(&str, &str)]) -> common::Output {
    let config = example("fargate-public");
    let mut all = vec!["-c", config.to_str().unwrap()];
    all.extend_from_slice(args);
    run_with_env(proxy, REGION, &all, env).await
}

/// The image of the service's task definition.
async fn image(ecs: &aws_sdk_ecs::Client, cluster: &str, service: &str) -> String {
    let s = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .unwrap();
    let td = s.services()[0].task_definition().unwrap().to_string();
    let td = ecs
        .describe_task_definition()
        .task_definition(td)
        .send()
        .await
        .unwrap();
    td.task_definition().unwrap().container_definitions()[0]
        .image()
        .unwrap()
        .to_string()
}

async fn active_clusters(ecs: &aws_sdk_ecs::Client) -> Vec<String> {
    let arns = ecs.list_clusters().send().await.unwrap();
    let out = ecs
        .describe_clusters()
        .set_clusters(Some(arns.cluster_arns().to_vec()))
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = out
        .clusters()
        .iter()
        .filter(|c| c.status() == Some("ACTIVE"))
        .filter_map(|c| c.cluster_name().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn staging_and_the_base_app_live_side_by_side() {
    let proxy = Proxy::start(&unique_account()).await;
    let conf = sdk_config(&proxy, REGION).await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let tag = [("IMAGE_TAG", "v7")];

    ecsdeploy(&proxy, &["--env", "staging", "up"], &tag)
        .await
        .assert_success();
    ecsdeploy(&proxy, &["up"], &[]).await.assert_success();
    assert_eq!(
        active_clusters(&ecs).await,
        ["fargate-public-cluster", "fargate-staging-cluster"]
    );
    // The variable reached staging's task definition; the base used its default.
    let staging = image(&ecs, "fargate-staging-cluster", "fargate-staging-service2").await;
    assert!(staging.ends_with("/fargate-public-staging:v7"), "{staging}");
    let base = image(&ecs, "fargate-public-cluster", "fargate-public-service2").await;
    assert!(base.ends_with("/fargate-public:latest"), "{base}");
    // The environment's override, and the base's own value.
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/ecs/fargate")
        .send()
        .await
        .unwrap();
    let retention: Vec<(&str, Option<i32>)> = groups
        .log_groups()
        .iter()
        .map(|g| (g.log_group_name().unwrap(), g.retention_in_days()))
        .collect();
    assert_eq!(
        retention,
        [
            ("/ecs/fargate-public", Some(14)),
            ("/ecs/fargate-staging", Some(3))
        ]
    );

    // `plan` names the environment; with the same tag, staging has nothing to change.
    let plan = ecsdeploy(
        &proxy,
        &["--env", "staging", "plan", "--detailed-exitcode"],
        &tag,
    )
    .await;
    assert_eq!(plan.code, Some(0), "{plan}");
    assert!(
        plan.stdout
            .contains("fargate-staging (environment staging)"),
        "{plan}"
    );

    // An environment the config does not define: exit 2, no AWS call at all.
    proxy.clear();
    let unknown = ecsdeploy(&proxy, &["--env", "prod", "up"], &[]).await;
    assert_eq!(unknown.code, Some(2), "{unknown}");
    assert!(
        unknown.stderr.contains("no environment `prod`"),
        "{unknown}"
    );
    assert_eq!(proxy.calls(), vec![]);

    // Tearing staging down (chosen through ECSDEPLOY_ENV) leaves the base app running.
    let down = ecsdeploy(
        &proxy,
        &["down", "--yes"],
        &[("ECSDEPLOY_ENV", "staging"), ("IMAGE_TAG", "v7")],
    )
    .await;
    down.assert_success();
    assert_eq!(active_clusters(&ecs).await, ["fargate-public-cluster"]);
    let base = ecs
        .list_services()
        .cluster("fargate-public-cluster")
        .send()
        .await
        .unwrap();
    assert_eq!(base.service_arns().len(), 2);
}
