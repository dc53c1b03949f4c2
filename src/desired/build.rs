//! Config → desired resources (pure). Everything AWS-specific that is not known offline
//! (the region's AZ names, imported network ids) comes in through [`Env`]. The area
//! builders (network, stores, IAM, load balancer, services) sit below this file and know
//! only [`Env`] and the areas below them; this file puts them in order.

use super::env::Env;
use super::iam;
use super::ids::*;
use super::jobs;
use super::load_balancer;
use super::network;
use super::services;
use super::spec::*;
use super::stores;
use crate::config::Config;

/// The complete desired state, in dependency-friendly order.
pub fn build(c: &Config, env: &Env) -> Vec<Resource> {
    let mut out = Vec::new();
    let net = network::build(c, env, &mut out);
    let stores = stores::build(c, env, &net, &mut out);
    for (key, r) in &c.repositories {
        out.push(Resource {
            id: repository_id(key),
            name: c.repository_name(key),
            spec: Spec::EcrRepository(EcrSpec {
                scan_on_push: r.scan_on_push,
                tag_mutability: r.tag_mutability.as_aws().to_string(),
                keep_images: r.keep_images,
            }),
        });
    }
    out.push(Resource {
        id: cluster_id(),
        name: c.cluster_name(),
        spec: Spec::Cluster(ClusterSpec {
            container_insights: c.cluster.container_insights.as_aws().to_string(),
            service_connect_namespace: c
                .service_connect
                .as_ref()
                .filter(|sc| sc.cluster_default)
                .map(|_| services::namespace_val(c)),
            spot: c
                .services
                .values()
                .filter_map(|s| s.capacity)
                .any(|cap| !spot_strategy(cap.spot, cap.on_demand_base).is_empty()),
        }),
    });
    if let Some(sc) = c.service_connect.as_ref().filter(|sc| !sc.existing) {
        out.push(Resource {
            id: namespace_id(),
            name: sc.namespace.clone(),
            spec: Spec::Namespace(NamespaceSpec),
        });
    }
    out.push(Resource {
        id: log_group_id(),
        name: c.log_group_name(),
        spec: Spec::LogGroup(LogGroupSpec {
            retention_days: c.logs.retention_days as i32,
        }),
    });
    if c.iam.execution_role.is_none() && !(c.services.is_empty() && c.jobs.is_empty()) {
        out.push(iam::execution_role(
            c,
            env,
            &stores.execution_secrets,
            &iam::file_reads(c),
        ));
        out.extend(
            stores
                .databases
                .iter()
                .map(|db| iam::db_secret_policy(c, db)),
        );
    }
    let lb = load_balancer::build(c, env, &net, &mut out);
    if !lb.shifting.is_empty() {
        out.push(iam::infrastructure_role(c, env));
    }
    for key in c.services.keys() {
        let wiring = stores.wiring.get(key).cloned().unwrap_or_default();
        services::build(c, env, &net, &lb, key, wiring, &mut out);
    }
    jobs::build(c, env, &net, &mut out);
    out
}
