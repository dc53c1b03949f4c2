use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::config::load_str;
use crate::desired::{build, Env, Resource};
use crate::plan::fixtures::{behind_alb, converged, desired, tokyo};
use serde_json::json;

const CONFIG: &str = r#"
app = "demo"
region = "ap-northeast-1"
[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]
[repositories.web]
[services.api]
image = "nginx:latest"
cpu = 512
memory = 1024
ports = [80]
ingress = [{ port = 80, cidrs = ["0.0.0.0/0"] }]
[services.site]
image = { repository = "web", tag = "v1" }
"#;

/// Where the change to `id` stands in the plan's order.
fn position(plan: &Plan, id: &str) -> usize {
    let at = plan.changes.iter().position(|c| c.id.to_string() == id);
    at.unwrap_or_else(|| panic!("{id} not in plan"))
}

fn action_of<'a>(plan: &'a Plan, id: &str) -> &'a Action {
    &plan
        .changes
        .iter()
        .find(|c| c.id.to_string() == id)
        .unwrap_or_else(|| panic!("{id} not in plan"))
        .action
}

#[test]
fn fresh_account_creates_everything_in_dependency_order() {
    let d = desired(CONFIG);
    let plan = plan_up(&d, &BTreeMap::new());
    assert!(plan.changes.iter().all(|c| c.action == Action::Create));
    assert_eq!(plan.changes.len(), d.len());
    let pos = |id: &str| position(&plan, id);
    assert!(pos("vpc.main") < pos("subnet.public-a"));
    assert!(pos("subnet.public-a") < pos("service.api"));
    assert!(pos("ecr_repository.web") < pos("task_definition.site"));
    assert!(pos("task_definition.api") < pos("service.api"));
    assert!(pos("log_group.main") < pos("task_definition.api"));
    // The longest chain: vpc → subnet → route table is shorter than vpc → sg → service.
    assert!(plan.graph.depth() >= 3);
}

#[test]
fn converged_state_plans_nothing() {
    let d = desired(CONFIG);
    let plan = plan_up(&d, &converged(&d));
    let pending: Vec<_> = plan.pending().map(|c| c.id.to_string()).collect();
    assert!(pending.is_empty(), "{pending:?}");
    assert!(plan.graph.is_empty());
}

/// `observed` with the service `key`'s latest deployment reported as not settled.
fn with_unsettled(
    mut observed: BTreeMap<ResourceId, Observed>,
    key: &str,
    failed: bool,
) -> BTreeMap<ResourceId, Observed> {
    let o = observed
        .get_mut(&crate::desired::service_id(key))
        .expect("service observed");
    o.details = serde_json::json!({
        UNSETTLED: Unsettled {
            deployment: "ecs-svc/1".into(),
            since: None,
            failed,
            reason: "ECS deployment circuit breaker: tasks failed to start.".into(),
            attempted: Default::default(),
        }
    });
    observed
}

#[test]
fn a_deployment_in_progress_or_failed_is_not_converged() {
    let d = desired(CONFIG);
    for failed in [false, true] {
        let plan = plan_up(&d, &with_unsettled(converged(&d), "api", failed));
        let pending: Vec<_> = plan.pending().map(|c| c.id.to_string()).collect();
        assert_eq!(pending, ["service.api"]);
        assert!(plan.has_changes(), "plan --detailed-exitcode reports it");
        let u = match (failed, action_of(&plan, "service.api")) {
            (false, Action::Wait(u)) | (true, Action::Failed(u)) => u,
            (_, other) => panic!("{other:?}"),
        };
        assert_eq!(u.deployment, "ecs-svc/1");
        // Nothing else waits on a wait: it is a node of its own.
        assert_eq!(plan.graph.nodes().count(), 1);
        let verb = if failed { "failed" } else { "wait" };
        assert_eq!(plan.count(verb), 1);
    }
}

