//! Scheduled jobs in the desired state: per job a task definition (its own, or a copy of a
//! service's with the job's command and environment), the role EventBridge Scheduler
//! assumes to start it, a security group for a job with its own image, and the schedule;
//! and the app's schedule group once there is a job.

use super::env::Env;
use super::iam::role_path;
use super::ids::*;
use super::network::Net;
use super::resource::{Attr, Ref, Val};
use super::spec::*;
use super::stores;
use crate::config::{Config, Image, Job, SubnetKind};

/// The service principal EventBridge Scheduler assumes roles as.
pub const SCHEDULER_PRINCIPAL: &str = "scheduler.amazonaws.com";

/// Every job's resources; `out` already holds the services' (a job that names a service
/// copies that service's task definition).
pub fn build(c: &Config, env: &Env, net: &Net, out: &mut Vec<Resource>) {
    if c.jobs.is_empty() {
        return;
    }
    out.push(Resource {
        id: schedule_group_id(),
        name: c.schedule_group_name(),
        spec: Spec::ScheduleGroup(ScheduleGroupSpec),
    });
    for (key, j) in &c.jobs {
        job(c, env, net, key, j, out);
    }
}

fn job(c: &Config, env: &Env, net: &Net, key: &str, j: &Job, out: &mut Vec<Resource>) {
    let subnet_kind = j.subnet_kind(&c.services);
    let service = j.service.as_deref().filter(|s| c.services.contains_key(*s));
    let td = match service {
        Some(svc) => from_service(c, key, j, svc, out),
        None => own_task_def(c, env, key, j),
    };
    let security_groups = match service {
        Some(svc) => stores::service_groups(c, env, svc),
        None => {
            let id = job_sg_id(key);
            out.push(net.security_group(
                id.clone(),
                c.job_sg_name(key),
                format!("ecsdeploy {} job {key}", c.app),
                vec![],
            ));
            vec![Val::Ref(Ref::id(&id))]
        }
    };
    let role = scheduler_role(c, env, key, &td);
    let td_id = job_task_def_id(key);
    out.push(Resource {
        id: td_id.clone(),
        name: c.job_family(key),
        spec: Spec::TaskDefinition(td),
    });
    out.push(role);
    let assign_public_ip = j
        .assign_public_ip
        .or_else(|| {
            let s = &c.services[service?];
            s.assign_public_ip.filter(|_| j.subnets.is_none())
        })
        .unwrap_or(subnet_kind == SubnetKind::Public);
    out.push(Resource {
        id: schedule_id(key),
        name: key.to_string(),
        spec: Spec::Schedule(ScheduleSpec {
            group: Val::Ref(Ref::id(&schedule_group_id())),
            expression: j.schedule.trim().to_string(),
            timezone: j.timezone.clone(),
            cluster: Val::Ref(Ref::arn(&cluster_id())),
            task_definition: Val::Ref(Ref::arn(&td_id)),
            role: Val::Ref(Ref::arn(&scheduler_role_id(key))),
            subnets: net.subnets(subnet_kind),
            security_groups,
            assign_public_ip,
        }),
    });
}

/// The service's task definition with the job's size, command and environment; the main
/// container loses what only a long-running service needs (port mappings, health check).
fn from_service(c: &Config, key: &str, j: &Job, svc: &str, out: &[Resource]) -> TaskDefSpec {
    let service_td = out.iter().find_map(|r| match &r.spec {
        Spec::TaskDefinition(td) if r.id == task_def_id(svc) => Some(td.clone()),
        _ => None,
    });
    let mut td = service_td.expect("services are built before jobs");
    (td.cpu, td.memory) = j.task_size(&c.services);
    let main = c.container_name(svc);
    for ct in td.containers.iter_mut().filter(|ct| ct.name == main) {
        ct.ports.clear();
        ct.port_names.clear();
        ct.extra.app_protocols.clear();
        ct.health_check = None;
        if j.command.is_some() {
            ct.command = j.command.clone();
        }
        for (name, value) in &j.environment {
            ct.environment.retain(|(n, _)| n != name);
            ct.environment.push((name.clone(), Val::lit(value)));
        }
        ct.environment.sort_by(|a, b| a.0.cmp(&b.0));
        ct.log_stream_prefix = format!("job-{key}");
    }
    td
}

