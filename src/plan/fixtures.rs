//! Fixtures the plan tests share: the desired resources of a config, and what AWS would
//! report once they exist exactly as desired.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::load_str;
use crate::desired::{build, Env, Outputs, Resource, ResourceId};
use crate::plan::Observed;

/// The resources the config `text` asks for, in a two-AZ Tokyo account.
pub fn desired(text: &str) -> Vec<Resource> {
    let loaded = load_str(text, Path::new("t.toml")).expect("valid config");
    let env = Env {
        region: "ap-northeast-1".into(),
        azs: vec!["ap-northeast-1a".into(), "ap-northeast-1c".into()],
        ..Default::default()
    };
    build(&loaded.config, &env)
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
