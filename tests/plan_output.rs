//! `ecsdeploy plan` output, end to end on reference system 2 (`fargate-public`) against
//! moto: creates on a fresh account, field-level diffs after an edit, and the JSON
//! document of docs/plan-json.md.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use common::{example, run_async, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";

async fn ecsdeploy(proxy: &Proxy, config: &Path, args: &[&str]) -> common::Output {
    let mut all = vec!["-c", config.to_str().unwrap()];
    all.extend_from_slice(args);
    run_async(proxy, REGION, &all).await
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// The document has exactly the shape docs/plan-json.md describes.
fn assert_documented_shape(doc: &Value) {
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(
        keys(doc),
        BTreeSet::from([
            "schema_version",
            "app",
            "region",
            "changes",
            "kept",
            "rollout_order",
            "service_rollout_order",
            "summary",
            "estimate"
        ])
    );
    assert_eq!(
        keys(&doc["estimate"]),
        BTreeSet::from(["seconds", "critical_path"])
    );
    for link in doc["estimate"]["critical_path"].as_array().unwrap() {
        assert_eq!(keys(link), BTreeSet::from(["id", "action", "seconds"]));
    }
    assert_eq!(doc["app"], "fargate-public");
    assert_eq!(doc["region"], REGION);
    let actions = [
        "create",
        "update",
        "replace",
        "delete",
        "unchanged",
        "wait",
        "failed",
    ];
    for c in doc["changes"].as_array().unwrap() {
        let mut shape = keys(c);
        if ["wait", "failed"].contains(&c["action"].as_str().unwrap()) {
            assert!(shape.remove("deployment"), "{c}");
        }
        assert_eq!(
            shape,
            BTreeSet::from([
                "id",
                "kind",
                "name",
                "action",
                "fields",
                "diff",
                "forces_replacement"
            ])
        );
        let id = format!("{}.", c["kind"].as_str().unwrap());
        assert!(c["id"].as_str().unwrap().starts_with(&id), "{c}");
        assert!(actions.contains(&c["action"].as_str().unwrap()), "{c}");
        for f in c["fields"].as_array().unwrap() {
            assert!(keys(f).contains("field") && keys(f).contains("new"), "{f}");
        }
        for e in c["diff"].as_array().unwrap() {
            let (op, k) = (e["op"].as_str().unwrap(), keys(e));
            let want: &[&str] = match op {
                "set" | "add" => &["path", "op", "new"],
                "remove" => &["path", "op", "old"],
                "change" => &["path", "op", "old", "new"],
                other => panic!("undocumented op {other}"),
            };
            assert_eq!(k, want.iter().copied().collect(), "{e}");
        }
        assert!(c["forces_replacement"].is_array());
    }
    assert!(doc["kept"].is_array());
    assert!(doc["rollout_order"].is_array());
    assert!(doc["service_rollout_order"].is_array());
    assert_eq!(keys(&doc["summary"]), BTreeSet::from(actions));
}

fn change<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in plan"))
}

/// The example with service1 scaled to 2, given an environment variable and a second port.
fn edited() -> (tempfile::TempDir, PathBuf) {
    let text = std::fs::read_to_string(example("fargate-public")).unwrap();
    let from = "ports = [80]\ndesired_count = 1\n";
    assert!(text.contains(from), "example lacks {from:?}");
    let to = "ports = [80, 8080]\ndesired_count = 2\nenvironment = { GREETING = \"hi\" }\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    (dir, path)
}