/// A job with its own image: one container, the shared execution role, no task role
/// (nothing to grant).
fn own_task_def(c: &Config, env: &Env, key: &str, j: &Job) -> TaskDefSpec {
    let image = match &j.image {
        Some(Image::Repository(r)) => Val::Suffixed(
            Ref::uri(&repository_id(r.repository_key())),
            format!(":{}", r.tag()),
        ),
        Some(Image::Reference(r)) => Val::lit(r),
        None => Val::lit(""),
    };
    let (cpu, memory) = j.task_size(&c.services);
    TaskDefSpec {
        cpu,
        memory,
        cpu_architecture: "X86_64".to_string(),
        execution_role: match &c.iam.execution_role {
            Some(arn) => Val::lit(arn),
            None => Val::Ref(Ref::arn(&execution_role_id())),
        },
        task_role: None,
        containers: vec![ContainerSpec {
            name: key.to_string(),
            image,
            essential: true,
            ports: vec![],
            port_names: Default::default(),
            health_check: None,
            stop_timeout: None,
            ulimits: Default::default(),
            depends_on: vec![],
            environment: j
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), Val::lit(v)))
                .collect(),
            secrets: vec![],
            mount_points: vec![],
            command: j.command.clone(),
            log_group: c.log_group_name(),
            log_region: env.region.clone(),
            log_stream_prefix: format!("job-{key}"),
            extra: ContainerExtra::default(),
        }],
        volumes: vec![],
        file_volumes: vec![],
        ephemeral_storage: None,
        fault_injection: false,
        pid_mode: None,
        after: vec![log_group_id()],
    }
}

