//! One module per resource kind, each with the same four functions:
//!
//! - `observe(ctx, desired) -> Vec<Observed>`: find what exists — the desired resources
//!   (by ownership tag or deterministic name) *and* owned ones the config no longer has —
//!   in as few (batched) describe calls as the API allows. Never writes.
//! - `create(ctx, resource, resolve) -> Outputs`: create with ownership tags in the create
//!   call itself, then any follow-up settings.
//! - `update(ctx, resource, observed, resolve) -> Outputs`: bring an existing resource to the
//!   desired fields (recomputing the diff with references resolved).
//! - `delete(ctx, observed)`: delete; already-gone is success. Only `ecr_repository` can
//!   keep what it was asked to delete ([`Deleted::Kept`]).
//!
//! This file only dispatches by kind and holds what all steps share.

mod access_point;
mod cluster;
mod db_instance;
mod db_subnet_group;
mod dynamodb_table;
mod ecr_repository;
mod elastic_ip;
mod file_system;
mod iam_role;
mod image;
mod internet_gateway;
mod listener;
mod listener_rule;
mod load_balancer;
mod log_group;
mod mount_target;
mod namespace;
mod nat_gateway;
mod route_table;
mod scalable_target;
mod scaling_policy;
mod secret;
mod security_group;
mod service;
mod subnet;
pub mod support;
mod target_group;
mod task_definition;
mod vpc;
mod vpc_endpoint;

pub use service::{describe_services, judge, wait_stable, Judgement, WaitOutcome};

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::aws::Clients;
use crate::desired::{Kind, Outputs, Resolve, Resource, ResourceId, TAG_APP, TAG_RESOURCE};
use crate::plan::Observed;
use crate::report::Reporter;

/// Everything a step needs.
#[derive(Clone)]
pub struct Ctx {
    pub aws: Clients,
    pub app: String,
    /// Name of the app's ECS cluster (services are found inside it).
    pub cluster: String,
    pub report: Arc<dyn Reporter>,
    /// How long `up` waits for a service deployment; `None` = do not wait.
    pub service_wait: Option<Duration>,
    /// `down --delete-images`: delete ECR repositories even when they hold images.
    pub delete_images: bool,
    /// How long deletes retry `DependencyViolation` (ENIs draining) before giving up.
    pub delete_deadline: Duration,
    /// `down --delete-data --skip-final-snapshot`: delete databases without a final snapshot.
    pub skip_final_snapshot: bool,
    /// Observe the facts only `status` shows (target health), at one call per resource;
    /// `plan`, `up` and `down` skip them.
    pub status_details: bool,
}

impl Ctx {
    /// Ownership tags every created resource carries, as (key, value) pairs.
    pub fn tags(&self, id: &ResourceId, name: &str) -> Vec<(String, String)> {
        vec![
            ("Name".to_string(), name.to_string()),
            (TAG_APP.to_string(), self.app.clone()),
            (TAG_RESOURCE.to_string(), id.to_string()),
        ]
    }
}

/// Observe every resource of `kind`: desired ones and owned orphans.
pub async fn observe(ctx: &Ctx, kind: Kind, desired: &[&Resource]) -> Result<Vec<Observed>> {
    match kind {
        Kind::Vpc => vpc::observe(ctx, desired).await,
        Kind::Namespace => namespace::observe(ctx, desired).await,
        Kind::ScalableTarget => scalable_target::observe(ctx, desired).await,
        Kind::ScalingPolicy => scaling_policy::observe(ctx, desired).await,
        Kind::ElasticIp => elastic_ip::observe(ctx, desired).await,
        Kind::NatGateway => nat_gateway::observe(ctx, desired).await,
        Kind::VpcEndpoint => vpc_endpoint::observe(ctx, desired).await,
        Kind::LoadBalancer => load_balancer::observe(ctx, desired).await,
        Kind::TargetGroup => target_group::observe(ctx, desired).await,
        Kind::Listener => listener::observe(ctx, desired).await,
        Kind::ListenerRule => listener_rule::observe(ctx, desired).await,
        Kind::Subnet => subnet::observe(ctx, desired).await,
        Kind::InternetGateway => internet_gateway::observe(ctx, desired).await,
        Kind::RouteTable => route_table::observe(ctx, desired).await,
        Kind::SecurityGroup => security_group::observe(ctx, desired).await,
        Kind::EcrRepository => ecr_repository::observe(ctx, desired).await,
        Kind::Image => image::observe(ctx, desired).await,
        Kind::Cluster => cluster::observe(ctx, desired).await,
        Kind::IamRole => iam_role::observe(ctx, desired).await,
        Kind::LogGroup => log_group::observe(ctx, desired).await,
        Kind::TaskDefinition => task_definition::observe(ctx, desired).await,
        Kind::Service => service::observe(ctx, desired).await,
        Kind::DynamodbTable => dynamodb_table::observe(ctx, desired).await,
        Kind::DbSubnetGroup => db_subnet_group::observe(ctx, desired).await,
        Kind::DbInstance => db_instance::observe(ctx, desired).await,
        Kind::FileSystem => file_system::observe(ctx, desired).await,
        Kind::MountTarget => mount_target::observe(ctx, desired).await,
        Kind::AccessPoint => access_point::observe(ctx, desired).await,
        Kind::Secret => secret::observe(ctx, desired).await,
    }
}

