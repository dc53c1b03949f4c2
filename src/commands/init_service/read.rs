//! The AWS side of `init --from-service`: read the live service and everything it uses, with
//! read-only calls (`Describe*`) only. What is read is handed, as the SDK's own shapes, to the
//! pure conversion in `convert.rs`.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_ec2::types::Filter;

use super::Live;
use crate::aws::{answer, Clients};
use crate::error::UsageError;

/// Read `service` of `cluster`: the service, its task definition, its target groups with
/// their load balancers, listeners and rules, its security groups and subnets (with the
/// route tables that say which are public), and its autoscaling.
pub async fn read(aws: &Clients, cluster: &str, service: &str) -> Result<Live> {
    let described = answer(
        aws.ecs
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send(),
    )
    .await
    .with_context(|| {
        format!("reading service {service} of cluster {cluster} (DescribeServices)")
    })?;
    let svc = described
        .services()
        .iter()
        .find(|s| s.status() != Some("INACTIVE"))
        .cloned()
        .ok_or_else(|| {
            let reason = described
                .failures()
                .first()
                .and_then(|f| f.reason())
                .unwrap_or("INACTIVE");
            UsageError(format!(
                "no active service `{service}` in cluster `{cluster}` ({reason}); give \
                 CLUSTER/SERVICE as `aws ecs list-services --cluster {cluster}` names it, in \
                 the region of --region or AWS_REGION"
            ))
        })?;
    let td_arn = svc
        .task_definition()
        .context("the service names no task definition")?
        .to_string();
    let td = answer(
        aws.ecs
            .describe_task_definition()
            .task_definition(&td_arn)
            .send(),
    )
    .await
    .with_context(|| format!("reading task definition {td_arn} (DescribeTaskDefinition)"))?
    .task_definition
    .context("DescribeTaskDefinition answered without a task definition")?;

    let tg_arns: Vec<String> = svc
        .load_balancers()
        .iter()
        .filter_map(|l| l.target_group_arn().map(str::to_string))
        .collect();
    let balancing = read_load_balancing(aws, &tg_arns).await?;

    let vpc_conf = svc
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let mut subnet_ids: Vec<String> = vpc_conf.map(|v| v.subnets().to_vec()).unwrap_or_default();
    let mut sg_ids: Vec<String> = vpc_conf
        .map(|v| v.security_groups().to_vec())
        .unwrap_or_default();
    for lb in &balancing.load_balancers {
        subnet_ids.extend(
            lb.availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id().map(str::to_string)),
        );
        sg_ids.extend(lb.security_groups().iter().cloned());
    }
    subnet_ids.sort();
    subnet_ids.dedup();
    sg_ids.sort();
    sg_ids.dedup();
    // The subnets (then their VPC's route tables) and the security groups, concurrently.
    let network = async {
        let subnets = if subnet_ids.is_empty() {
            Vec::new()
        } else {
            answer(
                aws.ec2
                    .describe_subnets()
                    .set_subnet_ids(Some(subnet_ids))
                    .send(),
            )
            .await
            .context("reading the service's subnets (DescribeSubnets)")?
            .subnets
            .unwrap_or_default()
        };
        let vpc = subnets.first().and_then(|s| s.vpc_id()).map(str::to_string);
        let route_tables = match &vpc {
            Some(vpc) => answer(
                aws.ec2
                    .describe_route_tables()
                    .filters(Filter::builder().name("vpc-id").values(vpc).build())
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect(),
            )
            .await
            .context("reading the VPC's route tables (DescribeRouteTables)")?,
            None => Vec::new(),
        };
        anyhow::Ok((subnets, route_tables))
    };
    let groups = async {
        if sg_ids.is_empty() {
            return anyhow::Ok(Vec::new());
        }
        Ok(answer(
            aws.ec2
                .describe_security_groups()
                .set_group_ids(Some(sg_ids))
                .send(),
        )
        .await
        .context("reading the security groups (DescribeSecurityGroups)")?
        .security_groups
        .unwrap_or_default())
    };
    let (network, security_groups) = tokio::join!(network, groups);
    let (subnets, route_tables) = network?;
    let security_groups = security_groups?;

    let resource_id = format!(
        "service/{}/{}",
        cluster_name(svc.cluster_arn().unwrap_or(cluster)),
        svc.service_name().unwrap_or(service)
    );
    let scalable_target = answer(
        aws.autoscaling
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_ids(&resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send(),
    )
    .await
    .context("reading the service's autoscaling (DescribeScalableTargets)")?
    .scalable_targets
    .unwrap_or_default()
    .into_iter()
    .next();
    // Policies and scheduled actions are independent reads: at once.
    let (scaling_policies, scheduled_actions) = if scalable_target.is_some() {
        let policies = answer(
            aws.autoscaling
                .describe_scaling_policies()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(&resource_id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        );
        let scheduled = answer(
            aws.autoscaling
                .describe_scheduled_actions()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(&resource_id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        );
        let (p, a) = tokio::join!(policies, scheduled);
        (
            p.context("reading the service's scaling policies (DescribeScalingPolicies)")?,
            a.context("reading the service's scheduled scaling (DescribeScheduledActions)")?,
        )
    } else {
        (Vec::new(), Vec::new())
    };

    Ok(Live {
        region: aws.region.clone(),
        cluster: cluster_name(svc.cluster_arn().unwrap_or(cluster)).to_string(),
        service: svc,
        task_definition: td,
        target_groups: balancing.target_groups,
        target_group_attributes: balancing.target_group_attributes,
        load_balancers: balancing.load_balancers,
        load_balancer_attributes: balancing.load_balancer_attributes,
        listeners: balancing.listeners,
        listener_certificates: balancing.listener_certificates,
        rules: balancing.rules,
        subnets,
        route_tables,
        security_groups,
        scalable_target,
        scaling_policies,
        scheduled_actions,
    })
}

/// The load balancing of the service, as read.
#[derive(Default)]
struct LoadBalancing {
    target_groups: Vec<aws_sdk_elasticloadbalancingv2::types::TargetGroup>,
    target_group_attributes: BTreeMap<String, BTreeMap<String, String>>,
    load_balancers: Vec<aws_sdk_elasticloadbalancingv2::types::LoadBalancer>,
    load_balancer_attributes: BTreeMap<String, BTreeMap<String, String>>,
    listeners: Vec<aws_sdk_elasticloadbalancingv2::types::Listener>,
    listener_certificates:
        BTreeMap<String, Vec<aws_sdk_elasticloadbalancingv2::types::Certificate>>,
    rules: BTreeMap<String, Vec<aws_sdk_elasticloadbalancingv2::types::Rule>>,
}

/// `key = value` pairs of an ELB attribute list (target group and load balancer
/// attributes are two types of the same shape).
fn pairs<'a>(
    attributes: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    attributes
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_string(), v?.to_string())))
        .collect()
}

