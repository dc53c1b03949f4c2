//! Tests of the service step: fields read back, request pieces, and the rollout judge.

use super::*;
use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState};

fn deployment(id: &str, status: &str, rollout: DeploymentRolloutState) -> Deployment {
    Deployment::builder()
        .id(id)
        .status(status)
        .rollout_state(rollout)
        .rollout_state_reason("reason text")
        .build()
}

fn service(deps: Vec<Deployment>, running: i32, desired: i32) -> Service {
    Service::builder()
        .set_deployments(Some(deps))
        .running_count(running)
        .desired_count(desired)
        .build()
}

#[test]
fn completed_primary_with_all_running_is_stable() {
    let s = service(
        vec![deployment(
            "d2",
            "PRIMARY",
            DeploymentRolloutState::Completed,
        )],
        2,
        2,
    );
    assert_eq!(judge(&s, "d2"), Judgement::Stable);
}

#[test]
fn circuit_breaker_failure_is_failure_with_reason() {
    let s = service(
        vec![
            deployment("d2", "PRIMARY", DeploymentRolloutState::Failed),
            deployment("d1", "ACTIVE", DeploymentRolloutState::Completed),
        ],
        1,
        1,
    );
    assert_eq!(judge(&s, "d2"), Judgement::Failed("reason text".into()));
}

#[test]
fn failure_names_the_revision_rolled_back_to() {
    let mut back = deployment("d3", "PRIMARY", DeploymentRolloutState::InProgress);
    back.task_definition =
        Some("arn:aws:ecs:ap-northeast-1:1:task-definition/web:7".to_string());
    let s = service(
        vec![
            back,
            deployment("d2", "ACTIVE", DeploymentRolloutState::Failed),
        ],
        1,
        1,
    );
    assert_eq!(
        judge(&s, "d2"),
        Judgement::Failed("reason text; rolled back to web:7".into())
    );
}

#[test]
fn an_older_completed_deployment_does_not_count() {
    let s = service(
        vec![
            deployment("d2", "PRIMARY", DeploymentRolloutState::InProgress),
            deployment("d1", "ACTIVE", DeploymentRolloutState::Completed),
        ],
        1,
        1,
    );
    assert!(matches!(judge(&s, "d2"), Judgement::InProgress(_)));
}

#[test]
fn completed_but_old_tasks_still_running_is_in_progress() {
    let s = service(
        vec![
            deployment("d2", "PRIMARY", DeploymentRolloutState::Completed),
            deployment("d1", "ACTIVE", DeploymentRolloutState::Completed),
        ],
        2,
        1,
    );
    assert!(matches!(judge(&s, "d2"), Judgement::InProgress(_)));
}

#[test]
fn superseded_deployment_is_failure() {
    let s = service(
        vec![deployment(
            "d3",
            "PRIMARY",
            DeploymentRolloutState::InProgress,
        )],
        0,
        1,
    );
    assert!(matches!(judge(&s, "d2"), Judgement::Failed(m) if m.contains("no longer listed")));
}

fn spec(service_connect: Option<ServiceConnectSpec>) -> ServiceSpec {
    use crate::desired::Val;
    ServiceSpec {
        cluster: Val::lit("shop-cluster"),
        task_definition: Val::lit("arn:aws:ecs:ap-northeast-1:1:task-definition/web:3"),
        desired_count: 2,
        subnets: vec![Val::lit("subnet-b"), Val::lit("subnet-a")],
        security_groups: vec![Val::lit("sg-1")],
        assign_public_ip: false,
        load_balancers: vec![],
        health_check_grace_period: None,
        desired_count_managed: false,
        enable_execute_command: true,
        minimum_healthy_percent: 50,
        maximum_percent: 200,
        rollback: true,
        service_connect,
        after: vec![],
    }
}

fn connect() -> ServiceConnectSpec {
    use crate::desired::{ConnectServiceSpec, Val};
    ServiceConnectSpec {
        namespace: Val::lit("arn:aws:servicediscovery:ap-northeast-1:1:namespace/ns-abc"),
        services: vec![ConnectServiceSpec {
            port_name: "backend".into(),
            discovery_name: "backend-container".into(),
            dns_name: "backend-container".into(),
            client_port: 5000,
        }],
        log_group: "/ecs/shop".into(),
        log_region: "ap-northeast-1".into(),
        log_stream_prefix: "backend-traffic".into(),
    }
}

/// A service as AWS describes it after being created from `s`.
fn described(s: &ServiceSpec, res: &dyn Resolve, with_settings: bool) -> Service {
    let mut primary = Deployment::builder()
        .id("d1")
        .status("PRIMARY")
        .rollout_state(DeploymentRolloutState::Completed);
    if with_settings {
        if let Some(c) = &s.service_connect {
            primary = primary.service_connect_configuration(service_connect(c, res).unwrap());
        }
    }
    let mut b = Service::builder()
        .cluster_arn("arn:aws:ecs:ap-northeast-1:1:cluster/shop-cluster")
        .launch_type(LaunchType::Fargate)
        .task_definition("arn:aws:ecs:ap-northeast-1:1:task-definition/web:3")
        .desired_count(2)
        .network_configuration(network(s, res).unwrap())
        .deployments(primary.build());
    if with_settings {
        b = b
            .deployment_configuration(deployment_config(s))
            .enable_execute_command(s.enable_execute_command);
    }
    b.build()
}

fn no_diff(live: &Fields, want: &Fields) {
    assert_eq!(crate::plan::diff_fields(live, want), vec![]);
}

#[test]
fn observed_settings_match_the_spec_they_were_created_from() {
    use crate::desired::NoRefs;
    for sc in [Some(connect()), None] {
        let s = spec(sc);
        let live = fields_of(&described(&s, &NoRefs, true));
        let want = Spec::Service(s.clone()).fields(&NoRefs);
        for k in ["deployment", "enable_execute_command", "service_connect"] {
            assert_eq!(live.get(k), want.get(k), "{k}");
        }
        no_diff(&live, &want);
    }
}

#[test]
fn an_answer_without_the_settings_reports_none_of_them() {
    use crate::desired::NoRefs;
    let s = spec(Some(connect()));
    let live = fields_of(&described(&s, &NoRefs, false));
    for k in ["deployment", "enable_execute_command", "service_connect"] {
        assert!(!live.contains_key(k), "{k}");
    }
    no_diff(&live, &Spec::Service(s).fields(&NoRefs));
}

#[test]
fn service_connect_missing_from_a_complete_answer_is_off() {
    use crate::desired::NoRefs;
    let with = spec(Some(connect()));
    let live = fields_of(&described(&spec(None), &NoRefs, true));
    assert_eq!(live["service_connect"], Value::Null);
    let d = crate::plan::diff_fields(&live, &Spec::Service(with).fields(&NoRefs));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].field, "service_connect");
}

#[test]
fn disabled_service_connect_is_off() {
    assert_eq!(service_connect_fields(&service_connect_off()), Value::Null);
}

#[test]
fn deployment_settings_follow_the_spec() {
    let mut s = spec(None);
    s.rollback = false;
    s.minimum_healthy_percent = 0;
    s.maximum_percent = 150;
    assert_eq!(
        deployment_fields(&deployment_config(&s)),
        json!({
            "minimum_healthy_percent": 0,
            "maximum_percent": 150,
            "circuit_breaker": {"enable": true, "rollback": false},
        })
    );
}