#[tokio::test]
async fn plan_shows_creates_then_field_diffs_in_text_and_json() {
    let proxy = Proxy::start(&unique_account()).await;
    let cfg = example("fargate-public");

    // A fresh account: everything is created, grouped by kind, ids not known yet.
    let text = ecsdeploy(&proxy, &cfg, &["plan"]).await;
    text.assert_success();
    let out = &text.stdout;
    assert!(!out.contains('\x1b'), "no colour in a pipe\n{out}");
    let heading = |kind: &str| {
        out.lines()
            .position(|l| l == format!("{kind}:"))
            .unwrap_or_else(|| panic!("no {kind} heading\n{out}"))
    };
    assert!(heading("vpc") < heading("subnet"));
    assert!(heading("subnet") < heading("security_group"));
    assert!(heading("cluster") < heading("task_definition"));
    assert!(heading("task_definition") < heading("service"));
    assert!(out.contains("  + create vpc.main ("), "{out}");
    assert!(
        out.contains("        vpc_id: (known after apply)\n"),
        "{out}"
    );
    assert!(
        out.contains("        containers[service1].image: nginx:latest\n"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "\nExpected on AWS: about 75 s — cluster.main (13s) → service.service1 (1m)\n\
             \n17 to create, 0 to update, 0 to delete, 0 to replace, 0 unchanged.\n"
        ),
        "{out}"
    );

    let graph = ecsdeploy(&proxy, &cfg, &["plan", "--graph", "mermaid"]).await;
    graph.assert_success();
    assert!(
        graph.stdout.starts_with(
            "%% Expected on AWS: about 75 s; the critical chain is drawn red\nflowchart LR\n"
        ),
        "{graph}"
    );
    assert_eq!(graph.stdout.matches("[\"create ").count(), 17, "{graph}");
    let dot = ecsdeploy(&proxy, &cfg, &["plan", "--graph", "dot"]).await;
    assert!(dot.stdout.contains("digraph plan {"), "{dot}");

    let json = ecsdeploy(&proxy, &cfg, &["plan", "--output", "json"]).await;
    json.assert_success();
    let doc: Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_documented_shape(&doc);
    assert_eq!(doc["summary"]["create"], 17);
    assert_eq!(doc["estimate"]["seconds"], 73);
    let subnet = change(&doc, "subnet.public-a");
    assert_eq!(subnet["action"], "create");
    assert!(subnet["diff"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["path"] == "vpc_id" && e["op"] == "set" && e["new"] == "(known after apply)"));
    assert_eq!(proxy.writes(), vec![], "plan makes no write call");

    ecsdeploy(&proxy, &cfg, &["up"]).await.assert_success();

    // An edit: the plan names each changed value, and only that.
    let (_dir, cfg) = edited();
    proxy.clear();
    let text = ecsdeploy(&proxy, &cfg, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(text.code, Some(2), "changes are pending\n{text}");
    let out = &text.stdout;
    for line in [
        "  ~ update task_definition.service1 (fargate-public-service1)",
        "        containers[service1].environment:",
        r#"          + {"name":"GREETING","value":"hi"}"#,
        "        containers[service1].port_mappings:",
        r#"          + {"container_port":8080,"protocol":"tcp"}"#,
        "  ~ update service.service1 (fargate-public-service1)",
        "        desired_count: 1 → 2",
    ] {
        assert!(out.lines().any(|l| l == line), "no line {line:?}\n{out}");
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("        task_definition: arn:")
                && l.ends_with(":1 → (known after apply)")),
        "{out}"
    );
    assert!(!out.contains("service2"), "service2 is unchanged\n{out}");
    assert!(
        out.ends_with("\n0 to create, 2 to update, 0 to delete, 0 to replace, 15 unchanged.\n"),
        "{out}"
    );

    let json = ecsdeploy(&proxy, &cfg, &["plan", "--output", "json"]).await;
    json.assert_success();
    let doc: Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_documented_shape(&doc);
    assert_eq!(doc["summary"]["update"], 2);
    assert_eq!(
        doc["service_rollout_order"],
        serde_json::json!(["service1"])
    );
    let td = change(&doc, "task_definition.service1");
    assert_eq!(td["action"], "update");
    let diff = td["diff"].as_array().unwrap();
    assert!(
        diff.iter()
            .any(|e| e["path"] == "containers[service1].port_mappings"
                && e["op"] == "add"
                && e["new"]["container_port"] == 8080),
        "{td}"
    );
    assert!(
        diff.iter()
            .any(|e| e["path"] == "containers[service1].environment"
                && e["op"] == "add"
                && e["new"] == serde_json::json!({"name": "GREETING", "value": "hi"})),
        "{td}"
    );
    let service = change(&doc, "service.service1");
    assert_eq!(
        service["diff"][0],
        serde_json::json!({"path": "desired_count", "op": "change", "old": 1, "new": 2})
    );
    assert_eq!(proxy.writes(), vec![], "plan makes no write call");
}
