//! Snapshots of the text and JSON plans, built from the pure types (no AWS), and unit
//! tests of the value diff and the colour decision.

use std::collections::BTreeMap;
use std::ffi::OsStr;

use serde_json::json;

use super::*;
use crate::desired::Resource;
use crate::plan::fixtures::{converged, desired};
use crate::plan::{plan_up, Observed};

const CONFIG: &str = r#"
app = "demo"
region = "ap-northeast-1"
[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]
[services.api]
image = "nginx:1.27"
cpu = 256
ports = [80]
environment = { MODE = "prod" }
ingress = [{ port = 80, cidrs = ["0.0.0.0/0"] }]
task_policy = [{ actions = ["s3:GetObject"], resources = ["arn:aws:s3:::demo/*"] }]
"#;

const WORKER: &str = r#"
[services.worker]
image = "busybox:1"
"#;

/// The plan from the converged `before` config to `after`, and `after`'s resources.
fn edit(before: &str, after: &str) -> (Plan, Vec<Resource>) {
    let d = desired(after);
    (plan_up(&d, &converged(&desired(before))), d)
}

fn plain(plan: &Plan, desired: &[Resource]) -> String {
    text("demo", "ap-northeast-1", plan, desired, false)
}

#[test]
fn create_on_a_fresh_account() {
    let d = desired(CONFIG);
    let plan = plan_up(&d, &BTreeMap::new());
    let out = plain(&plan, &d);
    assert!(out.contains("vpc_id: (known after apply)"), "{out}");
    assert!(
        !out.contains("-id"),
        "nothing is known before the apply: {out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn update_of_a_scalar_field() {
    let (plan, d) = edit(
        CONFIG,
        &CONFIG.replace("cpu = 256", "cpu = 256\ndesired_count = 3"),
    );
    let out = plain(&plan, &d);
    assert!(out.contains("desired_count: 1 → 3"), "{out}");
    assert!(
        out.contains("0 to create, 1 to update, 0 to delete"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn update_adds_and_removes_list_items() {
    let after = CONFIG
        .replace("ports = [80]", "ports = [80, 8080]")
        .replace(
            r#"ingress = [{ port = 80, cidrs = ["0.0.0.0/0"] }]"#,
            r#"ingress = [{ port = 80, cidrs = ["10.0.0.0/8"] }, { port = 8080, cidrs = ["10.0.0.0/8"] }]"#,
        )
        .replace(
            r#"resources = ["arn:aws:s3:::demo/*"]"#,
            r#"resources = ["arn:aws:s3:::demo/*", "arn:aws:s3:::shared/*"]"#,
        );
    let (plan, d) = edit(CONFIG, &after);
    let out = plain(&plan, &d);
    assert!(out.contains("+ arn:aws:s3:::shared/*"), "{out}");
    assert!(
        out.contains(r#"- {"cidr":"0.0.0.0/0","from_port":80,"protocol":"tcp","to_port":80}"#),
        "{out}"
    );
    // Whole arrays are not dumped: the unchanged resource stays out of the diff.
    assert!(!out.contains("arn:aws:s3:::demo/*"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn update_inside_nested_values() {
    let after = CONFIG
        .replace(
            r#"environment = { MODE = "prod" }"#,
            r#"environment = { MODE = "dev", DEBUG = "1" }"#,
        )
        .replace("nginx:1.27", "nginx:1.28");
    let (plan, d) = edit(CONFIG, &after);
    let out = plain(&plan, &d);
    assert!(
        out.contains("containers[api].environment[MODE].value: prod → dev"),
        "{out}"
    );
    assert!(
        out.contains("containers[api].image: nginx:1.27 → nginx:1.28"),
        "{out}"
    );
    assert!(
        out.contains("task_definition: arn:task_definition.api → (known after apply)"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn delete_and_keep() {
    let with_worker = format!("{CONFIG}{WORKER}");
    let mut observed = converged(&desired(&with_worker));
    let table = ResourceId::new(Kind::DynamodbTable, "orders");
    observed.insert(
        table.clone(),
        Observed {
            id: table,
            name: "demo-orders".into(),
            outputs: Outputs::with_id("demo-orders"),
            fields: Default::default(),
            state: "ACTIVE".into(),
            details: Value::Null,
        },
    );
    let d = desired(CONFIG);
    let plan = plan_up(&d, &observed);
    let out = plain(&plan, &d);
    assert!(out.contains("- delete service.worker"), "{out}");
    assert!(out.contains("= keep dynamodb_table.orders"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn replace() {
    let d = desired(CONFIG);
    let mut observed = converged(&d);
    let service = observed
        .get_mut(&crate::desired::service_id("api"))
        .unwrap();
    service
        .fields
        .insert("cluster".into(), json!("old-cluster"));
    service.fields.insert("desired_count".into(), json!(2));
    let plan = plan_up(&d, &observed);
    let out = plain(&plan, &d);
    assert!(
        out.contains("cluster: old-cluster → cluster.main-id  (forces replacement)"),
        "{out}"
    );
    assert!(out.contains("desired_count: 2 → 1\n"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn no_change() {
    let d = desired(CONFIG);
    let plan = plan_up(&d, &converged(&d));
    let out = plain(&plan, &d);
    assert!(out.contains("No changes"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn json_document() {
    let after = CONFIG
        .replace("ports = [80]", "ports = [80, 8080]")
        .replace(
            r#"ingress = [{ port = 80, cidrs = ["0.0.0.0/0"] }]"#,
            r#"ingress = [{ port = 80, cidrs = ["0.0.0.0/0"] }, { port = 8080, cidrs = ["10.0.0.0/8"] }]"#,
        )
        .replace("cpu = 256", "cpu = 256\ndesired_count = 2");
    let d = desired(&format!("{after}{WORKER}"));
    let mut observed = converged(&desired(CONFIG));
    // The service's subnet is gone: its id is known only after the new one exists.
    observed.remove(&ResourceId::new(Kind::Subnet, "public-b"));
    let plan = plan_up(&d, &observed);
    let doc = json("demo", "ap-northeast-1", &plan, &d);
    assert_eq!(doc["schema_version"], 1);
    insta::assert_snapshot!(serde_json::to_string_pretty(&doc).unwrap());
}

/// Every key the JSON document can hold is described in docs/plan-json.md.
#[test]
fn json_keys_are_documented() {
    let docs = include_str!("../../../docs/plan-json.md");
    let d = desired(&format!("{CONFIG}{WORKER}"));
    let mut observed = converged(&desired(CONFIG));
    observed
        .get_mut(&crate::desired::service_id("api"))
        .unwrap()
        .fields
        .insert("cluster".into(), json!("old-cluster"));
    let plan = plan_up(&d, &observed);
    let doc = json("demo", "ap-northeast-1", &plan, &d);
    let mut keys: BTreeSet<String> = doc.as_object().unwrap().keys().cloned().collect();
    for c in doc["changes"].as_array().unwrap() {
        keys.extend(c.as_object().unwrap().keys().cloned());
        for f in c["fields"].as_array().unwrap() {
            keys.extend(f.as_object().unwrap().keys().cloned());
        }
        for e in c["diff"].as_array().unwrap() {
            keys.extend(e.as_object().unwrap().keys().cloned());
            assert!(docs.contains(&format!("`\"{}\"`", e["op"].as_str().unwrap())));
        }
    }
    keys.extend(doc["summary"].as_object().unwrap().keys().cloned());
    keys.extend(doc["estimate"].as_object().unwrap().keys().cloned());
    for link in doc["estimate"]["critical_path"].as_array().unwrap() {
        keys.extend(link.as_object().unwrap().keys().cloned());
    }
    for key in keys {
        assert!(
            docs.contains(&format!("`{key}`")),
            "{key} is not documented"
        );
    }
    for action in [
        "create",
        "update",
        "replace",
        "delete",
        "unchanged",
        "wait",
        "failed",
    ] {
        assert!(docs.contains(&format!("`\"{action}\"`")), "{action}");
    }
}

#[test]
fn colour_only_when_asked() {
    let after = CONFIG.replace("cpu = 256", "cpu = 256\ndesired_count = 3");
    let (updated, d) = edit(CONFIG, &after);
    let fresh = plan_up(&d, &BTreeMap::new());
    for plan in [&fresh, &updated] {
        let coloured = text("demo", "r", plan, &d, true);
        let bare = text("demo", "r", plan, &d, false);
        assert!(coloured.contains("\x1b["), "{coloured}");
        assert!(!bare.contains('\x1b'), "{bare}");
    }
    let paint = |c: AnsiColor| c.on_default().render().to_string();
    let coloured = text("demo", "r", &updated, &d, true);
    assert!(
        coloured.contains(&format!("{}~ update service.api", paint(AnsiColor::Yellow))),
        "{coloured:?}"
    );
    assert!(
        coloured.contains(&format!("{}3", paint(AnsiColor::Green))),
        "the new value is green: {coloured:?}"
    );
    let coloured = text("demo", "r", &fresh, &d, true);
    assert!(
        coloured.contains(&format!("{}+ create vpc.main", paint(AnsiColor::Green))),
        "{coloured:?}"
    );
}

#[test]
fn no_color_and_terminals() {
    assert!(use_colour(true, None));
    assert!(
        use_colour(true, Some(OsStr::new(""))),
        "empty NO_COLOR counts as unset"
    );
    assert!(!use_colour(true, Some(OsStr::new("1"))));
    assert!(
        !use_colour(true, Some(OsStr::new("false"))),
        "any value disables"
    );
    assert!(!use_colour(false, None), "pipes and files get no colour");
    assert!(!use_colour(false, Some(OsStr::new(""))));
}

fn paths(entries: &[Entry]) -> Vec<(String, Op)> {
    entries.iter().map(|e| (e.path.clone(), e.op)).collect()
}

#[test]
fn scalars_change_as_a_whole() {
    let d = diff_values("desired_count", &json!(1), &json!(2));
    assert_eq!(
        d,
        vec![Entry::new(
            "desired_count",
            Op::Change,
            Some(&json!(1)),
            Some(&json!(2))
        )]
    );
    assert!(diff_values("x", &json!({"a": [1]}), &json!({"a": [1]})).is_empty());
    // A value appearing where there was none is a change from null.
    let d = diff_values("task_role_arn", &Value::Null, &json!("arn:r"));
    assert_eq!(d[0].old, Some(Value::Null));
}

#[test]
fn lists_of_scalars_show_added_and_removed_items() {
    let d = diff_values("subnets", &json!(["a", "b", "c"]), &json!(["b", "c", "d"]));
    assert_eq!(
        d,
        vec![
            Entry::new("subnets", Op::Remove, Some(&json!("a")), None),
            Entry::new("subnets", Op::Add, None, Some(&json!("d"))),
        ]
    );
    // Only the order differs: one change of the whole list.
    let d = diff_values("command", &json!(["a", "b"]), &json!(["b", "a"]));
    assert_eq!(paths(&d), vec![("command".to_string(), Op::Change)]);
}

#[test]
fn keyed_lists_are_compared_item_by_item() {
    let old = json!([{"name": "web", "image": "a", "environment": [{"name": "X", "value": "1"}]}]);
    let new = json!([
        {"name": "web", "image": "b", "environment": [{"name": "X", "value": "2"}, {"name": "Y", "value": "3"}]},
        {"name": "log", "image": "fluent"},
    ]);
    let d = diff_values("containers", &old, &new);
    assert_eq!(
        paths(&d),
        vec![
            ("containers[web].environment[X].value".into(), Op::Change),
            ("containers[web].environment".into(), Op::Add),
            ("containers[web].image".into(), Op::Change),
            ("containers".into(), Op::Add),
        ]
    );
}

#[test]
fn unkeyed_objects_pair_up_by_position_when_counts_match() {
    let old = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:a"]}]});
    let new = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:a", "arn:b"]}]});
    let d = diff_values("inline_policy", &old, &new);
    assert_eq!(
        d,
        vec![Entry::new(
            "inline_policy.Statement[0].Resource",
            Op::Add,
            None,
            Some(&json!("arn:b"))
        )]
    );
    // A rule more: added whole.
    let d = diff_values(
        "ingress",
        &json!([{"cidr": "a", "port": 80}]),
        &json!([{"cidr": "a", "port": 80}, {"cidr": "b", "port": 80}]),
    );
    assert_eq!(paths(&d), vec![("ingress".into(), Op::Add)]);
}

#[test]
fn json_in_strings_is_diffed_by_key() {
    let d = diff_values(
        "policy",
        &json!(r#"{"Version":"2012-10-17","Effect":"Allow"}"#),
        &json!(r#"{"Version":"2012-10-17","Effect":"Deny"}"#),
    );
    assert_eq!(paths(&d), vec![("policy.Effect".into(), Op::Change)]);
}

#[test]
fn unknown_values_read_known_after_apply() {
    assert_eq!(
        mask_unknown(&json!(format!("service/c/{UNKNOWN}"))),
        json!(UNKNOWN)
    );
    assert_eq!(mask_unknown(&json!(["sg-1", UNKNOWN])), json!(UNKNOWN));
    assert_eq!(
        mask_unknown(&json!({"a": [{"b": format!("{UNKNOWN}:tag")}], "c": ["x"]})),
        json!({"a": [{"b": UNKNOWN}], "c": ["x"]})
    );
    // In text and JSON alike.
    let d = desired(CONFIG);
    let plan = plan_up(&d, &BTreeMap::new());
    let doc = json("demo", "r", &plan, &d).to_string();
    assert!(!doc.contains(&format!("/{UNKNOWN}")), "{doc}");
    assert!(doc.contains(UNKNOWN));
}

#[test]
fn creation_lists_values_by_path() {
    let v = json!({
        "cpu": "256",
        "task_role_arn": null,
        "containers": [{"name": "web", "image": "nginx", "ports": [80]}],
        "subnets": ["a", "b"],
    });
    let e: Vec<Entry> = v
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(k, v)| create_entries(k, v))
        .collect();
    assert_eq!(
        paths(&e),
        vec![
            ("containers[web].image".into(), Op::Set),
            ("containers[web].ports".into(), Op::Add),
            ("cpu".into(), Op::Set),
            ("subnets".into(), Op::Add),
            ("subnets".into(), Op::Add),
        ]
    );
    assert!(create_entries("volumes", &json!([])).is_empty());
}

#[test]
fn an_unsettled_deployment_is_shown_and_counted() {
    let d = desired(CONFIG);
    for (failed, sign, count) in [
        (false, "… wait", "1 to wait for"),
        (true, "! failed", "1 failed"),
    ] {
        let mut observed = converged(&d);
        let api = observed
            .get_mut(&crate::desired::service_id("api"))
            .unwrap();
        api.details = json!({
            crate::plan::UNSETTLED: crate::plan::Unsettled {
                deployment: "ecs-svc/1".into(),
                since: None,
                failed,
                reason: "ECS deployment circuit breaker: tasks failed to start.".into(),
                attempted: Default::default(),
            }
        });
        let plan = plan_up(&d, &observed);
        let out = plain(&plan, &d);
        assert!(
            out.contains(&format!("{sign} service.api (demo-api)")),
            "{out}"
        );
        assert!(out.contains("tasks failed to start"), "{out}");
        assert!(out.contains(&format!("0 to replace, {count}, ")), "{out}");
        assert!(!out.contains("No changes"), "{out}");
        let doc = json("demo", "ap-northeast-1", &plan, &d);
        let api = doc["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "service.api")
            .unwrap();
        assert_eq!(api["action"], if failed { "failed" } else { "wait" });
        assert_eq!(api["deployment"]["id"], "ecs-svc/1");
        assert_eq!(doc["summary"][if failed { "failed" } else { "wait" }], 1);
    }
}

/// Validation warns about plain values that look like secrets; the plan never prints them,
/// on a create or in a change, in text or JSON, yet shows that they changed.
#[test]
fn secret_looking_values_never_reach_the_plan() {
    let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
    let url = "postgres://app:hunter2hunter2@db:5432/app";
    let with = |k: &str, u: &str| {
        CONFIG.replace(
            "environment = { MODE = \"prod\" }",
            &format!(
                "environment = {{ MODE = \"prod\", AWS_SECRET_ACCESS_KEY = \"{k}\", \
                 DATABASE_URL = \"{u}\" }}"
            ),
        )
    };
    let d = desired(&with(key, url));
    let fresh = plan_up(&d, &BTreeMap::new());
    let (changed, d2) = edit(&with(key, url), &with("another-secret-value-123", url));
    for out in [
        plain(&fresh, &d),
        json("demo", "r", &fresh, &d).to_string(),
        plain(&changed, &d2),
        json("demo", "r", &changed, &d2).to_string(),
    ] {
        assert!(!out.contains(key) && !out.contains("hunter2"), "{out}");
        assert!(!out.contains("another-secret-value"), "{out}");
    }
    let out = plain(&changed, &d2);
    assert!(out.contains("AWS_SECRET_ACCESS_KEY"), "{out}");
    assert!(out.contains("hidden: looks like a secret"), "{out}");
    assert!(out.contains("MODE") || plain(&fresh, &d).contains("prod"));
}
