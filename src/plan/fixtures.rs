//! Fixtures the plan tests share: the desired resources of a config, and what AWS would
//! report once they exist exactly as desired.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::load_str;
use crate::desired::{build, Env, Outputs, Resource, ResourceId};
use crate::plan::Observed;

/// An app whose one service `web`, behind the HTTP:80 listener's default action, has the
/// `[services.web.deployment]` keys `deployment` (a traffic-shifting strategy, say).
pub fn behind_alb(deployment: &str) -> String {
    format!(
        r#"
app = "demo"
region = "ap-northeast-1"
[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]
[load_balancer]
[[load_balancer.listeners]]
port = 80
protocol = "HTTP"
service = "web"
[services.web]
image = "nginx:latest"
ports = [80]
[services.web.target_group]
port = 80
[services.web.deployment]
{deployment}
"#
    )
}

/// A two-AZ Tokyo account: nothing imported, no image built.
pub fn tokyo() -> Env {
    Env {
        region: "ap-northeast-1".into(),
        azs: vec!["ap-northeast-1a".into(), "ap-northeast-1c".into()],
        ..Default::default()
    }
}

/// The resources the config `text` asks for, in a two-AZ Tokyo account.
pub fn desired(text: &str) -> Vec<Resource> {
    let loaded = load_str(text, Path::new("t.toml")).expect("valid config");
    build(&loaded.config, &tokyo())
}

/// What AWS would report once `resources` exist exactly as desired.
pub fn converged(resources: &[Resource]) -> BTreeMap<ResourceId, Observed> {
    let outputs: BTreeMap<ResourceId, Outputs> = resources
        .iter()
        .map(|r| {
            let o = Outputs::with_id(format!("{}-id", r.id))
                .arn(format!("arn:{}", r.id))
                .uri(format!("uri/{}", r.name));
            (r.id.clone(), o)
        })
        .collect();
    resources
        .iter()
        .map(|r| {
            let o = Observed {
                id: r.id.clone(),
                name: r.name.clone(),
                outputs: outputs[&r.id].clone(),
                fields: r.spec.fields(&outputs),
                state: "ok".into(),
                details: serde_json::Value::Null,
            };
            (r.id.clone(), o)
        })
        .collect()
}

/// The example configs under `config/examples/`, by file name.
pub const EXAMPLES: &[&str] = &[
    "alb-https-cognito.toml",
    "dynamodb-webapp.toml",
    "fargate-public.toml",
    "service-connect.toml",
    "wordpress.toml",
    "django-postgres.toml",
];

/// The resources `config/examples/<file>` asks for in a two-AZ Tokyo account: an
/// imported network resolved to made-up ids, built images tagged `src-1`.
pub fn example(file: &str) -> Vec<Resource> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/examples")
        .join(file);
    let loaded = crate::config::load_file(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let c = &loaded.config;
    let env = Env {
        imported: c
            .network
            .existing
            .as_ref()
            .map(|_| crate::desired::ImportedNetwork {
                vpc_id: "vpc-1".into(),
                public_subnets: vec!["subnet-p1".into(), "subnet-p2".into()],
                private_subnets: vec!["subnet-q1".into(), "subnet-q2".into()],
            }),
        image_tags: c
            .services
            .keys()
            .map(|k| (k.clone(), "src-1".to_string()))
            .collect(),
        ..tokyo()
    };
    build(c, &env)
}

/// `observed` as it is before an image update: every task definition's revision differs
/// from the config's, so every service rolls out a new one.
pub fn before_image_update(
    mut observed: BTreeMap<ResourceId, Observed>,
) -> BTreeMap<ResourceId, Observed> {
    for o in observed.values_mut() {
        if o.id.kind == crate::desired::Kind::TaskDefinition {
            if let Some((_, v)) = o.fields.iter_mut().next() {
                *v = serde_json::json!("the previous image");
            }
        }
    }
    observed
}
