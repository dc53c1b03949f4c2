//! Validation tests, one file per area, sharing the helpers below.

use std::path::Path;

use super::*;
use crate::config::{load_str, Diagnostic};

/// Two lines: `app` on line 1, `region` on line 2.
const BASE: &str = "app = \"demo\"\nregion = \"ap-northeast-1\"\n";

fn diags(text: &str) -> Vec<Diagnostic> {
    match load_str(text, Path::new("t.toml")) {
        Ok(_) => Vec::new(),
        Err(e) => e.diagnostics,
    }
}

/// Asserts `text` has exactly one problem, at `key`, whose message contains `msg`.
#[track_caller]
fn one(text: &str, key: &str, msg: &str) -> Diagnostic {
    only(diags(text), "problem", key, msg)
}

/// Asserts `text` has exactly one warning, at `key`, containing `msg`.
#[track_caller]
fn one_warning(text: &str, key: &str, msg: &str) -> Diagnostic {
    only(warns(text), "warning", key, msg)
}

/// Asserts `d` holds exactly one `what`, at `key`, whose message contains `msg`.
#[track_caller]
fn only(d: Vec<Diagnostic>, what: &str, key: &str, msg: &str) -> Diagnostic {
    assert_eq!(d.len(), 1, "expected exactly one {what}, got {d:#?}");
    assert_eq!(d[0].key, key, "{d:#?}");
    assert!(
        d[0].message.contains(msg),
        "message {:?} does not contain {msg:?}",
        d[0].message
    );
    d[0].clone()
}

/// Asserts some problem of `text` is at `key` with `msg` in its message.
#[track_caller]
fn has(text: &str, key: &str, msg: &str) -> Diagnostic {
    let d = diags(text);
    d.iter()
        .find(|x| x.key == key && x.message.contains(msg))
        .cloned()
        .unwrap_or_else(|| panic!("no problem at {key} containing {msg:?} in {d:#?}"))
}

/// BASE plus `[services.web]` on line 3, `image` on line 4 and `body` from line 5.
fn svc(body: &str) -> String {
    format!("{BASE}[services.web]\nimage = \"nginx:1.27\"\n{body}")
}

/// BASE plus one `[services.<key>]` per (key, body), each with an image.
fn services(list: &[(&str, &str)]) -> String {
    let mut text = BASE.to_string();
    for (key, body) in list {
        text.push_str(&format!("[services.{key}]\nimage = \"nginx\"\n{body}"));
    }
    text
}

fn warns(text: &str) -> Vec<Diagnostic> {
    match load_str(text, Path::new("t.toml")) {
        Ok(l) => l.warnings,
        Err(e) => panic!("unexpected errors: {e}"),
    }
}

const FULL: &str = r#"
app = "shop"
region = "ap-northeast-1"

[network]
vpc_cidr = "10.20.0.0/16"
azs = ["ap-northeast-1a", "ap-northeast-1c"]
public_subnets = ["10.20.0.0/24", "10.20.1.0/24"]

[repositories.web]
scan_on_push = true
tag_mutability = "IMMUTABLE"

[repositories.worker]
name = "shop/worker-image"

[cluster]
name = "shop-main"
container_insights = "enabled"

[iam]
execution_role = "arn:aws:iam::123456789012:role/service-role/ecsTaskExecutionRole"

[logs]
group = "/ecs/shop#prod"
retention_days = 14

[services.web]
name = "shop-frontend"
image = { repository = "web", tag = "v1.2.3" }
cpu = 512
memory = 2048
cpu_architecture = "ARM64"
ports = [8080, 9090]
environment = { RUST_LOG = "info", _PORT = "8080" }
command = ["./web", "--port", "8080"]
desired_count = 3
subnets = "public"
assign_public_ip = true

[[services.web.ingress]]
port = 8080
cidrs = ["0.0.0.0/0"]
description = "public http"

[[services.web.task_policy]]
effect = "Allow"
actions = ["s3:GetObject", "sqs:*"]
resources = ["arn:aws:s3:::shop-assets/*", "*"]

[services.worker]
image = { repository = "worker" }
cpu = 16384
memory = 122880
task_role = "arn:aws-us-gov:iam::123456789012:role/worker"

[services.proxy]
image = "public.ecr.aws/nginx/nginx:1.27@sha256:abc"
"#;

mod app;
mod autoscaling;
mod connect;
mod containers;
mod environments;
mod examples;
mod jobs;
mod load_balancer;
mod network;
mod services;
mod stores;
mod strategies;
mod target_groups;