pub async fn create(ctx: &Ctx, r: &Resource, res: &dyn Resolve) -> Result<Outputs> {
    match r.spec.kind() {
        Kind::Vpc => vpc::create(ctx, r, res).await,
        Kind::Namespace => namespace::create(ctx, r, res).await,
        Kind::ScalableTarget => scalable_target::create(ctx, r, res).await,
        Kind::ScalingPolicy => scaling_policy::create(ctx, r, res).await,
        Kind::ElasticIp => elastic_ip::create(ctx, r, res).await,
        Kind::NatGateway => nat_gateway::create(ctx, r, res).await,
        Kind::VpcEndpoint => vpc_endpoint::create(ctx, r, res).await,
        Kind::LoadBalancer => load_balancer::create(ctx, r, res).await,
        Kind::TargetGroup => target_group::create(ctx, r, res).await,
        Kind::Listener => listener::create(ctx, r, res).await,
        Kind::ListenerRule => listener_rule::create(ctx, r, res).await,
        Kind::Subnet => subnet::create(ctx, r, res).await,
        Kind::InternetGateway => internet_gateway::create(ctx, r, res).await,
        Kind::RouteTable => route_table::create(ctx, r, res).await,
        Kind::SecurityGroup => security_group::create(ctx, r, res).await,
        Kind::EcrRepository => ecr_repository::create(ctx, r, res).await,
        Kind::Image => image::create(ctx, r, res).await,
        Kind::Cluster => cluster::create(ctx, r, res).await,
        Kind::IamRole => iam_role::create(ctx, r, res).await,
        Kind::LogGroup => log_group::create(ctx, r, res).await,
        Kind::TaskDefinition => task_definition::create(ctx, r, res).await,
        Kind::Service => service::create(ctx, r, res).await,
        Kind::DynamodbTable => dynamodb_table::create(ctx, r, res).await,
        Kind::DbSubnetGroup => db_subnet_group::create(ctx, r, res).await,
        Kind::DbInstance => db_instance::create(ctx, r, res).await,
        Kind::FileSystem => file_system::create(ctx, r, res).await,
        Kind::MountTarget => mount_target::create(ctx, r, res).await,
        Kind::AccessPoint => access_point::create(ctx, r, res).await,
        Kind::Secret => secret::create(ctx, r, res).await,
    }
}

