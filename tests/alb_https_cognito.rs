//! Reference system 4 (`alb-https-cognito`) end to end: built into an existing network
//! (VPC, subnets and security groups imported by Name tag), an HTTPS listener with an ACM
//! certificate and the default TLS 1.3 policy, Cognito sign-in before the forward, and a
//! private service created only after the listener. Imported resources are never touched.

mod common;

use std::path::PathBuf;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use common::realism::Realism;
use common::{example, run_async, sdk_config, unique_account, Proxy};

const REGION: &str = "ap-northeast-1";

struct Network {
    vpc: String,
    public: Vec<String>,
    private: Vec<String>,
    alb_sg: String,
    ecs_sg: String,
}

fn named(rt: ResourceType, name: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(rt)
        .tags(Tag::builder().key("Name").value(name).build())
        .build()
}

/// The "existing" network of the original system, made in the emulator the way a platform
/// team would have made it: nothing carries ecsdeploy's tags.
async fn existing_network(ec2: &aws_sdk_ec2::Client) -> Network {
    let vpc = ec2
        .create_vpc()
        .cidr_block("172.31.0.0/16")
        .tag_specifications(named(ResourceType::Vpc, "bsc-vpc"))
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let subnet = |name: &'static str, cidr: &'static str, az: &'static str| {
        let ec2 = ec2.clone();
        let vpc = vpc.clone();
        async move {
            let s = ec2
                .create_subnet()
                .vpc_id(vpc)
                .cidr_block(cidr)
                .availability_zone(az)
                .tag_specifications(named(ResourceType::Subnet, name))
                .send()
                .await
                .unwrap();
            s.subnet().unwrap().subnet_id().unwrap().to_string()
        }
    };
    let public = vec![
        subnet("bsc-public-a", "172.31.1.0/24", "ap-northeast-1a").await,
        subnet("bsc-public-c", "172.31.2.0/24", "ap-northeast-1c").await,
    ];
    let private = vec![
        subnet("bsc-private-a", "172.31.3.0/24", "ap-northeast-1a").await,
        subnet("bsc-private-c", "172.31.4.0/24", "ap-northeast-1c").await,
    ];
    let sg = |name: &'static str| {
        let ec2 = ec2.clone();
        let vpc = vpc.clone();
        async move {
            let g = ec2
                .create_security_group()
                .group_name(name)
                .description(name)
                .vpc_id(vpc)
                .tag_specifications(named(ResourceType::SecurityGroup, name))
                .send()
                .await
                .unwrap();
            g.group_id().unwrap().to_string()
        }
    };
    // A platform team's VPC for an internet-facing load balancer has its gateway attached
    // (AWS refuses the load balancer otherwise).
    let igw = ec2.create_internet_gateway().send().await.unwrap();
    let igw = igw
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap();
    ec2.attach_internet_gateway()
        .internet_gateway_id(igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let alb_sg = sg("bsc-alb-sg").await;
    let ecs_sg = sg("bsc-ecs-sg").await;
    // The tasks' group admits 80 from the load balancer's, as the config says the platform
    // team's does: without it no health check reaches a task (Elastic Load Balancing,
    // "Security groups for your Application Load Balancer") and, through the realism layer
    // as on AWS, the deployment fails.
    ec2.authorize_security_group_ingress()
        .group_id(&ecs_sg)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .user_id_group_pairs(
                    aws_sdk_ec2::types::UserIdGroupPair::builder()
                        .group_id(&alb_sg)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    Network {
        vpc: vpc.clone(),
        public,
        private,
        alb_sg,
        ecs_sg,
    }
}

/// What the example expects to exist besides the network: an ISSUED certificate (imported:
/// a requested one stays PENDING_VALIDATION until its DNS record is seen, and preflight
/// refuses it), the execution role `ecsTaskExecutionRole` trusting ECS tasks, and a Cognito
/// user pool with an app client. Made through the venv's boto3.
struct Existing {
    certificate: String,
    user_pool_arn: String,
    client_id: String,
}

fn existing(proxy: &Proxy) -> Existing {
    let certificate = common::boto::issued_certificate(proxy, REGION, "bsc.example.com");
    let made = common::boto::run(
        proxy,
        REGION,
        "trust = '{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"sts:AssumeRole\", \
         \"Principal\": {\"Service\": \"ecs-tasks.amazonaws.com\"}}]}'\n\
         boto3.client('iam', **kw).create_role(RoleName='ecsTaskExecutionRole', \
           AssumeRolePolicyDocument=trust)\n\
         idp = boto3.client('cognito-idp', **kw)\n\
         pool = idp.create_user_pool(PoolName='bsc')['UserPool']\n\
         print(pool['Arn'])\n\
         print(idp.create_user_pool_client(UserPoolId=pool['Id'], ClientName='bsc-alb', \
           GenerateSecret=True)['UserPoolClient']['ClientId'])",
    );
    let mut lines = made.lines().map(str::to_string);
    Existing {
        certificate,
        user_pool_arn: lines.next().unwrap(),
        client_id: lines.next().unwrap(),
    }
}

/// The example with the test's certificate and user pool in place of the placeholders.
fn config(made: &Existing) -> (tempfile::TempDir, PathBuf) {
    let text = std::fs::read_to_string(example("alb-https-cognito")).unwrap();
    let placeholder = |prefix: &str| {
        text.lines()
            .find_map(|l| l.split('"').find(|p| p.starts_with(prefix)))
            .unwrap_or_else(|| panic!("example has a {prefix}"))
            .to_string()
    };
    let (cert, pool) = (
        placeholder("arn:aws:acm:"),
        placeholder("arn:aws:cognito-idp:"),
    );
    let text = text
        .replace(&cert, &made.certificate)
        .replace(&pool, &made.user_pool_arn)
        .replace("\"example-client-id\"", &format!("\"{}\"", made.client_id));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

async fn sg_rules(ec2: &aws_sdk_ec2::Client, id: &str) -> String {
    let g = ec2
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
        .unwrap();
    format!("{:?}", g.security_groups()[0].ip_permissions())
}

#[tokio::test]
async fn https_cognito_alb_into_an_imported_network() {
    // The existing network and certificate are made (and AWS state read) through a plain
    // proxy; ecsdeploy runs through the AWS-realism layer, in the same account.
    let account = unique_account();
    let setup = Proxy::start(&account).await;
    let proxy = Proxy::start_realistic(&account, Realism::aws()).await;
    let conf = sdk_config(&setup, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let net = existing_network(&ec2).await;
    let rules_before = (
        sg_rules(&ec2, &net.alb_sg).await,
        sg_rules(&ec2, &net.ecs_sg).await,
    );
    let made = existing(&setup);
    let cert = made.certificate.clone();
    let (_dir, cfg) = config(&made);
    let cfg = cfg.to_str().unwrap();

    run_async(&proxy, REGION, &["-c", cfg, "up"])
        .await
        .assert_success();
    let acted = proxy.realism_acted();
    for want in [
        "CreateCluster: InvalidParameterException",
        "DescribeServices: timeline",
    ] {
        assert!(
            acted.iter().any(|a| a == want),
            "never `{want}`: {acted:#?}"
        );
    }
    let ops = proxy.operations();
    for never in [
        "CreateVpc",
        "CreateSubnet",
        "CreateSecurityGroup",
        "AuthorizeSecurityGroupIngress",
        "CreateRouteTable",
        "CreateInternetGateway",
    ] {
        assert!(
            !ops.iter().any(|o| o == never),
            "{never} on an imported network: {ops:?}"
        );
    }
    let listener_at = proxy.position("CreateListener").expect("CreateListener");
    assert!(listener_at < proxy.position("CreateService").expect("CreateService"));

    let lbs = elb
        .describe_load_balancers()
        .names("bedrock-alb")
        .send()
        .await
        .unwrap();
    let lb = &lbs.load_balancers()[0];
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    assert_eq!(lb.vpc_id(), Some(net.vpc.as_str()));
    assert_eq!(lb.security_groups(), std::slice::from_ref(&net.alb_sg));
    let mut lb_subnets: Vec<String> = lb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_string))
        .collect();
    lb_subnets.sort();
    let mut public = net.public.clone();
    public.sort();
    assert_eq!(lb_subnets, public);

    let tgs = elb
        .describe_target_groups()
        .names("bedrock-target-group")
        .send()
        .await
        .unwrap();
    let tg = &tgs.target_groups()[0];
    assert_eq!(
        (
            tg.port(),
            tg.healthy_threshold_count(),
            tg.unhealthy_threshold_count(),
            tg.health_check_timeout_seconds(),
            tg.health_check_interval_seconds()
        ),
        (Some(80), Some(2), Some(2), Some(20), Some(30))
    );

    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let l = &listeners.listeners()[0];
    assert_eq!(
        (l.port(), l.protocol().map(|p| p.as_str())),
        (Some(443), Some("HTTPS"))
    );
    assert_eq!(l.ssl_policy(), Some("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    assert_eq!(l.certificates()[0].certificate_arn(), Some(cert.as_str()));
    let mut actions = l.default_actions().to_vec();
    actions.sort_by_key(|a| a.order());
    assert_eq!(actions.len(), 2);
    assert_eq!(
        actions[0].r#type().map(|t| t.as_str()),
        Some("authenticate-cognito")
    );
    let cognito = actions[0].authenticate_cognito_config().unwrap();
    assert_eq!(cognito.user_pool_domain(), Some("bsc-auth"));
    assert_eq!(
        cognito.on_unauthenticated_request().map(|o| o.as_str()),
        Some("authenticate")
    );
    assert_eq!(actions[1].r#type().map(|t| t.as_str()), Some("forward"));
    assert_eq!(actions[1].target_group_arn(), tg.target_group_arn());

    let svc = ecs
        .describe_services()
        .cluster("ecs-cls")
        .services("EcsService")
        .send()
        .await
        .unwrap();
    let s = &svc.services()[0];
    assert_eq!(s.status(), Some("ACTIVE"));
    assert_eq!(
        s.deployments()[0].rollout_state().map(|r| r.as_str()),
        Some("COMPLETED")
    );
    let vpc_conf = s
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap();
    let mut sn = vpc_conf.subnets().to_vec();
    sn.sort();
    let mut private = net.private.clone();
    private.sort();
    assert_eq!(sn, private);
    assert_eq!(
        vpc_conf.security_groups(),
        std::slice::from_ref(&net.ecs_sg)
    );
    assert_eq!(
        vpc_conf.assign_public_ip().map(|a| a.as_str()),
        Some("DISABLED")
    );

    proxy.clear();
    run_async(&proxy, REGION, &["-c", cfg, "up"])
        .await
        .assert_success();
    assert_eq!(proxy.writes(), vec![], "second up must make no write call");

    run_async(&proxy, REGION, &["-c", cfg, "down", "--yes"])
        .await
        .assert_success();
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    assert!(lbs.load_balancers().is_empty());
    let tgs = elb.describe_target_groups().send().await.unwrap();
    assert!(tgs.target_groups().is_empty());
    // The imported network is exactly as it was.
    let vpcs = ec2.describe_vpcs().vpc_ids(&net.vpc).send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    let subnets = ec2
        .describe_subnets()
        .set_subnet_ids(Some(
            net.public.iter().chain(&net.private).cloned().collect(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets().len(), 4);
    let rules_after = (
        sg_rules(&ec2, &net.alb_sg).await,
        sg_rules(&ec2, &net.ecs_sg).await,
    );
    assert_eq!(
        rules_before, rules_after,
        "imported security groups untouched"
    );
}

#[tokio::test]
async fn an_imported_subnet_outside_the_imported_vpc_is_refused_before_any_write() {
    let proxy = Proxy::start(&unique_account()).await;
    let conf = sdk_config(&proxy, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    existing_network(&ec2).await;
    // A second VPC holding a subnet with one of the names the config imports.
    let other = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap();
    let other = other.vpc().unwrap().vpc_id().unwrap().to_string();
    ec2.create_subnet()
        .vpc_id(&other)
        .cidr_block("10.9.1.0/24")
        .availability_zone("ap-northeast-1a")
        .tag_specifications(named(ResourceType::Subnet, "stray-subnet"))
        .send()
        .await
        .unwrap();
    let made = existing(&proxy);
    let (_dir, cfg) = config(&made);
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replacen("bsc-private-c", "stray-subnet", 1)).unwrap();

    proxy.clear();
    let out = run_async(&proxy, REGION, &["-c", cfg.to_str().unwrap(), "up"]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("stray-subnet"), "{}", out.stderr);
    assert!(
        out.stderr.contains("not in the imported VPC"),
        "{}",
        out.stderr
    );
    assert_eq!(proxy.writes(), vec![], "nothing is created");
}
