use std::collections::BTreeMap;

use super::*;
use crate::plan::fixtures::{before_image_update, converged, example, EXAMPLES};
use crate::plan::plan_up;

/// The estimate line of a fresh `up` and of an image update of an example.
fn predicted(file: &str) -> (String, String) {
    let d = example(file);
    let fresh = line(&estimate(&plan_up(&d, &BTreeMap::new()))).unwrap();
    let update = plan_up(&d, &before_image_update(converged(&d)));
    let update = line(&estimate(&update)).unwrap();
    (fresh, update)
}

/// The row of docs/performance.md's prediction table for an example.
fn table_row(file: &str) -> String {
    let d = example(file);
    let fresh = estimate(&plan_up(&d, &BTreeMap::new()));
    let update = estimate(&plan_up(&d, &before_image_update(converged(&d))));
    let chain = |e: &Estimate| {
        e.chain
            .iter()
            .filter(|l| l.duration >= NOTABLE)
            .map(|l| format!("{} {}", l.id, short(l.duration)))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    format!(
        "| {} | {} ({}) | {} | {} ({}) | {} |",
        file.trim_end_matches(".toml"),
        about(fresh.total).trim_start_matches("about "),
        short(fresh.total),
        chain(&fresh),
        about(update.total).trim_start_matches("about "),
        short(update.total),
        chain(&update),
    )
}

#[test]
#[ignore = "prints the predictions and the table of docs/performance.md; run with --ignored \
            --nocapture"]
fn print_predictions() {
    for file in EXAMPLES {
        let (fresh, update) = predicted(file);
        println!("{file}\n  {fresh}\n  {update}");
    }
    for file in EXAMPLES {
        println!("{}", table_row(file));
    }
}

#[test]
fn the_performance_doc_gives_what_the_estimator_predicts() {
    let doc = include_str!("../../../docs/performance.md");
    for file in EXAMPLES {
        let row = table_row(file);
        assert!(
            doc.lines().any(|l| l == row),
            "docs/performance.md lacks, or has another figure than, the row\n{row}\n(cargo \
             test --lib print_predictions -- --ignored --nocapture prints the table)"
        );
    }
}

#[test]
fn each_examples_fresh_deploy_and_image_update_are_pinned() {
    let want = [
        (
            "alb-https-cognito.toml",
            "Expected on AWS: about 4 min — load_balancer.main (2m30s) → listener.443 → \
             service.bedrock (1m)",
            "Expected on AWS: about 2 min — task_definition.bedrock → service.bedrock (2m)",
        ),
        (
            "dynamodb-webapp.toml",
            "Expected on AWS: about 4 min — vpc.main → internet_gateway.main → \
             load_balancer.main (2m30s) → listener.80 → service.bottle (1m) → \
             scalable_target.bottle → scaling_policy.bottle",
            "Expected on AWS: about 2 min — task_definition.bottle → service.bottle (2m)",
        ),
        (
            "fargate-public.toml",
            // A fresh account's first cluster: the ECS service-linked role and the cluster
            // itself propagate before CreateService is accepted.
            "Expected on AWS: about 75 s — cluster.main (13s) → service.service1 (1m)",
            "Expected on AWS: about 2 min — task_definition.service1 → service.service1 (2m)",
        ),
        (
            "service-connect.toml",
            // The canary's production rule comes between the listener and the service.
            "Expected on AWS: about 4 min — vpc.main → internet_gateway.main → \
             load_balancer.main (2m30s) → listener.80 → listener_rule.80-frontend → \
             service.frontend (1m) → scalable_target.frontend → scaling_policy.frontend",
            // The frontend depends on the backend: a rolling deployment, then the canary
            // (2 min at 10 %, 2 min of bake).
            "Expected on AWS: about 8 min — task_definition.backend → service.backend (2m) → \
             service.frontend (6m)",
        ),
        (
            "wordpress.toml",
            // The task definition names the database's endpoint: it waits for RDS.
            "Expected on AWS: about 11 min — vpc.main → security_group.alb → \
             security_group.web → security_group.database.db → db_instance.db (10m) → \
             task_definition.web → service.web (1m)",
            "Expected on AWS: about 2 min — task_definition.web → service.web (2m)",
        ),
        (
            "django-postgres.toml",
            // The release task (the migrations) runs between the revision and the service.
            "Expected on AWS: about 12 min — vpc.main → security_group.alb → \
             security_group.web → security_group.database.db → db_instance.db (10m) → \
             task_definition.web → release.web (1m) → service.web (1m) → \
             scalable_target.web → scaling_policy.web",
            "Expected on AWS: about 3 min — task_definition.web → release.web (1m) → \
             service.web (2m)",
        ),
    ];
    assert_eq!(want.len(), EXAMPLES.len(), "every example is pinned");
    for (file, fresh, update) in want {
        assert_eq!(predicted(file), (fresh.into(), update.into()), "{file}");
    }
}

/// A hand-made plan: a slow branch and a fast one meet at the service.
fn small_plan() -> Plan {
    let config = r#"
app = "demo"
region = "ap-northeast-1"
[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]
[load_balancer]
listeners = [{ port = 80, protocol = "HTTP", service = "web" }]
[services.web]
image = "nginx:latest"
ports = [80]
[services.web.target_group]
port = 80
"#;
    let d = crate::plan::fixtures::desired(config);
    plan_up(&d, &BTreeMap::new())
}

#[test]
fn the_chain_is_the_longest_weighted_path_and_its_steps_add_up() {
    let plan = small_plan();
    let e = estimate(&plan);
    let sum: Duration = e.chain.iter().map(|l| l.duration).sum();
    assert_eq!(sum, e.total);
    // Each step of the chain depends on the one before it.
    for w in e.chain.windows(2) {
        assert!(plan.graph.deps(&w[1].id).any(|d| *d == w[0].id), "{w:?}");
    }
    // The load balancer (150 s) decides, not the longer chain in steps.
    assert!(e
        .chain
        .iter()
        .any(|l| l.id.to_string() == "load_balancer.main"));
    assert_eq!(e.chain.last().unwrap().id.to_string(), "service.web");
}

#[test]
fn nothing_to_do_is_no_estimate() {
    let d = example("fargate-public.toml");
    let e = estimate(&plan_up(&d, &converged(&d)));
    assert_eq!((e.total, e.chain.len()), (Duration::ZERO, 0));
    assert_eq!(line(&e), None);
}

#[test]
fn durations_and_totals_read_as_a_person_would_say_them() {
    let s = Duration::from_secs;
    assert_eq!(
        [short(s(45)), short(s(60)), short(s(150)), short(s(600))],
        ["45s", "1m", "2m30s", "10m"]
    );
    assert_eq!(
        [
            about(s(3)),
            about(s(66)),
            about(s(90)),
            about(s(214)),
            about(s(659))
        ],
        [
            "about 5 s",
            "about 70 s",
            "about 2 min",
            "about 4 min",
            "about 11 min"
        ]
    );
}

#[test]
fn the_json_names_the_chain_with_actions_and_seconds() {
    let d = example("fargate-public.toml");
    let v = json(&estimate(&plan_up(&d, &BTreeMap::new())));
    // cluster 13 (its propagation windows) + service 60.
    assert_eq!(v["seconds"], 73);
    let path = v["critical_path"].as_array().unwrap();
    assert_eq!(path[0]["id"], "cluster.main");
    assert_eq!(path[0]["action"], "create");
    assert_eq!(path.last().unwrap()["seconds"], 60);
}
