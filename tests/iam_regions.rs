//! IAM is global: the same app deployed in two regions of one account must not take or
//! delete the other region's roles, and roles earlier versions made (under
//! `/ecsdeploy/<app>/`, without a region) are adopted, not orphaned.

mod common;

use common::realism::Realism;
use common::{example, run_async, sdk_config, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";

/// A plain proxy for the test's own setup and reads of AWS state, and one through the
/// AWS-realism layer for ecsdeploy, both in one fresh account; with the IAM client of the
/// plain one.
async fn account() -> (Proxy, Proxy, aws_sdk_iam::Client) {
    let account = unique_account();
    let plain = Proxy::start(&account).await;
    let realistic = Proxy::start_realistic(&account, Realism::aws()).await;
    let iam = aws_sdk_iam::Client::new(&sdk_config(&plain, REGION).await);
    (plain, realistic, iam)
}

/// The roles under the app's IAM path, any region's.
async fn app_roles(iam: &aws_sdk_iam::Client) -> Vec<aws_sdk_iam::types::Role> {
    let out = iam
        .list_roles()
        .path_prefix("/ecsdeploy/fargate-public/")
        .send()
        .await
        .unwrap();
    out.roles().to_vec()
}

/// `ecsdeploy -c <cfg> <args>` in `region`, through `proxy`, which must succeed.
async fn ok(proxy: &Proxy, region: &str, cfg: &std::path::Path, args: &[&str]) {
    let mut all = vec!["-c", cfg.to_str().unwrap()];
    all.extend(args);
    run_async(proxy, region, &all).await.assert_success();
}

/// The fargate-public example moved to `region` (its zones with it).
fn in_region(region: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let text = std::fs::read_to_string(example("fargate-public")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, text.replace("ap-northeast-1", region)).unwrap();
    (dir, path)
}

async fn role_tags(iam: &aws_sdk_iam::Client, name: &str) -> Vec<(String, String)> {
    let out = iam.list_role_tags().role_name(name).send().await.unwrap();
    out.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[tokio::test]
async fn a_role_an_earlier_version_made_is_adopted_and_marked_with_the_region() {
    let (_plain, proxy, iam) = account().await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("fargate-public-execution")
        .path("/ecsdeploy/fargate-public/")
        .assume_role_policy_document(trust)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("ecsdeploy:app")
                .value("fargate-public")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let cfg = example("fargate-public");

    ok(&proxy, REGION, &cfg, &["up", "--no-wait"]).await;
    let created: Vec<String> = proxy.bodies("CreateRole");
    assert!(
        created
            .iter()
            .all(|b| !b.contains("RoleName=fargate-public-execution")),
        "the legacy role is adopted, not made again"
    );
    let tags = role_tags(&iam, "fargate-public-execution").await;
    assert!(
        tags.contains(&("ecsdeploy:region".to_string(), REGION.to_string())),
        "{tags:?}"
    );
    let role = iam
        .get_role()
        .role_name("fargate-public-execution")
        .send()
        .await
        .unwrap();
    assert_eq!(role.role().unwrap().path(), "/ecsdeploy/fargate-public/");

    proxy.clear();
    ok(&proxy, REGION, &cfg, &["up", "--no-wait"]).await;
    assert_eq!(proxy.writes(), vec![], "a second up writes nothing");

    ok(&proxy, REGION, &cfg, &["down", "--yes"]).await;
    assert!(
        app_roles(&iam).await.is_empty(),
        "the adopted role goes with the app"
    );
}

#[tokio::test]
async fn the_same_app_in_another_region_does_not_take_its_roles() {
    let (_plain, proxy, iam) = account().await;
    let (_a, tokyo) = in_region(REGION);
    ok(&proxy, REGION, &tokyo, &["up", "--no-wait"]).await;
    let role = iam
        .get_role()
        .role_name("fargate-public-execution")
        .send()
        .await
        .unwrap();
    assert_eq!(
        role.role().unwrap().path(),
        "/ecsdeploy/fargate-public/ap-northeast-1/"
    );

    // The same app name in us-east-1 would need the same (global) role names: refused
    // before any write, naming the region that has them.
    let (_b, virginia) = in_region("us-east-1");
    proxy.clear();
    let out = run_async(
        &proxy,
        "us-east-1",
        &["-c", virginia.to_str().unwrap(), "up", "--no-wait"],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr
            .contains("belongs to this app's deployment in ap-northeast-1"),
        "{out}"
    );
    assert_eq!(proxy.writes(), vec![], "{out}");

    // Its `down` refuses the same way (observing finds the names taken) and deletes
    // nothing: the other region's roles stay.
    proxy.clear();
    let out = run_async(
        &proxy,
        "us-east-1",
        &["-c", virginia.to_str().unwrap(), "down", "--yes"],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(proxy.writes(), vec![], "{out}");
    assert_eq!(app_roles(&iam).await.len(), 3, "{out}");
}

/// The same app in another region with no services (so no roles of its own) leaves the
/// grants on this region's execution role alone: its `down` deletes nothing of ours.
#[tokio::test]
async fn another_regions_down_leaves_this_regions_role_policies_alone() {
    let (_plain, proxy, iam) = account().await;
    let (_a, tokyo) = in_region(REGION);
    ok(&proxy, REGION, &tokyo, &["up", "--no-wait"]).await;
    // A database grant as iam_role_policy puts it.
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:fargate-public/databases/db-AbCdEf"]}]}"#;
    iam.put_role_policy()
        .role_name("fargate-public-execution")
        .policy_name("ecsdeploy-db-db")
        .policy_document(doc)
        .send()
        .await
        .unwrap();

    let text = std::fs::read_to_string(example("fargate-public")).unwrap();
    let no_services =
        text[..text.find("[services.").unwrap()].replace("ap-northeast-1", "us-east-1");
    let dir = tempfile::tempdir().unwrap();
    let virginia = dir.path().join("ecsdeploy.toml");
    std::fs::write(&virginia, no_services).unwrap();
    ok(&proxy, "us-east-1", &virginia, &["down", "--yes"]).await;
    let left = iam
        .list_role_policies()
        .role_name("fargate-public-execution")
        .send()
        .await
        .unwrap();
    assert!(
        left.policy_names().iter().any(|n| n == "ecsdeploy-db-db"),
        "{left:?}"
    );
}