/// The target groups, their attributes, the load balancers that forward to them (with
/// their attributes), and those load balancers' listeners (with every certificate) and
/// rules.
async fn read_load_balancing(aws: &Clients, tg_arns: &[String]) -> Result<LoadBalancing> {
    let mut out = LoadBalancing::default();
    if tg_arns.is_empty() {
        return Ok(out);
    }
    out.target_groups = answer(
        aws.elb
            .describe_target_groups()
            .set_target_group_arns(Some(tg_arns.to_vec()))
            .send(),
    )
    .await
    .context("reading the service's target groups (DescribeTargetGroups)")?
    .target_groups
    .unwrap_or_default();
    let mut lb_arns = Vec::new();
    for tg in &out.target_groups {
        let arn = tg.target_group_arn().unwrap_or_default().to_string();
        let attributes = answer(
            aws.elb
                .describe_target_group_attributes()
                .target_group_arn(&arn)
                .send(),
        )
        .await
        .with_context(|| format!("reading target group {arn} (DescribeTargetGroupAttributes)"))?;
        out.target_group_attributes.insert(
            arn,
            pairs(attributes.attributes().iter().map(|a| (a.key(), a.value()))),
        );
        lb_arns.extend(tg.load_balancer_arns().iter().cloned());
    }
    lb_arns.sort();
    lb_arns.dedup();
    if lb_arns.is_empty() {
        return Ok(out);
    }
    out.load_balancers = answer(
        aws.elb
            .describe_load_balancers()
            .set_load_balancer_arns(Some(lb_arns.clone()))
            .send(),
    )
    .await
    .context("reading the load balancers (DescribeLoadBalancers)")?
    .load_balancers
    .unwrap_or_default();
    for lb in &lb_arns {
        let attributes = answer(
            aws.elb
                .describe_load_balancer_attributes()
                .load_balancer_arn(lb)
                .send(),
        )
        .await
        .with_context(|| format!("reading load balancer {lb} (DescribeLoadBalancerAttributes)"))?;
        out.load_balancer_attributes.insert(
            lb.clone(),
            pairs(attributes.attributes().iter().map(|a| (a.key(), a.value()))),
        );
        let listeners: Vec<aws_sdk_elasticloadbalancingv2::types::Listener> = answer(
            aws.elb
                .describe_listeners()
                .load_balancer_arn(lb)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .await
        .with_context(|| format!("reading the listeners of {lb} (DescribeListeners)"))?;
        for l in &listeners {
            let arn = l.listener_arn().unwrap_or_default().to_string();
            // Both lists come in pages (Marker) on AWS: a listener may hold 100 rules.
            let rules = aws.elb.describe_rules().listener_arn(&arn).into_paginator();
            let rules = answer(rules.items().send().try_collect())
                .await
                .with_context(|| format!("reading the rules of listener {arn} (DescribeRules)"))?;
            out.rules.insert(arn.clone(), rules);
            if !l.certificates().is_empty() {
                // DescribeListeners names the default certificate only; the SNI ones are
                // here.
                let call = aws.elb.describe_listener_certificates().listener_arn(&arn);
                let certificates = answer(call.into_paginator().items().send().try_collect())
                    .await
                    .with_context(|| {
                        format!(
                            "reading the certificates of listener {arn} \
                             (DescribeListenerCertificates)"
                        )
                    })?;
                out.listener_certificates.insert(arn, certificates);
            }
        }
        out.listeners.extend(listeners);
    }
    Ok(out)
}

/// `prod` from `arn:aws:ecs:...:cluster/prod` (or `prod` itself).
pub fn cluster_name(arn_or_name: &str) -> &str {
    arn_or_name.rsplit('/').next().unwrap_or(arn_or_name)
}
