//! The AWS client bundle, error classification (`errors`, `gone`), and the retry, wait and
//! client-token machinery the steps share. Steps use these; nothing else here.

mod errors;
mod fanout;
mod gone;
mod interrupt;
mod propagation;
mod retry;
mod token;
mod unreachable;
mod wait;

pub use errors::*;
pub use fanout::*;
pub use gone::*;
pub use interrupt::*;
pub use propagation::*;
pub use retry::*;
pub use token::*;
pub use unreachable::{Say, Unreachable};
pub use wait::*;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};

/// Where and as whom to call AWS. `None` fields fall back to the standard AWS chain
/// (environment, profiles, SSO, instance metadata), including `AWS_ENDPOINT_URL`.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Where the notice goes that AWS could not be reached while the SDK retries.
    pub say: Say,
}

/// One client per service, sharing one configuration.
#[derive(Clone)]
pub struct Clients {
    pub region: String,
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// Cloud Map (Service Connect namespaces).
    pub cloudmap: aws_sdk_servicediscovery::Client,
    /// Application Auto Scaling.
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub rds: aws_sdk_rds::Client,
    pub efs: aws_sdk_efs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    /// ACM, Cognito and Service Quotas: read by preflight only.
    pub acm: aws_sdk_acm::Client,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub quotas: aws_sdk_servicequotas::Client,
    /// EventBridge Scheduler (scheduled jobs).
    pub scheduler: aws_sdk_scheduler::Client,
}

impl Clients {
    /// Build clients. Throttling and 5xx are retried by the SDK (adaptive mode: client-side
    /// rate limiting once AWS starts throttling); named eventual-consistency errors are
    /// retried by the steps that expect them.
    pub async fn new(target: &Target) -> anyhow::Result<Clients> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::adaptive().with_max_attempts(8));
        if let Some(r) = &target.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(p) = &target.profile {
            loader = loader.profile_name(p);
        }
        if let Some(u) = &target.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let conf = loader.load().await;
        // A usage error (exit 2): nothing was called, and the user has to say where.
        let region = conf.region().map(|r| r.to_string()).ok_or_else(|| {
            crate::error::UsageError(
                "no AWS region: set `region` in the config, pass --region, or set AWS_REGION"
                    .into(),
            )
        })?;
        // Every client says through one interceptor when it cannot reach AWS.
        let unreachable = Unreachable::new(target.say.clone());
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&conf)
                        .interceptor(unreachable.clone())
                        .build(),
                )
            };
        }
        Ok(Clients {
            region,
            ec2: client!(aws_sdk_ec2),
            ecs: client!(aws_sdk_ecs),
            ecr: client!(aws_sdk_ecr),
            iam: client!(aws_sdk_iam),
            logs: client!(aws_sdk_cloudwatchlogs),
            elb: client!(aws_sdk_elasticloadbalancingv2),
            cloudmap: client!(aws_sdk_servicediscovery),
            autoscaling: client!(aws_sdk_applicationautoscaling),
            dynamodb: client!(aws_sdk_dynamodb),
            rds: client!(aws_sdk_rds),
            efs: client!(aws_sdk_efs),
            secrets: client!(aws_sdk_secretsmanager),
            acm: client!(aws_sdk_acm),
            cognito: client!(aws_sdk_cognitoidentityprovider),
            quotas: client!(aws_sdk_servicequotas),
            scheduler: client!(aws_sdk_scheduler),
        })
    }
}