pub async fn update(ctx: &Ctx, r: &Resource, o: &Observed, res: &dyn Resolve) -> Result<Outputs> {
    match r.spec.kind() {
        Kind::Vpc => vpc::update(ctx, r, o, res).await,
        Kind::Namespace => namespace::update(ctx, r, o, res).await,
        Kind::ScalableTarget => scalable_target::update(ctx, r, o, res).await,
        Kind::ScalingPolicy => scaling_policy::update(ctx, r, o, res).await,
        Kind::ElasticIp => elastic_ip::update(ctx, r, o, res).await,
        Kind::NatGateway => nat_gateway::update(ctx, r, o, res).await,
        Kind::VpcEndpoint => vpc_endpoint::update(ctx, r, o, res).await,
        Kind::LoadBalancer => load_balancer::update(ctx, r, o, res).await,
        Kind::TargetGroup => target_group::update(ctx, r, o, res).await,
        Kind::Listener => listener::update(ctx, r, o, res).await,
        Kind::ListenerRule => listener_rule::update(ctx, r, o, res).await,
        Kind::Subnet => subnet::update(ctx, r, o, res).await,
        Kind::InternetGateway => internet_gateway::update(ctx, r, o, res).await,
        Kind::RouteTable => route_table::update(ctx, r, o, res).await,
        Kind::SecurityGroup => security_group::update(ctx, r, o, res).await,
        Kind::EcrRepository => ecr_repository::update(ctx, r, o, res).await,
        Kind::Image => image::update(ctx, r, o, res).await,
        Kind::Cluster => cluster::update(ctx, r, o, res).await,
        Kind::IamRole => iam_role::update(ctx, r, o, res).await,
        Kind::LogGroup => log_group::update(ctx, r, o, res).await,
        Kind::TaskDefinition => task_definition::update(ctx, r, o, res).await,
        Kind::Service => service::update(ctx, r, o, res).await,
        Kind::DynamodbTable => dynamodb_table::update(ctx, r, o, res).await,
        Kind::DbSubnetGroup => db_subnet_group::update(ctx, r, o, res).await,
        Kind::DbInstance => db_instance::update(ctx, r, o, res).await,
        Kind::FileSystem => file_system::update(ctx, r, o, res).await,
        Kind::MountTarget => mount_target::update(ctx, r, o, res).await,
        Kind::AccessPoint => access_point::update(ctx, r, o, res).await,
        Kind::Secret => secret::update(ctx, r, o, res).await,
    }
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    /// Deleted, or gone already.
    Gone,
    /// Left in place on purpose.
    Kept(Kept),
}

/// A resource a delete left in place, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// Why, in a few words (the step's line: "kept NAME (NOTE)").
    pub note: String,
    /// What was kept and what the user can do (the summary's list of kept resources).
    pub message: String,
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<Deleted> {
    let deleted = match o.id.kind {
        Kind::Vpc => vpc::delete(ctx, o).await,
        Kind::Namespace => namespace::delete(ctx, o).await,
        Kind::ScalableTarget => scalable_target::delete(ctx, o).await,
        Kind::ScalingPolicy => scaling_policy::delete(ctx, o).await,
        Kind::ElasticIp => elastic_ip::delete(ctx, o).await,
        Kind::NatGateway => nat_gateway::delete(ctx, o).await,
        Kind::VpcEndpoint => vpc_endpoint::delete(ctx, o).await,
        Kind::LoadBalancer => load_balancer::delete(ctx, o).await,
        Kind::TargetGroup => target_group::delete(ctx, o).await,
        Kind::Listener => listener::delete(ctx, o).await,
        Kind::ListenerRule => listener_rule::delete(ctx, o).await,
        Kind::Subnet => subnet::delete(ctx, o).await,
        Kind::InternetGateway => internet_gateway::delete(ctx, o).await,
        Kind::RouteTable => route_table::delete(ctx, o).await,
        Kind::SecurityGroup => security_group::delete(ctx, o).await,
        Kind::EcrRepository => return ecr_repository::delete(ctx, o).await,
        Kind::Image => image::delete(ctx, o).await,
        Kind::Cluster => cluster::delete(ctx, o).await,
        Kind::IamRole => iam_role::delete(ctx, o).await,
        Kind::LogGroup => log_group::delete(ctx, o).await,
        Kind::TaskDefinition => task_definition::delete(ctx, o).await,
        Kind::Service => service::delete(ctx, o).await,
        Kind::DynamodbTable => dynamodb_table::delete(ctx, o).await,
        Kind::DbSubnetGroup => db_subnet_group::delete(ctx, o).await,
        Kind::DbInstance => db_instance::delete(ctx, o).await,
        Kind::FileSystem => file_system::delete(ctx, o).await,
        Kind::MountTarget => mount_target::delete(ctx, o).await,
        Kind::AccessPoint => access_point::delete(ctx, o).await,
        Kind::Secret => secret::delete(ctx, o).await,
    };
    deleted.map(|()| Deleted::Gone)
}
