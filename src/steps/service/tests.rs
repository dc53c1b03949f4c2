//! Tests of the service step: fields read back, request pieces, and the rollout judge.

use super::*;
use crate::desired::{DeploymentSpec, StrategySpec};
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
fn completed_with_early_success_is_stable_before_every_task_runs() {
    let completed = || {
        vec![deployment(
            "d2",
            "PRIMARY",
            DeploymentRolloutState::Completed,
        )]
    };
    // Without early success criteria, COMPLETED with tasks missing is still settling.
    let plain = service(completed(), 3, 4);
    assert!(matches!(judge(&plain, "d2"), Judgement::InProgress(_)));
    let mut d = spec(None).deployment;
    d.early_success_percent = Some(75);
    let mut early = service(completed(), 3, 4);
    early.deployment_configuration = Some(deployment::request(&d, None));
    assert_eq!(judge(&early, "d2"), Judgement::Stable);
    // With DEFERRED cleanup (set outside ecsdeploy) old tasks may still serve: not done,
    // and the setting differs from the config's.
    let deferred = aws_sdk_ecs::types::DeploymentEarlySuccessCriteria::builder()
        .enable(true)
        .healthy_percent(75)
        .source_service_revision_cleanup(aws_sdk_ecs::types::ServiceRevisionCleanup::Deferred)
        .build();
    let mut sent = deployment::request(&d, None);
    sent.early_success_criteria = Some(deferred);
    assert_ne!(deployment::observed(&sent), d.fields());
    early.deployment_configuration = Some(sent);
    assert!(matches!(judge(&early, "d2"), Judgement::InProgress(_)));
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
    back.task_definition = Some("arn:aws:ecs:ap-northeast-1:1:task-definition/web:7".to_string());
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

#[test]
fn a_deployment_in_progress_is_unsettled_until_stable() {
    let mut d = deployment("d2", "PRIMARY", DeploymentRolloutState::InProgress);
    d.created_at = Some(aws_smithy_types::DateTime::from_secs(1_700_000_000));
    let s = service(vec![d], 0, 1);
    let u = unsettled(&s).expect("in progress");
    assert_eq!(u.deployment, "d2");
    assert!(!u.failed);
    assert_eq!(u.since.as_deref(), Some("2023-11-14T22:13:20Z"));
    assert!(u.reason.contains("0/1 running"), "{}", u.reason);

    let done = service(
        vec![deployment(
            "d2",
            "PRIMARY",
            DeploymentRolloutState::Completed,
        )],
        1,
        1,
    );
    assert_eq!(unsettled(&done), None);
    // Completed, but the old deployment's tasks still run: not yet.
    let draining = service(
        vec![
            deployment("d2", "PRIMARY", DeploymentRolloutState::Completed),
            deployment("d1", "ACTIVE", DeploymentRolloutState::Completed),
        ],
        2,
        1,
    );
    assert!(unsettled(&draining).is_some_and(|u| !u.failed));
    // Completed and alone, one task short (one stopped and is being replaced, or the
    // autoscaler just raised the count): settled; a wait after a mutation still needs it.
    let churn = service(
        vec![deployment(
            "d2",
            "PRIMARY",
            DeploymentRolloutState::Completed,
        )],
        1,
        2,
    );
    assert_eq!(unsettled(&churn), None);
    assert!(matches!(judge(&churn, "d2"), Judgement::InProgress(_)));
}

#[test]
fn a_failed_deployment_stays_a_failure_even_once_rolled_back() {
    // The circuit breaker stopped it with nothing to roll back to (0 running).
    let failed = service(
        vec![deployment("d2", "PRIMARY", DeploymentRolloutState::Failed)],
        0,
        1,
    );
    let u = unsettled(&failed).expect("failed");
    assert!(u.failed);
    assert_eq!(
        (u.deployment.as_str(), u.reason.as_str()),
        ("d2", "reason text")
    );

    // Rolled back: the rollback deployment is PRIMARY and in progress, or already done;
    // the failed one is still listed, and it is what is reported.
    for rollout in [
        DeploymentRolloutState::InProgress,
        DeploymentRolloutState::Completed,
    ] {
        let mut back = deployment("d3", "PRIMARY", rollout);
        back.task_definition =
            Some("arn:aws:ecs:ap-northeast-1:1:task-definition/web:7".to_string());
        let mut failed = deployment("d2", "ACTIVE", DeploymentRolloutState::Failed);
        failed.task_definition =
            Some("arn:aws:ecs:ap-northeast-1:1:task-definition/web:8".to_string());
        let s = service(vec![back, failed], 1, 1);
        let u = unsettled(&s).expect("failed");
        assert!(u.failed);
        assert_eq!(u.deployment, "d2");
        assert_eq!(u.reason, "reason text; rolled back to web:7");
        assert_eq!(
            u.attempted["task_definition"],
            "arn:aws:ecs:ap-northeast-1:1:task-definition/web:8"
        );
    }
}

#[test]
fn a_newer_deployment_supersedes_a_failed_one_but_a_rollback_does_not() {
    let at = |mut d: Deployment, secs: i64| {
        d.created_at = Some(aws_smithy_types::DateTime::from_secs(secs));
        d
    };
    let failed = at(
        deployment("d2", "ACTIVE", DeploymentRolloutState::Failed),
        200,
    );
    // A new deployment started after the failure (a fixed image): in progress.
    let fixed = service(
        vec![
            at(
                deployment("d3", "PRIMARY", DeploymentRolloutState::InProgress),
                300,
            ),
            failed.clone(),
        ],
        0,
        1,
    );
    let u = unsettled(&fixed).expect("in progress");
    assert_eq!((u.deployment.as_str(), u.failed), ("d3", false));
    // The circuit breaker took up the last completed deployment again: still the failure.
    let rolled_back = service(
        vec![
            at(
                deployment("d1", "PRIMARY", DeploymentRolloutState::InProgress),
                100,
            ),
            failed,
        ],
        1,
        1,
    );
    let u = unsettled(&rolled_back).expect("failed");
    assert_eq!((u.deployment.as_str(), u.failed), ("d2", true));
}

#[test]
fn a_deployment_without_rollout_state_is_settled_once_every_task_runs() {
    let d = Deployment::builder().id("d1").status("PRIMARY").build();
    assert_eq!(unsettled(&service(vec![d.clone()], 1, 1)), None);
    assert!(unsettled(&service(vec![d], 0, 1)).is_some());
}

fn event(id: &str, secs: i64, msg: &str) -> aws_sdk_ecs::types::ServiceEvent {
    aws_sdk_ecs::types::ServiceEvent::builder()
        .id(id)
        .created_at(aws_smithy_types::DateTime::from_secs(secs))
        .message(msg)
        .build()
}

#[test]
fn a_wait_shows_only_events_newer_than_its_deployment() {
    // ECS lists events newest first.
    let old = vec![
        event("e2", 100, "(service web) has reached a steady state."),
        event("e1", 90, "(service web) has started 1 tasks."),
    ];
    let mut since = Since::deployment(Some("1970-01-01T00:02:00Z")); // 120 s
    assert_eq!(since.fresh(&old), Vec::<String>::new());

    let mut now = vec![
        event("e4", 130, "(service web) registered 1 targets."),
        event("e3", 120, "(service web) has started 2 tasks."),
    ];
    now.extend(old.clone());
    assert_eq!(
        since.fresh(&now),
        vec![
            "(service web) has started 2 tasks.",
            "(service web) registered 1 targets."
        ]
    );
    // Each once.
    assert_eq!(since.fresh(&now), Vec::<String>::new());

    // Without a start, every event not yet shown is new.
    assert_eq!(Since::deployment(None).fresh(&old).len(), 2);
}

#[test]
fn a_wait_after_a_mutation_skips_the_events_its_answer_listed() {
    // UpdateService without a new deployment (a desired count): the PRIMARY deployment is
    // old, but the events the answer listed are not news.
    let mut primary = deployment("d1", "PRIMARY", DeploymentRolloutState::Completed);
    primary.created_at = Some(aws_smithy_types::DateTime::from_secs(50));
    let answer = Service::builder()
        .deployments(primary)
        .events(event(
            "e2",
            100,
            "(service web) has reached a steady state.",
        ))
        .build();
    let mut since = Since::mutation(&answer, "d1");
    let later = vec![
        event("e3", 140, "(service web) has started 1 tasks."),
        event("e2", 100, "(service web) has reached a steady state."),
    ];
    assert_eq!(
        since.fresh(&later),
        vec!["(service web) has started 1 tasks."]
    );
}

#[test]
fn a_timeout_states_the_time_actually_waited() {
    let e = conclude(
        WaitOutcome::TimedOut("0/1 running".into(), Duration::from_millis(3_400)),
        "d1",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("timed out after 3s waiting for deployment d1 (0/1 running)"),
        "{e}"
    );
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
        deployment: DeploymentSpec {
            minimum_healthy_percent: 50,
            maximum_percent: 200,
            rollback: true,
            threshold: None,
            reset_on_healthy_task: None,
            early_success_percent: None,
            alarms: vec![],
            strategy: StrategySpec::Rolling,
        },
        service_connect,
        capacity: vec![],
        keep_revisions: 10,
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
            .deployment_configuration(deployment::request(&s.deployment, None))
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
    s.deployment.rollback = false;
    s.deployment.minimum_healthy_percent = 0;
    s.deployment.maximum_percent = 150;
    let sent = deployment::request(&s.deployment, None);
    assert!(sent.alarms().is_none() && sent.early_success_criteria().is_none());
    assert_eq!(deployment::observed(&sent), s.deployment.fields());
    assert_eq!(
        deployment::observed(&sent),
        json!({
            "minimum_healthy_percent": 0,
            "maximum_percent": 150,
            "circuit_breaker": {
                "enable": true,
                "rollback": false,
                "failure_threshold": "50%",
                "reset_on_healthy_task": true,
            },
            "early_success_percent": null,
            "alarms": null,
            "strategy": "ROLLING",
        })
    );
    // Every setting goes out and reads back as the spec says.
    s.deployment.threshold = Some(crate::desired::Threshold {
        kind: crate::desired::ThresholdKind::Count,
        value: 4,
    });
    s.deployment.reset_on_healthy_task = Some(false);
    s.deployment.early_success_percent = Some(80);
    s.deployment.alarms = vec!["p99-latency".into(), "5xx".into()];
    s.deployment.rollback = true;
    let sent = deployment::request(&s.deployment, None);
    assert_eq!(deployment::observed(&sent), s.deployment.fields());
    let cb = sent.deployment_circuit_breaker().unwrap();
    assert_eq!(cb.threshold_configuration().unwrap().value(), 4);
    assert_eq!(
        sent.early_success_criteria()
            .unwrap()
            .source_service_revision_cleanup()
            .map(|c| c.as_str()),
        Some("BLOCKING")
    );
    // Settings the config dropped go back to AWS's defaults explicitly, not left out.
    let live = deployment::observed(&sent);
    let plain = DeploymentSpec {
        threshold: None,
        reset_on_healthy_task: None,
        early_success_percent: None,
        alarms: vec![],
        ..s.deployment.clone()
    };
    let back = deployment::request(&plain, Some(&live));
    let alarms = back.alarms().unwrap();
    assert!(!alarms.enable() && alarms.alarm_names().is_empty());
    assert!(!back.early_success_criteria().unwrap().enable());
    let cb = back.deployment_circuit_breaker().unwrap();
    assert_eq!(cb.reset_on_healthy_task(), Some(true));
    assert_eq!(cb.threshold_configuration().unwrap().value(), 50);
    assert_eq!(deployment::observed(&back), plain.fields());
    // With nothing to undo, nothing extra is sent.
    let quiet = deployment::request(&plain, Some(&plain.fields()));
    assert!(quiet.alarms().is_none() && quiet.early_success_criteria().is_none());
}

#[test]
fn strategies_round_trip_and_rolling_is_sent_only_to_leave_another() {
    let mut s = spec(None);
    for st in [
        StrategySpec::BlueGreen { bake: 2 },
        StrategySpec::Canary {
            bake: 3,
            tenths: 105,
            step_bake: 4,
        },
        StrategySpec::Linear {
            bake: 0,
            tenths: 250,
            step_bake: 1,
        },
    ] {
        s.deployment.strategy = st;
        let sent = deployment::request(&s.deployment, None);
        assert_eq!(sent.strategy().map(|x| x.as_str()), Some(st.as_aws()));
        assert_eq!(deployment::observed(&sent), s.deployment.fields(), "{st:?}");
    }
    let canary = StrategySpec::Canary {
        bake: 3,
        tenths: 105,
        step_bake: 4,
    };
    s.deployment.strategy = canary;
    let sent = deployment::request(&s.deployment, None);
    let c = sent.canary_configuration().unwrap();
    assert_eq!(c.canary_percent(), Some(10.5));
    assert_eq!(c.canary_bake_time_in_minutes(), Some(4));
    assert_eq!(sent.bake_time_in_minutes(), Some(3));
    // Back to rolling: said explicitly, since leaving it out may leave the strategy as is.
    let live = deployment::observed(&sent);
    s.deployment.strategy = StrategySpec::Rolling;
    let back = deployment::request(&s.deployment, Some(&live));
    assert_eq!(back.strategy().map(|x| x.as_str()), Some("ROLLING"));
    assert_eq!(deployment::observed(&back), s.deployment.fields());
    // A service that never left rolling gets no strategy at all.
    let quiet = deployment::request(&s.deployment, Some(&s.deployment.fields()));
    assert!(quiet.strategy().is_none());
}
