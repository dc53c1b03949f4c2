//! How long one step takes on real AWS, typically: from its first call to the state
//! ecsdeploy waits for before dependents may start (a load balancer `active`, a NAT
//! gateway `available`, a service's deployment COMPLETED). Pure data; the estimator
//! ([`super::estimate`]) adds these up along the plan's dependency graph.
//!
//! Each number says where it comes from. They are typical values, not bounds: the
//! upper bounds AWS tools use are far longer (terraform-provider-aws waits up to 10 min
//! for a load balancer or a NAT gateway, 40 min for a DB instance).

use std::time::Duration;

use crate::desired::Kind;

use super::Action;

const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A call that answers with the finished resource, and its follow-up calls (tags,
/// attributes, rules): a second or two on AWS (20–200 ms a call).
const QUICK: Duration = s(1);

/// The typical duration of `action` on a resource of `kind`.
pub fn typical(kind: Kind, action: &Action) -> Duration {
    match action {
        Action::Create | Action::Replace(_) => create(kind),
        Action::Update(_) => update(kind),
        Action::Delete => delete(kind),
        // A deployment already under way: at most a whole one is left.
        Action::Wait(_) => create(kind),
        // Reported at once; nothing is sent.
        Action::Failed(_) | Action::NoOp => Duration::ZERO,
    }
}

fn create(kind: Kind) -> Duration {
    match kind {
        // The ELB user guide: a new load balancer is `provisioning` until "fully set up
        // and ready to route traffic" (`active`); about 2–3 min in practice, which is what
        // issue 17 takes as typical (150 s). ecsdeploy waits for `active` before the
        // listeners and services (RegisterTargets fails before it: docs/performance.md,
        // "What the prediction assumes").
        Kind::LoadBalancer => s(150),
        // VPC user guide: a NAT gateway is `pending` before `available`; typically 1–2
        // min (issue 17: 90 s). terraform-provider-aws: create timeout 10 min.
        Kind::NatGateway => s(90),
        // RDS user guide: a new DB instance is `creating` (no endpoint) for "several
        // minutes"; 10 min is typical for a small Multi-AZ-less instance (issue 17: 600 s).
        // terraform-provider-aws: create timeout 40 min.
        Kind::DbInstance => s(600),
        // The first deployment of a new service: Fargate provisions the tasks, pulls the
        // image, starts them and (behind a load balancer) waits for the first passing
        // health checks; about a minute (issue 17: 60 s).
        Kind::Service => s(60),
        // A one-off Fargate task: provisioning and the image pull take 30–60 s before
        // the command runs (a migration: seconds to minutes); one minute assumed.
        Kind::Release => s(60),
        // Interface endpoints are `pending` about a minute before `available` (one ENI
        // per subnet); terraform-provider-aws: create timeout 10 min.
        Kind::VpcEndpoint => s(60),
        // EFS user guide: a mount target is `creating` (an ENI in its subnet) before
        // `available`; about 90 s in practice. terraform-provider-aws: create timeout 30 min.
        Kind::MountTarget => s(90),
        // EFS: a file system is `available` seconds after CreateFileSystem.
        Kind::FileSystem => s(10),
        // Cloud Map: CreateHttpNamespace is an asynchronous operation (GetOperation)
        // that finishes in well under a minute.
        Kind::Namespace => s(20),
        // DynamoDB developer guide: a new on-demand table is `CREATING` for seconds to
        // tens of seconds before `ACTIVE`; seeding adds a batch write or two.
        Kind::DynamodbTable => s(20),
        // Built locally: `docker build` and `docker push` of a small image. Depends
        // entirely on the image and the network; one minute assumed.
        Kind::Image => s(60),
        // IAM: CreateRole answers at once, but the role reaches ECS and STS only after
        // IAM's eventual consistency (IAM user guide: "usually" within seconds).
        Kind::IamRole => s(5),
        // CreateVpc, then the DNS attributes: `available` within seconds.
        Kind::Vpc | Kind::InternetGateway | Kind::RouteTable | Kind::SecurityGroup => s(3),
        // CreateCluster answers ACTIVE at once, but the cluster is usable a little later:
        // the first one in an account also creates the ECS service-linked role, and ECS
        // refuses the calls until that role has propagated (terraform-provider-aws
        // retryClusterCreate; IAM: seconds, 5 s as for a role), and a new cluster is not
        // found by CreateService for a moment (terraform retryServiceCreate:
        // ClusterNotFoundException; 5 s). A first deploy is the case this predicts.
        Kind::Cluster => s(13),
        // CreateSchedule answers with the schedule; Scheduler checks the role then, and a
        // role made a moment ago is retried until IAM has propagated it (about 10 s).
        Kind::Schedule => s(10),
        // The rest answer with the finished resource (subnets, Elastic IPs, target
        // groups, listeners and rules, repositories, role policies, log groups, task
        // definitions, scaling, DB subnet groups, access points, secrets, the schedule
        // group): a quick call. A new kind is one too until it says otherwise here, so
        // adding a kind needs no line in this file.
        _ => QUICK,
    }
}

fn update(kind: Kind) -> Duration {
    match kind {
        // A rolling deployment: new tasks start and pass health checks (about a minute),
        // then the old ones are deregistered and drained (the target group's
        // deregistration delay, 30 s by default in ecsdeploy) and stopped.
        Kind::Service => s(120),
        // The release task of a new revision, as on create.
        Kind::Release => s(60),
        // RDS: a modification applied immediately (instance class, storage) keeps the
        // instance `modifying` for several minutes.
        Kind::DbInstance => s(300),
        // Subnets, security groups and attributes change in place, without
        // reprovisioning.
        Kind::LoadBalancer => s(5),
        Kind::DynamodbTable => s(10),
        // A new revision: one RegisterTaskDefinition.
        Kind::TaskDefinition => QUICK,
        _ => s(2),
    }
}

fn delete(kind: Kind) -> Duration {
    match kind {
        // The service drains: tasks are deregistered (deregistration delay) and stopped,
        // then it is INACTIVE.
        Kind::Service => s(60),
        // DeleteDBInstance (with a final snapshot unless told not to) takes minutes.
        Kind::DbInstance => s(300),
        // `deleting` before `deleted`, about a minute; its ENI a little longer.
        Kind::NatGateway | Kind::MountTarget => s(60),
        Kind::LoadBalancer | Kind::VpcEndpoint | Kind::Namespace => s(30),
        // Subnets and security groups wait for task ENIs to be released.
        Kind::Subnet | Kind::SecurityGroup => s(10),
        _ => s(2),
    }
}

/// What a resource's settings add to its kind's typical update: a blue/green, canary or
/// linear deployment holds its traffic steps and bakes
/// ([`crate::desired::StrategySpec::held_minutes`]).
pub fn settings_extra(spec: &crate::desired::Spec) -> Duration {
    match spec {
        crate::desired::Spec::Service(s) => {
            Duration::from_secs(u64::from(s.deployment.strategy.held_minutes()) * 60)
        }
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slow_steps_of_issue_17_and_nothing_free_but_what_sends_nothing() {
        assert_eq!(typical(Kind::LoadBalancer, &Action::Create), s(150));
        assert_eq!(typical(Kind::NatGateway, &Action::Create), s(90));
        assert_eq!(typical(Kind::DbInstance, &Action::Create), s(600));
        assert_eq!(typical(Kind::Service, &Action::Create), s(60));
        for kind in Kind::ALL {
            for action in [Action::Create, Action::Update(vec![]), Action::Delete] {
                assert!(typical(kind, &action) >= QUICK, "{kind} {}", action.verb());
            }
            assert_eq!(typical(kind, &Action::NoOp), Duration::ZERO);
        }
    }
}