/// The role Scheduler assumes: `ecs:RunTask` on the job's task-definition family only,
/// and `iam:PassRole` on exactly the roles its tasks run with.
fn scheduler_role(c: &Config, env: &Env, key: &str, td: &TaskDefSpec) -> Resource {
    let family = Val::Suffixed(
        Ref::attr(&cluster_id(), Attr::ArnPrefix),
        format!("task-definition/{}:*", c.job_family(key)),
    );
    let pass: Vec<Val> = std::iter::once(td.execution_role.clone())
        .chain(td.task_role.clone())
        .collect();
    Resource {
        id: scheduler_role_id(key),
        name: c.scheduler_role_name(key),
        spec: Spec::IamRole(RoleSpec {
            principal: SCHEDULER_PRINCIPAL.to_string(),
            path: role_path(&c.app, &env.region),
            region: env.region.clone(),
            managed_policies: vec![],
            // Scheduler assumes it for this account's schedules only.
            source_account: Some(Val::Ref(Ref::attr(&cluster_id(), Attr::Account))),
            inline_policy: vec![
                PolicyStatement {
                    effect: "Allow".to_string(),
                    actions: vec!["ecs:RunTask".to_string()],
                    resources: vec![family],
                },
                PolicyStatement {
                    effect: "Allow".to_string(),
                    actions: vec!["iam:PassRole".to_string()],
                    resources: pass,
                },
            ],
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::desired::{Outputs, ResourceId};
    use crate::plan::fixtures::desired;

    const CONFIG: &str = r#"
app = "shop"
region = "ap-northeast-1"
[network]
azs = ["ap-northeast-1a", "ap-northeast-1c"]
[services.web]
image = "shop/web:1"
cpu = 512
memory = 1024
ports = [8080]
command = ["serve"]
environment = { MODE = "web", LEVEL = "info" }
health_check = { command = "curl -f localhost:8080" }
subnets = "private"
[jobs.report]
service = "web"
schedule = "cron(0 3 * * ? *)"
timezone = "Asia/Tokyo"
command = ["report", "--daily"]
environment = { MODE = "report" }
[jobs.sweep]
image = "busybox:1.36"
schedule = "rate(1 hour)"
"#;

    fn resources() -> Vec<Resource> {
        desired(CONFIG)
    }

    fn find<'a>(rs: &'a [Resource], id: &str) -> &'a Resource {
        rs.iter()
            .find(|r| r.id.to_string() == id)
            .unwrap_or_else(|| panic!("no {id}"))
    }

    /// Every resource's outputs as a converged account would have them.
    fn known(rs: &[Resource]) -> BTreeMap<ResourceId, Outputs> {
        rs.iter()
            .map(|r| {
                let o = Outputs::with_id(format!("{}-id", r.id))
                    .arn(format!("arn:{}", r.id))
                    .with(Attr::ArnPrefix, "arn:aws:ecs:ap-northeast-1:123456789012:")
                    .with(Attr::Account, "123456789012");
                (r.id.clone(), o)
            })
            .collect()
    }

    #[test]
    fn a_job_gets_a_group_task_definition_role_and_schedule() {
        let rs = resources();
        for id in [
            "schedule_group.main",
            "task_definition.job.report",
            "iam_role.job.report.scheduler",
            "schedule.report",
            "task_definition.job.sweep",
            "security_group.job.sweep",
            "schedule.sweep",
        ] {
            find(&rs, id);
        }
        assert!(!rs
            .iter()
            .any(|r| r.id.to_string() == "security_group.job.report"));
        assert_eq!(find(&rs, "schedule_group.main").name, "shop");
        assert_eq!(
            find(&rs, "task_definition.job.report").name,
            "shop-job-report"
        );
    }

    #[test]
    fn a_job_of_a_service_runs_its_image_with_the_job_s_command_and_environment() {
        let rs = resources();
        let Spec::TaskDefinition(td) = &find(&rs, "task_definition.job.report").spec else {
            panic!("not a task definition")
        };
        let main = &td.containers[0];
        assert_eq!(main.name, "web");
        assert_eq!(main.image, Val::lit("shop/web:1"));
        assert_eq!(main.command, Some(vec!["report".into(), "--daily".into()]));
        assert!(main.ports.is_empty() && main.health_check.is_none());
        let env: Vec<(String, Val)> = vec![
            ("LEVEL".into(), Val::lit("info")),
            ("MODE".into(), Val::lit("report")),
        ];
        assert_eq!(main.environment, env);
        assert_eq!(main.log_stream_prefix, "job-report");
        assert_eq!((td.cpu, td.memory), (512, 1024));
        assert_eq!(td.task_role, Some(Val::Ref(Ref::arn(&task_role_id("web")))));
    }

    #[test]
    fn the_schedule_targets_the_cluster_with_the_job_s_task_definition_on_fargate() {
        let rs = resources();
        let r = find(&rs, "schedule.report");
        let f = r.spec.fields(&known(&rs));
        assert_eq!(f["expression"], "cron(0 3 * * ? *)");
        assert_eq!(f["timezone"], "Asia/Tokyo");
        assert_eq!(f["group"], "schedule_group.main-id");
        let t = &f["target"];
        assert_eq!(t["arn"], "arn:cluster.main");
        assert_eq!(t["task_definition_arn"], "arn:task_definition.job.report");
        assert_eq!(t["role_arn"], "arn:iam_role.job.report.scheduler");
        assert_eq!(t["launch_type"], "FARGATE");
        // The service's subnets (private) and security group, no public IP.
        assert_eq!(t["assign_public_ip"], "DISABLED");
        assert_eq!(
            t["subnets"],
            serde_json::json!(["subnet.private-a-id", "subnet.private-b-id"])
        );
        assert_eq!(
            t["security_groups"],
            serde_json::json!(["security_group.web-id"])
        );
    }

    #[test]
    fn the_scheduler_role_may_run_the_job_s_family_and_pass_its_roles_only() {
        let rs = resources();
        let Spec::IamRole(role) = &find(&rs, "iam_role.job.report.scheduler").spec else {
            panic!("not a role")
        };
        assert_eq!(role.principal, SCHEDULER_PRINCIPAL);
        assert_eq!(role.path, "/ecsdeploy/shop/ap-northeast-1/");
        let fields = find(&rs, "iam_role.job.report.scheduler")
            .spec
            .fields(&known(&rs));
        assert_eq!(
            fields["assume_role_policy"]["Statement"][0]["Condition"],
            serde_json::json!({ "StringEquals": { "aws:SourceAccount": "123456789012" } })
        );
        assert!(role.managed_policies.is_empty());
        let doc = policy_document(&role.inline_policy, &known(&rs));
        assert_eq!(
            doc["Statement"],
            serde_json::json!([
                {
                    "Effect": "Allow",
                    "Action": ["ecs:RunTask"],
                    "Resource": [
                        "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/shop-job-report:*"
                    ],
                },
                {
                    "Effect": "Allow",
                    "Action": ["iam:PassRole"],
                    "Resource": ["arn:iam_role.execution", "arn:iam_role.web-task"],
                },
            ])
        );
        // A job with its own image has no task role to pass.
        let Spec::IamRole(role) = &find(&rs, "iam_role.job.sweep.scheduler").spec else {
            panic!("not a role")
        };
        let doc = policy_document(&role.inline_policy, &known(&rs));
        assert_eq!(
            doc["Statement"][1]["Resource"],
            serde_json::json!(["arn:iam_role.execution"])
        );
    }

    #[test]
    fn the_endpoints_admit_a_job_with_its_own_group() {
        let text = CONFIG.replace(
            "[network]",
            "[network]\nendpoints = [\"ecr.api\", \"ecr.dkr\", \"logs\", \"s3\"]",
        );
        let rs = desired(&text);
        let Spec::SecurityGroup(sg) = &find(&rs, "security_group.endpoints").spec else {
            panic!("not a security group")
        };
        let from_job = Source::Group(Val::Ref(Ref::id(&job_sg_id("sweep"))));
        assert!(sg
            .ingress
            .iter()
            .any(|r| r.from_port == 443 && r.source == from_job));
    }
}