#[test]
fn a_rolled_back_service_asked_for_the_failed_revision_again_is_still_failed() {
    let d = desired(CONFIG);
    let api = crate::desired::service_id("api");
    let wanted = converged(&d)[&api].fields["task_definition"].clone();
    for (attempted, failed) in [(wanted.clone(), true), (json!("arn:other:9"), false)] {
        // The circuit breaker put the service back on the previous revision; the failed
        // deployment is still listed.
        let mut observed = with_unsettled(converged(&d), "api", true);
        let o = observed.get_mut(&api).unwrap();
        o.fields
            .insert("task_definition".into(), json!("arn:previous:1"));
        o.details[UNSETTLED]["attempted"] = json!({ "task_definition": attempted });
        let plan = plan_up(&d, &observed);
        match (failed, action_of(&plan, "service.api")) {
            (true, Action::Failed(u)) => assert_eq!(u.attempted["task_definition"], wanted),
            // Another revision than the failed one: a new deployment.
            (false, Action::Update(ch)) => assert_eq!(ch[0].field, "task_definition"),
            (_, other) => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_config_reverted_to_the_revision_a_rollback_put_back_is_converged() {
    let d = desired(CONFIG);
    let api = crate::desired::service_id("api");
    // The service runs what the config asks for; the latest deployment, of another
    // revision, failed and was rolled back.
    let mut observed = with_unsettled(converged(&d), "api", true);
    let o = observed.get_mut(&api).unwrap();
    o.details[UNSETTLED]["attempted"] = json!({ "task_definition": "arn:failed:9" });
    let plan = plan_up(&d, &observed);
    assert_eq!(*action_of(&plan, "service.api"), Action::NoOp);
    // Without a record of what it attempted it stays a failure (the service may still run
    // the failed revision).
    let plan = plan_up(&d, &with_unsettled(converged(&d), "api", true));
    assert!(matches!(action_of(&plan, "service.api"), Action::Failed(_)));
}

#[test]
fn a_failed_deployment_holds_up_no_unrelated_change() {
    // `site` failed; `api` gets a new desired count: the failure is reported after it.
    let d = desired(&CONFIG.replace("cpu = 512", "cpu = 512\ndesired_count = 3"));
    let observed = with_unsettled(converged(&desired(CONFIG)), "site", true);
    let plan = plan_up(&d, &observed);
    assert!(matches!(
        action_of(&plan, "service.site"),
        Action::Failed(_)
    ));
    let deps: Vec<_> = plan
        .graph
        .deps(&crate::desired::service_id("site"))
        .collect();
    assert_eq!(deps, [&crate::desired::service_id("api")]);
    // A changed dependent of the failed service still comes after it (no cycle).
    let d = desired(&CHAIN.replace("ports = [3000]", "ports = [3000]\ncpu = 512"));
    let observed = with_unsettled(converged(&desired(CHAIN)), "backend", true);
    let plan = plan_up(&d, &observed);
    let (backend, frontend) = (
        crate::desired::service_id("backend"),
        crate::desired::service_id("frontend"),
    );
    assert!(matches!(
        action_of(&plan, "service.frontend"),
        Action::Update(_)
    ));
    assert!(plan.graph.deps(&frontend).any(|x| *x == backend));
    assert!(!plan.graph.deps(&backend).any(|x| *x == frontend));
    assert!(plan.graph.topo().is_ok());
}

#[test]
fn a_change_to_a_failed_service_is_an_update_that_starts_a_new_deployment() {
    let d = desired(CONFIG);
    let observed = with_unsettled(converged(&d), "api", true);
    let edited = desired(&CONFIG.replace("cpu = 512", "cpu = 512\ndesired_count = 3"));
    let plan = plan_up(&edited, &observed);
    assert!(
        matches!(action_of(&plan, "service.api"), Action::Update(_)),
        "{:?}",
        action_of(&plan, "service.api")
    );
}

#[test]
fn desired_count_change_updates_only_the_service() {
    let d = desired(CONFIG);
    let observed = converged(&d);
    let edited = desired(&CONFIG.replace("cpu = 512", "cpu = 512\ndesired_count = 3"));
    let plan = plan_up(&edited, &observed);
    let pending: Vec<_> = plan.pending().collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    match action_of(&plan, "service.api") {
        Action::Update(ch) => {
            assert_eq!(ch.len(), 1);
            assert_eq!(ch[0].field, "desired_count");
            assert_eq!((ch[0].old.clone(), ch[0].new.clone()), (1.into(), 3.into()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn image_change_registers_revision_and_updates_service() {
    let d = desired(CONFIG);
    let observed = converged(&d);
    let edited = desired(&CONFIG.replace("nginx:latest", "nginx:1.27"));
    let plan = plan_up(&edited, &observed);
    assert!(matches!(
        action_of(&plan, "task_definition.api"),
        Action::Update(_)
    ));
    match action_of(&plan, "service.api") {
        Action::Update(ch) => {
            assert_eq!(ch[0].field, "task_definition");
            assert_eq!(ch[0].new, crate::desired::UNKNOWN);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(action_of(&plan, "service.site"), &Action::NoOp);
    // The service update waits for the new revision.
    let deps: Vec<_> = plan
        .graph
        .deps(&crate::desired::service_id("api"))
        .collect();
    assert!(deps.contains(&&crate::desired::task_def_id("api")));
}

#[test]
fn removed_service_is_deleted_after_other_changes() {
    let d = desired(CONFIG);
    let observed = converged(&d);
    let without_site = CONFIG.split("[services.site]").next().unwrap().to_string();
    let plan = plan_up(&desired(&without_site), &observed);
    for id in [
        "service.site",
        "task_definition.site",
        "security_group.site",
        "iam_role.site-task",
    ] {
        assert_eq!(action_of(&plan, id), &Action::Delete, "{id}");
    }
    let sg = ResourceId::new(Kind::SecurityGroup, "site");
    assert!(plan
        .graph
        .deps(&sg)
        .any(|d| d.to_string() == "service.site"));
}

#[test]
fn immutable_change_is_a_replacement() {
    let d = desired(CONFIG);
    let observed = converged(&d);
    let edited = desired(&CONFIG.replace(
        "azs = [",
        "public_subnets = [\"10.0.100.0/24\", \"10.0.1.0/24\"]\nazs = [",
    ));
    let plan = plan_up(&edited, &observed);
    assert!(matches!(
        action_of(&plan, "subnet.public-a"),
        Action::Replace(_)
    ));
    assert_eq!(plan.replacements().len(), 1);
}

#[test]
fn down_deletes_dependents_first() {
    let d = desired(CONFIG);
    let plan = plan_down(&converged(&d), &d, true);
    let pos = |id: &str| position(&plan, id);
    assert!(pos("service.api") < pos("security_group.api"));
    assert!(pos("service.api") < pos("cluster.main"));
    assert!(pos("security_group.api") < pos("vpc.main"));
    assert!(pos("subnet.public-b") < pos("vpc.main"));
    assert!(pos("task_definition.api") < pos("iam_role.execution"));
    assert_eq!(plan.count("delete"), d.len());
}

const CHAIN: &str = r#"
app = "demo"
region = "ap-northeast-1"
[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]
[services.backend]
image = "nginx:latest"
ports = [5000]
[services.frontend]
image = "nginx:latest"
ports = [3000]
depends_on = ["backend"]
[services.frontend.autoscaling]
min = 1
max = 5
memory = 20.0
"#;

#[test]
fn dependent_service_waits_for_its_dependency_and_goes_first_on_down() {
    let d = desired(CHAIN);
    let up = plan_up(&d, &BTreeMap::new());
    let deps: Vec<_> = up
        .graph
        .deps(&crate::desired::service_id("frontend"))
        .collect();
    assert!(
        deps.contains(&&crate::desired::service_id("backend")),
        "{deps:?}"
    );
    let down = plan_down(&converged(&d), &d, true);
    let pos = |id: &str| position(&down, id);
    assert!(pos("service.frontend") < pos("service.backend"));
    // The backend's group names the frontend's group in a rule; AWS refuses to delete a
    // group another group's rule references, so the referencing one goes first.
    assert!(pos("security_group.backend") < pos("security_group.frontend"));
}

#[test]
fn the_autoscaler_owns_the_desired_count() {
    let d = desired(CHAIN);
    let mut observed = converged(&d);
    let front = crate::desired::service_id("frontend");
    observed
        .get_mut(&front)
        .unwrap()
        .fields
        .insert("desired_count".into(), serde_json::json!(4));
    let plan = plan_up(&d, &observed);
    assert_eq!(
        plan.pending().count(),
        0,
        "a scaled-out service is not scaled back"
    );
}

#[test]
fn service_rollout_order_follows_dependencies() {
    let d = desired(CHAIN);
    let plan = plan_up(&d, &BTreeMap::new());
    assert_eq!(
        super::render::service_order(&plan),
        vec!["backend".to_string(), "frontend".to_string()]
    );
    let independent = desired(&CHAIN.replace("depends_on = [\"backend\"]", ""));
    let plan = plan_up(&independent, &BTreeMap::new());
    assert_eq!(
        super::render::service_order(&plan),
        vec!["backend, frontend".to_string()]
    );
}

const STORES: &str = r#"
app = "shop"
region = "ap-northeast-1"
[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]
nat = "single"
[tables.orders]
hash_key = { name = "id" }
[databases.main]
engine = "mysql"
[file_systems.uploads]
[secrets.api-key]
generate = {}
[load_balancer]
[[load_balancer.listeners]]
port = 80
protocol = "HTTP"
service = "web"
[services.web]
image = "nginx:latest"
ports = [80]
subnets = "private"
target_group = { port = 80 }
uses = [
  { table = "orders", actions = ["dynamodb:GetItem"] },
  { database = "main" },
  { file_system = "uploads", path = "/uploads" },
  { secret = "api-key" },
]
"#;

fn ids(kept: &[Kept]) -> Vec<String> {
    kept.iter().map(|k| k.id.to_string()).collect()
}

#[test]
fn down_keeps_data_and_the_network_it_hangs_on() {
    let d = desired(STORES);
    let plan = plan_down(&converged(&d), &d, false);
    let kept = ids(&plan.kept);
    for id in [
        "dynamodb_table.orders",
        "db_instance.main",
        "db_subnet_group.main",
        "file_system.uploads",
        "mount_target.uploads-a",
        "mount_target.uploads-b",
        "access_point.uploads",
        "secret.api-key",
        // What the stores stand on: their groups, the groups those admit, the subnets
        // and the VPC.
        "security_group.database.main",
        "security_group.file_system.uploads",
        "security_group.web",
        "subnet.private-a",
        "subnet.private-b",
        "vpc.main",
    ] {
        assert!(kept.contains(&id.to_string()), "{id} not kept: {kept:?}");
    }
    let deleted: Vec<String> = plan.changes.iter().map(|c| c.id.to_string()).collect();
    for id in [
        "service.web",
        "task_definition.web",
        "load_balancer.main",
        "nat_gateway.a",
        "internet_gateway.main",
        "subnet.public-a",
        "route_table.private",
        "iam_role.web-task",
        "cluster.main",
    ] {
        assert!(deleted.contains(&id.to_string()), "{id} not deleted");
    }
    assert!(deleted.iter().all(|id| !kept.contains(id)));
    assert_eq!(plan.changes.len() + plan.kept.len(), d.len());
}

#[test]
fn down_with_delete_data_deletes_stores_after_their_users() {
    let d = desired(STORES);
    let plan = plan_down(&converged(&d), &d, true);
    assert!(plan.kept.is_empty());
    assert_eq!(plan.changes.len(), d.len());
    let order = plan.graph.topo().unwrap();
    let pos = |id: &str| {
        order
            .iter()
            .position(|c| c.to_string() == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    assert!(pos("service.web") < pos("db_instance.main"));
    assert!(pos("db_instance.main") < pos("db_subnet_group.main"));
    assert!(pos("db_instance.main") < pos("security_group.database.main"));
    assert!(pos("db_subnet_group.main") < pos("subnet.private-a"));
    assert!(pos("mount_target.uploads-a") < pos("file_system.uploads"));
    assert!(pos("mount_target.uploads-a") < pos("security_group.file_system.uploads"));
    assert!(pos("mount_target.uploads-b") < pos("subnet.private-b"));
    assert!(pos("task_definition.web") < pos("secret.api-key"));
    assert!(pos("iam_role.web-task") < pos("dynamodb_table.orders"));
}

#[test]
fn up_never_deletes_a_store_dropped_from_the_config() {
    let d = desired(STORES);
    let observed = converged(&d);
    let without = desired(
        &STORES
            .replace("[tables.orders]\nhash_key = { name = \"id\" }\n", "")
            .replace(
                "  { table = \"orders\", actions = [\"dynamodb:GetItem\"] },\n",
                "",
            ),
    );
    let plan = plan_up(&without, &observed);
    assert_eq!(ids(&plan.kept), vec!["dynamodb_table.orders".to_string()]);
    assert!(plan
        .changes
        .iter()
        .all(|c| c.id.kind != Kind::DynamodbTable));
    // The task role loses its grant on the table: an update, not a deletion.
    assert!(matches!(
        action_of(&plan, "iam_role.web-task"),
        Action::Update(_)
    ));
}

#[test]
fn store_users_are_wired_with_least_privilege() {
    let d = desired(STORES);
    let none: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
    let outputs: BTreeMap<ResourceId, Outputs> = converged(&d)
        .into_iter()
        .map(|(id, o)| (id, o.outputs))
        .collect();
    let role = d
        .iter()
        .find(|r| r.id.to_string() == "iam_role.web-task")
        .unwrap();
    let policy = &role.spec.fields(&outputs)["inline_policy"];
    let text = policy.to_string();
    assert!(!text.contains("\"*\""), "{text}");
    assert!(text.contains("arn:dynamodb_table.orders"), "{text}");
    assert!(text.contains("dynamodb:GetItem"), "{text}");
    assert!(!text.contains("dynamodb:Scan"), "{text}");
    assert!(text.contains("elasticfilesystem:ClientMount"), "{text}");
    let exec = d
        .iter()
        .find(|r| r.id.to_string() == "iam_role.execution")
        .unwrap();
    let exec_policy = exec.spec.fields(&outputs)["inline_policy"].to_string();
    assert!(
        exec_policy.contains("secretsmanager:GetSecretValue"),
        "{exec_policy}"
    );
    assert!(exec_policy.contains("arn:secret.api-key"), "{exec_policy}");
    let td = d
        .iter()
        .find(|r| r.id.to_string() == "task_definition.web")
        .unwrap();
    let f = td.spec.fields(&none);
    let c = &f["containers"][0];
    let env: Vec<&str> = c["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        env,
        ["DB_HOST", "DB_NAME", "DB_PORT", "DB_USER", "ORDERS_TABLE"]
    );
    let secrets: Vec<&str> = c["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(secrets, ["API_KEY", "DB_PASSWORD"]);
    assert_eq!(c["mount_points"][0]["container_path"], "/uploads");
    // The database and file-system groups admit the service's group on their port only.
    for (sg, port) in [
        ("security_group.database.main", 3306),
        ("security_group.file_system.uploads", 2049),
    ] {
        let r = d.iter().find(|r| r.id.to_string() == sg).unwrap();
        let ingress = r.spec.fields(&outputs)["ingress"].clone();
        assert_eq!(ingress.as_array().unwrap().len(), 1, "{sg}: {ingress}");
        assert_eq!(ingress[0]["from_port"], port);
        assert_eq!(ingress[0]["source_group"], "security_group.web-id");
        assert_eq!(ingress[0]["cidr"], serde_json::Value::Null);
    }
}

/// A config whose `api` service builds its image from `./api` (no repository declared).
fn built(tag: &str) -> (tempfile::TempDir, Vec<Resource>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("api")).unwrap();
    std::fs::write(dir.path().join("api/Dockerfile"), "FROM scratch\n").unwrap();
    let text = CONFIG.replace(
        "image = \"nginx:latest\"",
        "image = { build = { context = \"./api\" } }\ncpu_architecture = \"ARM64\"",
    );
    let path = dir.path().join("ecsdeploy.toml");
    let loaded = load_str(&text, &path).expect("valid config");
    let env = Env {
        image_tags: [("api".to_string(), tag.to_string())].into_iter().collect(),
        ..tokyo()
    };
    (dir, build(&loaded.config, &env))
}

#[test]
fn built_image_is_pushed_concurrently_with_the_network_and_before_its_task_definition() {
    let (_dir, d) = built("abc123");
    let image = d.iter().find(|r| r.id.to_string() == "image.api").unwrap();
    assert_eq!(
        image.name, "demo-api:abc123",
        "implicit repository <app>-<service>"
    );
    let Spec::Image(s) = &image.spec else {
        panic!()
    };
    assert_eq!(s.platform, "linux/arm64");
    assert!(s.dockerfile.ends_with("api/Dockerfile"));
    assert_eq!(
        image.spec.deps(),
        vec![crate::desired::repository_id("api")],
        "an image waits only for its repository"
    );
    let plan = plan_up(&d, &BTreeMap::new());
    let levels = plan.graph.levels().unwrap();
    let level_of = |id: &str| {
        levels
            .iter()
            .position(|l| l.iter().any(|x| x.to_string() == id))
            .unwrap()
    };
    assert!(level_of("image.api") <= level_of("subnet.public-a"));
    assert!(level_of("image.api") < level_of("task_definition.api"));
    let td = d
        .iter()
        .find(|r| r.id.to_string() == "task_definition.api")
        .unwrap();
    assert!(td.spec.deps().contains(&crate::desired::image_id("api")));
}

#[test]
fn new_commit_builds_and_rolls_out_and_unchanged_source_does_nothing() {
    let (_a, d) = built("abc123");
    let observed = converged(&d);
    assert!(!plan_up(&d, &observed).has_changes());
    // A new commit's tag is not in the repository yet: observe finds no image.
    let mut observed = observed;
    observed.remove(&crate::desired::image_id("api"));
    let (_b, next) = built("def456");
    let plan = plan_up(&next, &observed);
    assert_eq!(action_of(&plan, "image.api"), &Action::Create);
    assert!(matches!(
        action_of(&plan, "task_definition.api"),
        Action::Update(_)
    ));
    assert!(matches!(action_of(&plan, "service.api"), Action::Update(_)));
    assert_eq!(action_of(&plan, "ecr_repository.api"), &Action::NoOp);
}

#[test]
fn down_leaves_images_to_their_repository() {
    let (_dir, d) = built("abc123");
    let plan = plan_down(&converged(&d), &d, false);
    assert!(plan.changes.iter().all(|c| c.id.kind != Kind::Image));
    assert!(plan
        .changes
        .iter()
        .any(|c| c.id.to_string() == "ecr_repository.api"));
}

/// The ids `id` must come after, as the desired state says.
fn deps_of(resources: &[Resource], id: &str) -> Vec<String> {
    let r = resources
        .iter()
        .find(|r| r.id.to_string() == id)
        .unwrap_or_else(|| panic!("{id} is desired"));
    r.spec.deps().iter().map(ResourceId::to_string).collect()
}

#[test]
fn what_needs_the_internet_gateway_or_a_route_out_waits_for_it() {
    let text = r#"
app = "demo"
region = "ap-northeast-1"
[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]
nat = "single"
endpoints = ["s3", "logs"]
[load_balancer]
[[load_balancer.listeners]]
port = 80
protocol = "HTTP"
service = "web"
[services.web]
image = "nginx:latest"
ports = [80]
subnets = "private"
target_group = { port = 80 }
[services.edge]
image = "nginx:latest"
"#;
    let d = desired(text);
    // AWS refuses an internet-facing ALB in a VPC without an attached gateway, and a public
    // NAT gateway made before the attachment goes `failed`.
    assert!(deps_of(&d, "load_balancer.main").contains(&"internet_gateway.main".into()));
    assert!(deps_of(&d, "nat_gateway.a").contains(&"internet_gateway.main".into()));
    // A private service's tasks pull through the NAT route and the endpoints; a public one
    // through the public route to the gateway.
    let web = deps_of(&d, "service.web");
    for need in [
        "route_table.private",
        "vpc_endpoint.s3",
        "vpc_endpoint.logs",
    ] {
        assert!(web.contains(&need.to_string()), "{need} in {web:?}");
    }
    assert!(!web.contains(&"route_table.public".to_string()), "{web:?}");
    let edge = deps_of(&d, "service.edge");
    assert!(edge.contains(&"route_table.public".to_string()), "{edge:?}");
    assert!(
        !edge.contains(&"route_table.private".to_string()),
        "{edge:?}"
    );
}

/// Everything `id` waits for, directly or through what it waits for.
fn waits_for(resources: &[Resource], id: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![id.to_string()];
    while let Some(next) = todo.pop() {
        for dep in deps_of(resources, &next) {
            if seen.insert(dep.clone()) {
                todo.push(dep);
            }
        }
    }
    seen
}

#[test]
fn only_the_services_that_use_a_database_wait_for_it() {
    let text = r#"
app = "demo"
region = "ap-northeast-1"
[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]
[databases.db]
engine = "postgres"
engine_version = "16"
instance_class = "db.t4g.micro"
username = "app"
[services.api]
image = "nginx:latest"
subnets = "private"
[[services.api.uses]]
database = "db"
[services.web]
image = "nginx:latest"
subnets = "private"
"#;
    let d = desired(text);
    // RDS takes 5–15 minutes: the shared execution role must not name its secret, or every
    // task definition, and every service, would wait for it.
    let role = waits_for(&d, "iam_role.execution");
    assert!(!role.contains("db_instance.db"), "{role:?}");
    for id in ["task_definition.web", "service.web"] {
        let deps = waits_for(&d, id);
        assert!(!deps.contains("db_instance.db"), "{id}: {deps:?}");
    }
    // The grant is a policy of its own, which the service that uses the database waits for.
    // It names the generated password secret, which the instance is created with.
    let policy = deps_of(&d, "iam_role_policy.execution-db-db");
    assert!(
        policy.contains(&"secret.database.db".to_string()),
        "{policy:?}"
    );
    assert!(
        !policy.contains(&"db_instance.db".to_string()),
        "{policy:?}"
    );
    let db = deps_of(&d, "db_instance.db");
    assert!(db.contains(&"secret.database.db".to_string()), "{db:?}");
    assert!(
        policy.contains(&"iam_role.execution".to_string()),
        "{policy:?}"
    );
    let api = waits_for(&d, "service.api");
    assert!(api.contains("iam_role_policy.execution-db-db"), "{api:?}");
    assert!(api.contains("db_instance.db"), "{api:?}");
}

#[test]
fn a_release_task_runs_only_before_its_service_moves_to_a_new_revision() {
    let text = format!("{CONFIG}release = {{ command = [\"./manage.py\", \"migrate\"] }}\n");
    let d = desired(&text);
    let service = d
        .iter()
        .find(|r| r.id.to_string() == "service.site")
        .unwrap();
    assert!(service
        .spec
        .deps()
        .iter()
        .any(|id| id.to_string() == "release.site"));
    assert!(!d.iter().any(|r| r.id.to_string() == "release.api"));

    // A first deploy: the release runs after its revision, before the service.
    let plan = plan_up(&d, &BTreeMap::new());
    let pos = |id: &str| position(&plan, id);
    assert!(pos("task_definition.site") < pos("release.site"));
    assert!(pos("release.site") < pos("service.site"));
    assert!(pos("subnet.public-a") < pos("release.site"));

    // Nothing changed: nothing runs.
    let observed = converged(&d);
    assert!(!plan_up(&d, &observed).has_changes());

    // A new revision: the release runs, then the service moves to it.
    let plan = plan_up(
        &d,
        &crate::plan::fixtures::before_image_update(observed.clone()),
    );
    assert!(matches!(
        action_of(&plan, "release.site"),
        Action::Update(_)
    ));
    assert!(matches!(
        action_of(&plan, "service.site"),
        Action::Update(_)
    ));
    assert!(position(&plan, "release.site") < position(&plan, "service.site"));

    // A failed release left the new revision registered but the service on the old one:
    // the next plan runs it again.
    let mut failed = observed.clone();
    for kind in ["service.site", "release.site"] {
        let o = failed
            .values_mut()
            .find(|o| o.id.to_string() == kind)
            .unwrap();
        o.fields
            .insert("task_definition".into(), json!("arn:previous-revision"));
    }
    let plan = plan_up(&d, &failed);
    assert!(matches!(
        action_of(&plan, "release.site"),
        Action::Update(_)
    ));
    assert_eq!(action_of(&plan, "task_definition.site"), &Action::NoOp);

    // `down` has no release to delete.
    let down = plan_down(&observed, &d, false);
    assert!(down.changes.iter().all(|c| c.id.kind != Kind::Release));
}

fn canary() -> String {
    behind_alb("strategy = \"canary\"\ntest_port = 8080\n")
}

#[test]
fn a_canary_service_gets_a_second_group_weighted_rules_and_the_infrastructure_role() {
    let d = desired(&canary());
    let plan = plan_up(&d, &BTreeMap::new());
    let ids: BTreeSet<String> = d.iter().map(|r| r.id.to_string()).collect();
    for want in [
        "iam_role.ecs-infrastructure",
        "listener.8080",
        "listener_rule.80-web",
        "listener_rule.8080-web",
    ] {
        assert!(ids.contains(want), "{want} missing from {ids:#?}");
    }
    let groups: Vec<&String> = ids
        .iter()
        .filter(|i| i.starts_with("target_group."))
        .collect();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(groups.iter().any(|g| g.ends_with("-alt")));
    // The service comes after both rules and the role, which ECS checks on CreateService.
    let pos = |id: &str| position(&plan, id);
    for before in [
        "listener_rule.80-web",
        "listener_rule.8080-web",
        "iam_role.ecs-infrastructure",
    ] {
        assert!(pos(before) < pos("service.web"), "{before}");
    }
    let service = d
        .iter()
        .find(|r| r.id.to_string() == "service.web")
        .unwrap();
    let f = service.spec.fields(&crate::desired::NoRefs);
    let lb = &f["load_balancers"][0];
    assert!(lb["target_groups"].is_array(), "{lb}");
    assert!(lb["production_listener_rule"].is_string() && lb["test_listener_rule"].is_string());
    assert_eq!(
        f["deployment"]["strategy"],
        "CANARY 10% for 2 min, then all; bake 2 min"
    );
    // The test listener is open like the others.
    let alb_sg = d
        .iter()
        .find(|r| r.id.to_string() == "security_group.alb")
        .unwrap();
    let ingress = alb_sg.spec.fields(&crate::desired::NoRefs)["ingress"].to_string();
    assert!(ingress.contains("8080"), "{ingress}");
    let rule = d
        .iter()
        .find(|r| r.id.to_string() == "listener_rule.80-web")
        .unwrap();
    let outputs: BTreeMap<_, _> = converged(&d)
        .into_iter()
        .map(|(id, o)| (id, o.outputs))
        .collect();
    let rf = rule.spec.fields(&outputs);
    assert_eq!(rf["priority"], 50000);
    assert_eq!(
        rf["actions"][0]["target_groups"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn the_two_groups_of_a_service_compare_as_a_pair() {
    // After a deployment ECS names the other group first: the same pair, no change.
    let fields = |groups: [&str; 2]| {
        crate::desired::lb_pair_fields(
            groups.map(str::to_string),
            "web",
            80,
            "rule".into(),
            None,
            "role".into(),
        )
    };
    assert_eq!(fields(["b", "a"]), fields(["a", "b"]));
    assert_ne!(fields(["a", "c"]), fields(["a", "b"]));
}

#[test]
fn a_canary_update_is_expected_to_take_its_bake_times_longer() {
    let d = desired(&canary());
    let mut seen = converged(&d);
    let svc = ResourceId::parse("service.web").unwrap();
    seen.get_mut(&svc)
        .unwrap()
        .fields
        .insert("task_definition".into(), json!("old"));
    let plan = plan_up(&d, &seen);
    let c = plan.changes.iter().find(|c| c.id == svc).unwrap();
    assert!(matches!(c.action, Action::Update(_)));
    // Typical update (2 min) + canary held 2 min + bake 2 min.
    assert_eq!(plan.typical(c), std::time::Duration::from_secs(360));
    let linear = desired(&canary().replace("\"canary\"", "\"linear\""));
    let Some(crate::desired::Spec::Service(s)) =
        linear.iter().find(|r| r.id == svc).map(|r| &r.spec)
    else {
        unreachable!()
    };
    // 25 % steps: three held a minute each, then the 2-minute bake.
    assert_eq!(
        durations::settings_extra(&crate::desired::Spec::Service(s.clone())),
        std::time::Duration::from_secs(300)
    );
}
