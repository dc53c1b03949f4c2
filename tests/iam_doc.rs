//! docs/iam.md's policy lists exactly the AWS actions ecsdeploy calls.
//!
//! No AWS, no emulator (only the parliament check below needs the test venv's Python). The
//! test reads every `src/**/*.rs`, finds the AWS SDK operation calls (the fluent builders:
//! `ctx.aws.ec2.describe_vpcs()`, `client.put_item()` on a `aws_sdk_dynamodb::Client`, a
//! builder kept in a variable and sent later), turns each into its IAM action
//! (`ec2:DescribeVpcs`) and compares the set with the actions of the ```json policies in
//! docs/iam.md:
//!
//! - every action the code calls must be in the document (so a new call fails here until
//!   the deployer policy allows it), and
//! - every action in the document must be called by the code, or be in one of the short
//!   explicit lists below: actions AWS checks on behalf of a call the code makes
//!   ([`IMPLIED`]), actions tools ecsdeploy runs call with the deployer's credentials
//!   ([`EXTERNAL`]), and actions of code that is being written on other branches
//!   ([`PENDING`]).
//!
//! A second check runs the IAM policy linter parliament (pinned in `scripts/venv.sh`, run
//! with the Python of the test venv) on every policy of the document: it compares each
//! statement's resources and conditions with the action's resource types and condition keys
//! in its copy of the Service Authorization Reference. Every finding fails the test, except
//! those listed in [`PARLIAMENT_IGNORED`] with the reason.
//!
//! The scanner is a small tokenizer (comments and string literals removed) plus a walk over
//! method chains, written with std only. It knows the clients by their types, not by a list
//! of spellings: the fields of `struct Clients` (`ctx.aws.ec2`), anything declared with a
//! client type (`client: &aws_sdk_dynamodb::Client`, or `Client` imported from an SDK crate),
//! accessor functions returning one (`fn ec2(&self) -> &aws_sdk_ec2::Client`), and `let`
//! bindings of any of these. As a guard against a call it cannot attribute, every
//! `.send()` in src must end a chain that starts at a known client or builder; otherwise
//! the test fails and names the line.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// SDK crate → IAM service prefix.
const SERVICES: &[(&str, &str)] = &[
    ("aws_sdk_ec2", "ec2"),
    ("aws_sdk_ecs", "ecs"),
    ("aws_sdk_ecr", "ecr"),
    ("aws_sdk_iam", "iam"),
    ("aws_sdk_cloudwatchlogs", "logs"),
    ("aws_sdk_elasticloadbalancingv2", "elasticloadbalancing"),
    ("aws_sdk_servicediscovery", "servicediscovery"),
    ("aws_sdk_applicationautoscaling", "application-autoscaling"),
    ("aws_sdk_dynamodb", "dynamodb"),
    ("aws_sdk_rds", "rds"),
    ("aws_sdk_efs", "elasticfilesystem"),
    ("aws_sdk_secretsmanager", "secretsmanager"),
    ("aws_sdk_acm", "acm"),
    ("aws_sdk_cognitoidentityprovider", "cognito-idp"),
    ("aws_sdk_servicequotas", "servicequotas"),
    ("aws_sdk_scheduler", "scheduler"),
];

/// Words the SDK's snake_case loses the capitals of, per IAM prefix: `create_db_instance`
/// is `rds:CreateDBInstance`, `describe_ssl_policies` is
/// `elasticloadbalancing:DescribeSSLPolicies`.
const ACRONYMS: &[(&str, &str, &str)] = &[
    ("rds", "Db", "DB"),
    ("elasticloadbalancing", "Ssl", "SSL"),
    ("iam", "OpenId", "OpenID"),
    ("iam", "Saml", "SAML"),
    ("iam", "Mfa", "MFA"),
];

/// Client methods that are not operations.
const NOT_OPERATIONS: &[&str] = &["clone", "config", "as_ref", "to_owned"];

/// Actions AWS authorizes on behalf of a call the code makes, which the code never calls by
/// name: `(action, the call that needs it, why)`. Each is allowed in the document only while
/// the code makes that call.
const IMPLIED: &[(&str, &str, &str)] = &[
    // Tags passed in a create call are authorized as a separate tagging action.
    (
        "ec2:CreateTags",
        "ec2:CreateVpc",
        "tags in TagSpecifications of every EC2 create",
    ),
    (
        "ecs:TagResource",
        "ecs:CreateCluster",
        "tags in ECS create calls",
    ),
    (
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:CreateLoadBalancer",
        "tags in ELB create calls",
    ),
    ("iam:TagRole", "iam:CreateRole", "tags in CreateRole"),
    (
        "logs:TagResource",
        "logs:CreateLogGroup",
        "tags in CreateLogGroup",
    ),
    (
        "ecr:TagResource",
        "ecr:CreateRepository",
        "tags in CreateRepository",
    ),
    (
        "dynamodb:TagResource",
        "dynamodb:CreateTable",
        "tags in CreateTable",
    ),
    (
        "rds:AddTagsToResource",
        "rds:CreateDBInstance",
        "tags in CreateDBInstance / CreateDBSubnetGroup",
    ),
    (
        "elasticfilesystem:TagResource",
        "elasticfilesystem:CreateFileSystem",
        "tags in CreateFileSystem / CreateAccessPoint",
    ),
    (
        "secretsmanager:TagResource",
        "secretsmanager:CreateSecret",
        "tags in CreateSecret",
    ),
    (
        "servicediscovery:TagResource",
        "servicediscovery:CreateHttpNamespace",
        "tags in CreateHttpNamespace",
    ),
    (
        "application-autoscaling:TagResource",
        "application-autoscaling:RegisterScalableTarget",
        "tags in RegisterScalableTarget",
    ),
    (
        "ecs:TagResource",
        "ecs:RunTask",
        "tags in RunTask (one-off and release tasks)",
    ),
    // Handing the execution and task roles to ECS.
    (
        "iam:PassRole",
        "ecs:RegisterTaskDefinition",
        "executionRoleArn / taskRoleArn",
    ),
    // Handing a job's scheduler role to EventBridge Scheduler.
    ("iam:PassRole", "scheduler:CreateSchedule", "Target.RoleArn"),
    (
        "scheduler:TagResource",
        "scheduler:CreateScheduleGroup",
        "tags in CreateScheduleGroup",
    ),
    // Service-linked roles the services create on first use in an account.
    (
        "iam:CreateServiceLinkedRole",
        "ecs:CreateService",
        "AWSServiceRoleForECS, ELB, RDS, EFS, autoscaling",
    ),
    // Moving an instance made by an earlier version off RDS's managed master password
    // (ManageMasterUserPassword=false): RDS deletes its own secret as the caller, and so
    // does deleting an instance that still has one.
    (
        "secretsmanager:DeleteSecret",
        "rds:ModifyDBInstance",
        "ManageMasterUserPassword",
    ),
    (
        "secretsmanager:DeleteSecret",
        "rds:DeleteDBInstance",
        "an RDS-managed master password",
    ),
    // The final snapshot of `down --delete-data`.
    (
        "rds:CreateDBSnapshot",
        "rds:DeleteDBInstance",
        "FinalDBSnapshotIdentifier",
    ),
    // EFS makes the network interface of a mount target as the caller.
    (
        "ec2:CreateNetworkInterface",
        "elasticfilesystem:CreateMountTarget",
        "mount target ENI",
    ),
    (
        "ec2:DescribeNetworkInterfaces",
        "elasticfilesystem:CreateMountTarget",
        "mount target ENI",
    ),
    (
        "ec2:DeleteNetworkInterface",
        "elasticfilesystem:DeleteMountTarget",
        "mount target ENI",
    ),
    (
        "ec2:ModifyNetworkInterfaceAttribute",
        "elasticfilesystem:ModifyMountTargetSecurityGroups",
        "mount target ENI",
    ),
    // Target tracking policies create and delete CloudWatch alarms as the caller.
    (
        "cloudwatch:PutMetricAlarm",
        "application-autoscaling:PutScalingPolicy",
        "target tracking alarms",
    ),
    (
        "cloudwatch:DescribeAlarms",
        "application-autoscaling:PutScalingPolicy",
        "target tracking alarms",
    ),
    (
        "cloudwatch:DeleteAlarms",
        "application-autoscaling:DeleteScalingPolicy",
        "target tracking alarms",
    ),
];

/// Actions that programs ecsdeploy runs call with the deployer's credentials, where the
/// scanner cannot see them: `docker push` to ECR (after ecsdeploy's `docker login`).
const EXTERNAL: &[(&str, &str)] = &[
    ("ecr:BatchCheckLayerAvailability", "docker push"),
    ("ecr:InitiateLayerUpload", "docker push"),
    ("ecr:UploadLayerPart", "docker push"),
    ("ecr:CompleteLayerUpload", "docker push"),
    ("ecr:PutImage", "docker push"),
    ("ecr:BatchGetImage", "docker push (manifest check)"),
];

/// Actions of commands written on other branches right now (image build on main, `logs`,
/// `exec`). The document lists them already; once the code that calls them is merged, the
/// scanner sees them and the entry here is redundant (the test says so): delete it.
const PENDING: &[(&str, &str)] = &[];

/// Calls the scanner must find, so that it cannot pass by finding nothing.
const KNOWN: &[&str] = &[
    "ec2:CreateVpc",
    "ec2:DescribeVpcs",
    "ec2:AuthorizeSecurityGroupIngress",
    "ecs:CreateService",
    "ecs:RegisterTaskDefinition",
    "iam:CreateRole",
    "elasticloadbalancing:CreateLoadBalancer",
    "logs:CreateLogGroup",
    "ecr:CreateRepository",
    "servicediscovery:CreateHttpNamespace",
    "application-autoscaling:RegisterScalableTarget",
    "rds:CreateDBInstance",
    "elasticfilesystem:CreateFileSystem",
    "secretsmanager:CreateSecret",
    "dynamodb:CreateTable",
    // The run lock: a `client: &Client` parameter, `Client` imported from aws_sdk_dynamodb.
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
];

/// Findings of parliament on docs/iam.md that are wrong, or that name a deliberate choice,
/// each with the reason. An item is what parliament reports per action: the action
/// (`RESOURCE_STAR`), `<action> needs <ARN format>` (`RESOURCE_MISMATCH`), or the message
/// (other issues); `"*"` is every item of that issue on that statement. An entry (or item)
/// that no longer matches a finding fails the test: delete it.
const PARLIAMENT_IGNORED: &[Ignored] = &[
    Ignored {
        issue: "RESOURCE_MISMATCH",
        sid: "ElbTheAppsLoadBalancerListenersRulesTargetGroups",
        items: &[
            "elasticloadbalancing:AddListenerCertificates needs arn:*:elasticloadbalancing:*:*:listener/net/*/*/*",
            "elasticloadbalancing:CreateRule needs arn:*:elasticloadbalancing:*:*:listener/net/*/*/*",
            "elasticloadbalancing:DeleteListener needs arn:*:elasticloadbalancing:*:*:listener/net/*/*/*",
            "elasticloadbalancing:DeleteRule needs arn:*:elasticloadbalancing:*:*:listener-rule/net/*/*/*/*",
            "elasticloadbalancing:ModifyListener needs arn:*:elasticloadbalancing:*:*:listener/net/*/*/*",
            "elasticloadbalancing:ModifyRule needs arn:*:elasticloadbalancing:*:*:listener-rule/net/*/*/*/*",
            "elasticloadbalancing:RemoveListenerCertificates needs arn:*:elasticloadbalancing:*:*:listener/net/*/*/*",
            "elasticloadbalancing:SetRulePriorities needs arn:*:elasticloadbalancing:*:*:listener-rule/net/*/*/*/*",
        ],
        why: "The Service Authorization Reference (Elastic Load Balancing V2) gives these \
              actions two required resource types, listener/app and listener/net (rules: \
              listener-rule/app and listener-rule/net): the ARN of a listener of an \
              Application and of a Network Load Balancer. A call acts on one listener, which \
              has one of the two ARNs; parliament wants a pattern for both. ecsdeploy only \
              creates Application Load Balancers (LoadBalancerTypeEnum::Application), and the \
              statement has their listener/app and listener-rule/app patterns; a listener/net \
              pattern would only grant rights on a Network Load Balancer named <app>.",
    },
    Ignored {
        issue: "RESOURCE_STAR",
        sid: "Ec2ChangeOnlyTheAppsResourcesByTag",
        items: &["*"],
        why: "Scoped by the aws:ResourceTag condition, not by ARN: EC2 ARNs hold only ids, \
              and each of these actions authorizes several resource types (CreateNatGateway: \
              natgateway, subnet, elastic-ip), each of which must carry the app's tag. \
              Parliament's RESOURCE_STAR does not look at conditions.",
    },
    Ignored {
        issue: "RESOURCE_STAR",
        sid: "EcsCreateOnlyTaggedForTheAppByTag",
        items: &["*"],
        why: "Scoped by the aws:RequestTag condition: the new cluster, service and task \
              definition must carry the app's tag, which also covers clusters and services \
              the config names explicitly. Parliament's RESOURCE_STAR does not look at \
              conditions.",
    },
    Ignored {
        issue: "RESOURCE_STAR",
        sid: "EcsReadNoResourceLevelPermissions",
        items: &["ecs:ListTasks"],
        why: "The only resource type of ecs:ListTasks is container-instance, for a request \
              that filters by container instance; Fargate tasks have none, and ecsdeploy \
              lists them by cluster and service. Reads are wide on purpose (docs/iam.md).",
    },
    Ignored {
        issue: "RESOURCE_STAR",
        sid: "Ec2NetworkInterfacesOfEfsMountTargetsNoResourceLevelScoping",
        items: &["*"],
        why: "EFS makes and deletes the network interfaces of mount targets with the \
              caller's credentials. The interface has no id before it exists and not the \
              app's tag, and with [network.existing] the subnets and security groups are not \
              the app's: the only patterns would be network-interface/*, subnet/* and \
              security-group/*, which is \"*\".",
    },
    Ignored {
        issue: "UNKNOWN_ACTION",
        sid: "EcsRollBackOnlyDeploymentsInTheAppsCluster",
        items: &["Unknown action ecs:StopServiceDeployment"],
        why: "parliament 1.6.4's action list predates the action (2025). The action acts \
              on a service deployment, whose ARN the ECS API reference gives as \
              arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>; \
              the statement names those of the app's cluster only.",
    },
    Ignored {
        issue: "RESOURCE_STAR",
        sid: "AutoscalingScalableTargetsAndPoliciesNoNamesInTheirArns",
        items: &["*"],
        why: "A scalable target's ARN holds an id Application Auto Scaling assigns when it is \
              registered, so ecsdeploy cannot name it: scalable-target/* is \"*\". What the \
              targets scale is the app's ECS services, whose ecs:UpdateService is \
              conditioned on the app's tag.",
    },
];

struct Ignored {
    issue: &'static str,
    sid: &'static str,
    items: &'static [&'static str],
    why: &'static str,
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone)]
struct Tok {
    text: String,
    line: usize,
}

impl Tok {
    fn is(&self, s: &str) -> bool {
        self.text == s
    }
    fn is_ident(&self) -> bool {
        self.text
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_alphabetic())
    }
}

/// Identifiers (and numbers) as words, every other character as a token of its own;
/// comments, string, byte-string, raw-string and char literals dropped; lifetimes dropped.
fn tokenize(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips a quoted literal starting at the `"` at `i`; returns the index after it.
    let skip_string = |mut i: usize, line: &mut usize| -> usize {
        i += 1;
        while i < c.len() && c[i] != '"' {
            if c[i] == '\\' {
                i += 1;
            }
            if i < c.len() && c[i] == '\n' {
                *line += 1;
            }
            i += 1;
        }
        i + 1
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(i, &mut line);
        } else if let Some((start, hashes)) = raw_string_hashes(&c, i)
            .filter(|_| !c.get(i.wrapping_sub(1)).is_some_and(|p| is_word(*p)))
        {
            // r"..", r#".."#, br#".."#
            i = start + 1;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '\n' {
                    line += 1;
                }
                if c[i] == '"' && (0..hashes).all(|h| c.get(i + 1 + h) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if ch == 'b'
            && c.get(i + 1) == Some(&'"')
            && !c.get(i.wrapping_sub(1)).is_some_and(|p| is_word(*p))
        {
            i = skip_string(i + 1, &mut line);
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if c.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < c.len() && is_word(c[i]) {
                    i += 1;
                }
            }
        } else if ch == 'r'
            && c.get(i + 1) == Some(&'#')
            && c.get(i + 2).is_some_and(|n| is_word(*n))
            && !c.get(i.wrapping_sub(1)).is_some_and(|p| is_word(*p))
        {
            // A raw identifier, `r#type`: the identifier.
            i += 2;
        } else if is_word(ch) {
            let start = i;
            while i < c.len() && is_word(c[i]) {
                i += 1;
            }
            out.push(Tok {
                text: c[start..i].iter().collect(),
                line,
            });
        } else {
            out.push(Tok {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// At `r"`, `r#"`, `br"`, `br##"`...: the index of the opening `"` and the number of `#`.
fn raw_string_hashes(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((j, hashes))
}

/// Index of the bracket matching the closing one at `close`, scanning backwards.
fn open_of(t: &[Tok], close: usize) -> Option<usize> {
    let (o, cl) = match t[close].text.as_str() {
        ")" => ("(", ")"),
        "]" => ("[", "]"),
        ">" => ("<", ">"),
        _ => return None,
    };
    let mut depth = 0i32;
    let mut k = close;
    loop {
        if t[k].is(cl) {
            depth += 1;
        } else if t[k].is(o) {
            depth -= 1;
            if depth == 0 {
                return Some(k);
            }
        }
        if k == 0 {
            return None;
        }
        k -= 1;
    }
}

// ---------------------------------------------------------------------------------------
// Chains

/// One link of a method chain: `aws`, `describe_vpcs()`.
#[derive(Debug, Clone)]
struct Seg {
    name: String,
    call: bool,
    /// Index of the name's token.
    tok: usize,
}

/// The method chain that ends with the identifier at `end` (`ctx.aws.ec2.describe_vpcs`
/// for the `describe_vpcs` of `ctx.aws.ec2.describe_vpcs()`), across lines, `?`, `.await`
/// and argument lists. Also returns the index of the chain's first token.
fn chain_ending_at(t: &[Tok], end: usize) -> (Vec<Seg>, usize) {
    let mut segs = vec![Seg {
        name: t[end].text.clone(),
        call: t.get(end + 1).is_some_and(|n| n.is("(")),
        tok: end,
    }];
    let mut pos = end;
    while pos >= 2 && t[pos - 1].is(".") {
        let mut p = pos - 2;
        while p > 0 && t[p].is("?") {
            p -= 1;
        }
        if t[p].is(")") {
            let Some(open) = open_of(t, p) else { break };
            if open == 0 {
                break;
            }
            if let Some((seg, start)) = macro_call(t, open) {
                segs.push(seg);
                pos = start;
                break;
            }
            let mut name = open - 1;
            // `.collect::<Vec<_>>()`
            if t[name].is(">") {
                match open_of(t, name) {
                    Some(lt) if lt >= 3 && t[lt - 1].is(":") && t[lt - 2].is(":") => name = lt - 3,
                    _ => break,
                }
            }
            if !t[name].is_ident() {
                break;
            }
            segs.push(Seg {
                name: t[name].text.clone(),
                call: true,
                tok: name,
            });
            pos = name;
        } else if t[p].is_ident() {
            segs.push(Seg {
                name: t[p].text.clone(),
                call: false,
                tok: p,
            });
            pos = p;
        } else {
            break;
        }
    }
    segs.reverse();
    (segs, pos)
}

/// At the `(` of a macro call `name!(first, ..)`: the macro taken as its first argument,
/// the way the builder macros of the code use it (`with_target!(b, target).send()`), and
/// the index of the macro's name.
fn macro_call(t: &[Tok], open: usize) -> Option<(Seg, usize)> {
    if open < 2 || !t[open - 1].is("!") || !t[open - 2].is_ident() {
        return None;
    }
    let arg = t.get(open + 1).filter(|a| a.is_ident())?;
    let after = t.get(open + 2)?;
    if !(after.is(",") || after.is(")")) {
        return None;
    }
    Some((
        Seg {
            name: arg.text.clone(),
            call: false,
            tok: open + 1,
        },
        open - 2,
    ))
}

// ---------------------------------------------------------------------------------------
// What the code knows about clients

/// Where a chain is, link by link.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    /// The client bundle (`ctx.aws`).
    Clients,
    /// One service's client, by IAM prefix.
    Client(String),
    /// An operation's builder: its IAM action.
    Builder(String),
}

#[derive(Default)]
struct Known {
    /// Field of the client bundle → IAM prefix (`ec2` → `ec2`, `elb` →
    /// `elasticloadbalancing`).
    bundle_fields: HashMap<String, String>,
    /// Names that hold the bundle anywhere (`aws` in `ctx.aws`).
    bundle_names: BTreeSet<String>,
    /// Functions returning a client (`fn ec2(&self) -> &aws_sdk_ec2::Client`) or the bundle.
    accessors: HashMap<String, Val>,
}

/// Per file: names bound to clients or builders (parameters, fields, `let`s).
type Locals = HashMap<String, Val>;

fn crate_prefix(krate: &str) -> Option<&'static str> {
    SERVICES.iter().find(|(k, _)| *k == krate).map(|(_, p)| *p)
}

/// `use aws_sdk_x::Client;` / `use aws_sdk_x::{.., Client, ..};` → the IAM prefix of the
/// `Client` this file imports, if any.
fn imported_client(t: &[Tok]) -> Option<&'static str> {
    for i in 0..t.len() {
        if !t[i].is("use") {
            continue;
        }
        let Some(prefix) = t.get(i + 1).and_then(|k| crate_prefix(&k.text)) else {
            continue;
        };
        let mut j = i + 2;
        while j < t.len() && !t[j].is(";") {
            if t[j].is("Client") && !t.get(j + 1).is_some_and(|n| n.is(":")) {
                return Some(prefix);
            }
            j += 1;
        }
    }
    None
}

/// The type that starts at `i` (after `:` or `->`), as a client or the bundle:
/// `&'a aws_sdk_ec2::Client`, `aws_sdk_ec2::Client`, `Client` (imported), `&Clients`,
/// `crate::aws::Clients`.
fn type_at(t: &[Tok], mut i: usize, imported: Option<&str>) -> Option<Val> {
    while i < t.len() && (t[i].is("&") || t[i].is("mut")) {
        i += 1;
    }
    let mut path = Vec::new();
    while i < t.len() && t[i].is_ident() {
        path.push(t[i].text.as_str());
        if t.get(i + 1).is_some_and(|n| n.is(":")) && t.get(i + 2).is_some_and(|n| n.is(":")) {
            i += 3;
        } else {
            break;
        }
    }
    match path.as_slice() {
        [.., "Clients"] => Some(Val::Clients),
        [.., b] if b.ends_with("FluentBuilder") => Some(Val::Builder(format!("({b})"))),
        [.., krate, "Client"] => crate_prefix(krate).map(|p| Val::Client(p.into())),
        ["Client"] => imported.map(|p| Val::Client(p.into())),
        _ => None,
    }
}

/// Walks a chain's links and says what it holds at the end, if anything the scanner
/// knows; also every operation it calls on the way, with the operation's token index.
fn resolve(segs: &[Seg], known: &Known, locals: &Locals) -> (Option<Val>, Vec<(String, usize)>) {
    let mut ops = Vec::new();
    let mut cur: Option<Val> = None;
    for (k, s) in segs.iter().enumerate() {
        cur = match (&cur, s.call) {
            (Some(Val::Client(p)), true) if NOT_OPERATIONS.contains(&s.name.as_str()) => {
                Some(Val::Client(p.clone()))
            }
            (Some(Val::Client(p)), true) => {
                let action = iam_action(p, &s.name);
                ops.push((action.clone(), s.tok));
                Some(Val::Builder(action))
            }
            (Some(Val::Client(_)), false) => None,
            (Some(Val::Builder(a)), _) => Some(Val::Builder(a.clone())),
            (Some(Val::Clients), false) => known
                .bundle_fields
                .get(&s.name)
                .map(|p| Val::Client(p.clone())),
            (Some(Val::Clients), true) if NOT_OPERATIONS.contains(&s.name.as_str()) => {
                Some(Val::Clients)
            }
            // A closure bound with `let` (`let req = || ctx.aws.ec2.describe_vpcs();`) or an
            // accessor function.
            (_, true) => (if k == 0 {
                locals.get(&s.name).cloned()
            } else {
                None
            })
            .or_else(|| known.accessors.get(&s.name).cloned()),
            (_, false) => {
                // A local binding is only a chain's first link or a field of `self`.
                let local = if k == 0 || (k == 1 && segs[0].name == "self") {
                    locals.get(&s.name).cloned()
                } else {
                    None
                };
                local.or_else(|| known.bundle_names.contains(&s.name).then_some(Val::Clients))
            }
        };
    }
    (cur, ops)
}

fn iam_action(prefix: &str, op: &str) -> String {
    let mut pascal = String::new();
    for word in op.split('_').filter(|w| !w.is_empty()) {
        let mut w = word.chars();
        let first = w.next().unwrap().to_ascii_uppercase();
        let word = format!("{first}{}", w.as_str());
        let fixed = ACRONYMS
            .iter()
            .find(|(p, from, _)| *p == prefix && *from == word)
            .map_or(word.clone(), |(_, _, to)| to.to_string());
        pascal.push_str(&fixed);
    }
    // Two-word acronyms (`OpenId`).
    for (p, from, to) in ACRONYMS {
        if *p == prefix {
            pascal = pascal.replace(from, to);
        }
    }
    format!("{prefix}:{pascal}")
}

// ---------------------------------------------------------------------------------------
// The scan

struct Source {
    path: PathBuf,
    toks: Vec<Tok>,
    imported: Option<&'static str>,
}

#[derive(Default)]
struct Scan {
    /// Action → where it is called (`src/steps/vpc.rs:17`).
    actions: BTreeMap<String, BTreeSet<String>>,
    /// `.send()` calls the scanner could not attribute.
    unattributed: Vec<String>,
    /// The client bundle's fields → IAM prefix.
    bundle_fields: HashMap<String, String>,
    /// Names bound to two different clients in one file (the scanner keeps one binding per
    /// name and file, so it could attribute a call to the wrong service).
    ambiguous: Vec<String>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn scan(root: &Path) -> Scan {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(
        files.len() > 10,
        "found only {} files under src",
        files.len()
    );
    let sources = files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let toks = tokenize(&text);
            Source {
                path: path.strip_prefix(root).unwrap().to_path_buf(),
                imported: imported_client(&toks),
                toks,
            }
        })
        .collect();
    let found = scan_sources(sources);
    assert!(
        found.bundle_fields.len() >= SERVICES.len(),
        "struct Clients has only these client fields: {:?}",
        found.bundle_fields
    );
    found
}

/// Whether `t[i]` is the `:` of a declaration `name: Type` (not a `::` of a path).
fn is_declaration_colon(t: &[Tok], i: usize) -> bool {
    i > 0 && t[i].is(":") && t[i - 1].is_ident() && !t.get(i + 1).is_some_and(|n| n.is(":"))
}

fn scan_sources(sources: Vec<Source>) -> Scan {
    // The bundle (`struct Clients { pub ec2: aws_sdk_ec2::Client, .. }`), every name declared
    // with its type, and functions returning a client or the bundle.
    let mut known = Known::default();
    for s in &sources {
        let t = &s.toks;
        for i in 0..t.len() {
            if t[i].is("struct") && t.get(i + 1).is_some_and(|n| n.is("Clients")) {
                let mut j = i + 2;
                while j < t.len() && !t[j].is("}") {
                    if is_declaration_colon(t, j) {
                        if let Some(Val::Client(p)) = type_at(t, j + 1, s.imported) {
                            known.bundle_fields.insert(t[j - 1].text.clone(), p);
                        }
                    }
                    j += 1;
                }
            }
            if is_declaration_colon(t, i) && type_at(t, i + 1, s.imported) == Some(Val::Clients) {
                known.bundle_names.insert(t[i - 1].text.clone());
            }
            if t[i].is("fn") {
                // fn name<..>(..) -> Type
                let Some(open) = (i + 2..t.len()).find(|&k| t[k].is("(")) else {
                    continue;
                };
                let mut depth = 0;
                let mut k = open;
                while k < t.len() {
                    if t[k].is("(") {
                        depth += 1;
                    } else if t[k].is(")") {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    k += 1;
                }
                let arrow = t.get(k + 1).is_some_and(|n| n.is("-"))
                    && t.get(k + 2).is_some_and(|n| n.is(">"));
                if arrow {
                    if let Some(v) = type_at(t, k + 3, s.imported) {
                        known.accessors.insert(t[i + 1].text.clone(), v);
                    }
                }
            }
        }
    }

    let mut result = Scan {
        bundle_fields: known.bundle_fields.clone(),
        ..Scan::default()
    };
    for s in &sources {
        let t = &s.toks;
        // Names declared with a client type: parameters and struct fields.
        let mut locals = Locals::new();
        let mut bind = |locals: &mut Locals, name: &str, v: Val, line: usize| {
            match locals.get(name) {
                None => {
                    locals.insert(name.to_string(), v);
                }
                // Builders are only checked for being builders: any will do.
                Some(Val::Builder(_)) if matches!(v, Val::Builder(_)) => {}
                Some(old) if *old == v => {}
                Some(old) => result.ambiguous.push(format!(
                    "{}:{line}: `{name}` is {old:?} and {v:?} in the same file",
                    s.path.display()
                )),
            }
        };
        for i in 1..t.len() {
            if is_declaration_colon(t, i) {
                if let Some(v) = type_at(t, i + 1, s.imported) {
                    if !matches!(v, Val::Clients) {
                        bind(&mut locals, &t[i - 1].text, v, t[i].line);
                    }
                }
            }
        }
        // `let [mut] name [: T] = <chain>;` binds a client, the bundle or a builder; repeat
        // until nothing changes, so bindings of bindings resolve too.
        loop {
            let before = locals.len();
            for i in 0..t.len() {
                if let Some((name, v)) = let_binding(t, i, &known, &locals) {
                    if !matches!(v, Val::Clients) || !known.bundle_names.contains(&name) {
                        bind(&mut locals, &name, v, t[i].line);
                    }
                }
            }
            if locals.len() == before {
                break;
            }
        }

        for i in 2..t.len() {
            if !t[i].is_ident() || !t[i - 1].is(".") || !t.get(i + 1).is_some_and(|n| n.is("(")) {
                continue;
            }
            let (segs, _) = chain_ending_at(t, i);
            let (val, ops) = resolve(&segs, &known, &locals);
            for (op, tok) in ops {
                result.actions.entry(op).or_default().insert(format!(
                    "{}:{}",
                    s.path.display(),
                    t[tok].line
                ));
            }
            let sdk_send = t[i].is("send") && t.get(i + 2).is_some_and(|n| n.is(")"));
            if sdk_send && !matches!(val, Some(Val::Builder(_))) {
                let chain: Vec<_> = segs
                    .iter()
                    .map(|s| format!("{}{}", s.name, if s.call { "()" } else { "" }))
                    .collect();
                result.unattributed.push(format!(
                    "{}:{}: {}",
                    s.path.display(),
                    t[i].line,
                    chain.join(".")
                ));
            }
        }
    }
    result
}

/// At a `let`: the bound name and what it holds, when the whole right-hand side is one
/// chain the scanner resolves (`&ctx.aws.logs`, `client.clone()`,
/// `ctx.aws.ec2.describe_vpcs().filters(f)`).
fn let_binding(t: &[Tok], i: usize, known: &Known, locals: &Locals) -> Option<(String, Val)> {
    if !t[i].is("let") {
        return None;
    }
    let mut n = i + 1;
    if t.get(n)?.is("mut") {
        n += 1;
    }
    let name = t.get(n).filter(|x| x.is_ident())?;
    let eq = (n..t.len()).find(|&k| t[k].is("=") || t[k].is(";"))?;
    if !t[eq].is("=") || t.get(eq + 1)?.is("=") {
        return None;
    }
    // The expression: up to the `;` at depth 0.
    let mut depth = 0i32;
    let mut end = eq + 1;
    while end < t.len() {
        match t[end].text.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            ";" if depth == 0 => break,
            _ => {}
        }
        end += 1;
    }
    let mut start = eq + 1;
    // A closure: `|| chain`, `move |x| chain`.
    if t.get(start)?.is("move") {
        start += 1;
    }
    if t.get(start)?.is("|") {
        start = (start + 1..end).find(|&k| t[k].is("|"))? + 1;
    }
    while start < end && t[start].is("&") {
        start += 1;
    }
    // The chain's last identifier.
    let mut last = end.checked_sub(1)?;
    loop {
        if last > start && t[last].is("?") {
            last -= 1;
        } else if last > start + 1 && t[last].is("await") && t[last - 1].is(".") {
            last -= 2;
        } else {
            break;
        }
    }
    if t[last].is(")") {
        let open = open_of(t, last).filter(|&o| o > start)?;
        if let Some((seg, first)) = macro_call(t, open) {
            return (first == start)
                .then(|| resolve(&[seg], known, locals).0)
                .flatten()
                .map(|v| (name.text.clone(), v));
        }
        last = open - 1;
    }
    if !t[last].is_ident() {
        return None;
    }
    let (segs, first) = chain_ending_at(t, last);
    if first != start {
        return None;
    }
    resolve(&segs, known, locals)
        .0
        .map(|v| (name.text.clone(), v))
}

// ---------------------------------------------------------------------------------------
// The document

/// Every `Action` of every policy in the ```json blocks of the document, with the
/// statement's `Sid`.
fn documented_actions(doc: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut policies = 0;
    for json in json_blocks(doc) {
        let v: serde_json::Value = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("a ```json block in docs/iam.md is not JSON: {e}\n{json}"));
        let Some(statements) = v.get("Statement").and_then(|s| s.as_array()) else {
            continue;
        };
        policies += 1;
        for st in statements {
            let sid = st["Sid"].as_str().unwrap_or("(no Sid)").to_string();
            assert_eq!(
                st["Effect"], "Allow",
                "statement {sid}: only Allow statements"
            );
            assert!(
                st.get("NotAction").is_none() && st.get("NotResource").is_none(),
                "statement {sid}: no NotAction / NotResource"
            );
            let actions: Vec<&str> = match &st["Action"] {
                serde_json::Value::String(a) => vec![a.as_str()],
                serde_json::Value::Array(a) => a.iter().map(|x| x.as_str().unwrap()).collect(),
                other => panic!("statement {sid}: Action is {other}"),
            };
            for a in actions {
                assert!(
                    !a.contains('*') && !a.contains('?'),
                    "statement {sid}: wildcard action {a}: name each action"
                );
                out.entry(a.to_string()).or_default().push(sid.clone());
            }
            let resources: Vec<&str> = match &st["Resource"] {
                serde_json::Value::String(r) => vec![r.as_str()],
                serde_json::Value::Array(r) => r.iter().map(|x| x.as_str().unwrap()).collect(),
                other => panic!("statement {sid}: Resource is {other}"),
            };
            for r in resources {
                assert!(
                    r == "*" || r.starts_with("arn:aws:"),
                    "statement {sid}: resource {r} is neither \"*\" nor an ARN pattern"
                );
            }
        }
    }
    assert!(
        policies >= 2,
        "docs/iam.md: expected the deployer policy and the lock policy"
    );
    out
}

/// The text of every ```json block of the document.
fn json_blocks(doc: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find("```json\n") {
        let body = &rest[start + "```json\n".len()..];
        let end = body.find("\n```").expect("unclosed ```json block");
        out.push(&body[..end]);
        rest = &body[end..];
    }
    out
}

// ---------------------------------------------------------------------------------------
// The linter

/// Runs parliament on the policy on stdin, as its command line does (no community
/// auditors), and prints `{"version", "findings": [{"sid", "issue", "severity", "title",
/// "items"}]}`. A finding's statement is the one its location falls in.
const PARLIAMENT: &str = r#"
import importlib.metadata, json, sys
import jsoncfg
from parliament import analyze_policy_string, enhance_finding

text = sys.stdin.read()
policy = analyze_policy_string(text)
starts = []
for st in jsoncfg.loads_config(text)["Statement"]:
    sid = st["Sid"].value if jsoncfg.node_exists(st["Sid"]) else "(no Sid)"
    starts.append((jsoncfg.node_location(st).line, sid))
findings = []
for f in policy.findings:
    f = enhance_finding(f)
    line = f.location.get("line") if isinstance(f.location, dict) else None
    sid = "(policy)"
    for start, s in starts:
        if line is not None and start <= line:
            sid = s
    items = []
    for x in f.detail if isinstance(f.detail, list) else [f.detail]:
        if isinstance(x, dict) and "required_format" in x:
            x = "%s needs %s" % (x["action"], x["required_format"])
        elif not isinstance(x, str):
            x = json.dumps(x, sort_keys=True)
        if x not in items:
            items.append(x)
    findings.append({"sid": sid, "issue": f.issue, "severity": f.severity,
                     "title": f.title, "items": items})
json.dump({"version": importlib.metadata.version("parliament"), "findings": findings},
          sys.stdout)
"#;

/// The Python of the test venv, next to moto_server, as `venv_python()` in tests/common.
fn venv_python() -> PathBuf {
    std::env::var_os("ECSDEPLOY_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/moto_server"))
        .with_file_name("python")
}

/// parliament's version and findings on one policy.
fn parliament(policy: &str) -> (String, Vec<serde_json::Value>) {
    let python = venv_python();
    let mut child = Command::new(&python)
        .args(["-c", PARLIAMENT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; run ./scripts/venv.sh (it installs parliament)",
                python.display()
            )
        });
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), policy.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "parliament failed in {}; run ./scripts/venv.sh (it installs parliament):\n{}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let version = v["version"].as_str().unwrap().to_string();
    (version, v["findings"].as_array().unwrap().clone())
}

// ---------------------------------------------------------------------------------------
// Tests

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_scanner_finds_the_known_calls() {
    let found = scan(&root());
    eprintln!("{} actions:", found.actions.len());
    for (a, wheres) in &found.actions {
        eprintln!("  {a}  {}", wheres.iter().next().unwrap());
    }
    let missing: Vec<_> = KNOWN
        .iter()
        .filter(|a| !found.actions.contains_key(**a))
        .collect();
    assert!(
        missing.is_empty(),
        "the scanner missed {missing:?}; it found {:?}",
        found.actions.keys().collect::<Vec<_>>()
    );
    assert!(
        found.actions.len() >= 60,
        "the scanner found only {} actions",
        found.actions.len()
    );
}

#[test]
fn every_send_is_an_operation_the_scanner_understands() {
    let found = scan(&root());
    assert!(
        found.ambiguous.is_empty(),
        "rename one of these, so the scanner (tests/iam_doc.rs) knows which service a call \
         goes to:\n{}",
        found.ambiguous.join("\n")
    );
    assert!(
        found.unattributed.is_empty(),
        "these .send() calls start at something the scanner does not know as an AWS client \
         (tests/iam_doc.rs), so docs/iam.md may miss their actions. Call them on \
         `ctx.aws.<service>`, a variable or parameter typed as an SDK client, or a builder \
         bound with `let`:\n{}",
        found.unattributed.join("\n")
    );
}

#[test]
fn docs_iam_md_allows_exactly_what_the_code_calls() {
    let found = scan(&root());
    let doc = std::fs::read_to_string(root().join("docs/iam.md")).unwrap();
    let documented = documented_actions(&doc);

    let mut problems = String::new();
    for (action, wheres) in &found.actions {
        if !documented.contains_key(action) {
            let wheres: Vec<_> = wheres.iter().cloned().collect();
            writeln!(
                problems,
                "- {action} is called ({}) but docs/iam.md's policy does not allow it: add it \
                 to the statement of its service, scoped as tightly as the action allows",
                wheres.join(", ")
            )
            .unwrap();
        }
    }
    for action in documented.keys() {
        if found.actions.contains_key(action) {
            continue;
        }
        let implied = IMPLIED
            .iter()
            .any(|(a, by, _)| a == action && found.actions.contains_key(*by));
        let external = EXTERNAL.iter().any(|(a, _)| a == action);
        let pending = PENDING.iter().any(|(a, _)| a == action);
        if !(implied || external || pending) {
            writeln!(
                problems,
                "- {action} is in docs/iam.md but the code never calls it: remove it (or, if \
                 AWS needs it for another call or an external tool, add it to IMPLIED / \
                 EXTERNAL in tests/iam_doc.rs with the reason)"
            )
            .unwrap();
        }
    }
    for (action, by, why) in IMPLIED {
        if !documented.contains_key(*action) && found.actions.contains_key(*by) {
            writeln!(
                problems,
                "- {action} is missing from docs/iam.md: AWS checks it for {by} ({why})"
            )
            .unwrap();
        }
    }
    for (action, why) in EXTERNAL.iter().chain(PENDING) {
        if !documented.contains_key(*action) {
            writeln!(problems, "- {action} is missing from docs/iam.md ({why})").unwrap();
        }
    }
    for (action, why) in PENDING {
        if found.actions.contains_key(*action) {
            eprintln!(
                "note: {action} ({why}) is now called by the code; delete it from PENDING in \
                 tests/iam_doc.rs"
            );
        }
    }
    assert!(
        problems.is_empty(),
        "docs/iam.md is out of date:\n{problems}"
    );
}

#[test]
fn parliament_finds_nothing_in_the_policies_but_what_is_explained() {
    let doc = std::fs::read_to_string(root().join("docs/iam.md")).unwrap();
    let mut problems = String::new();
    let mut used = BTreeSet::new();
    let mut version = String::new();
    let mut policies = 0;
    for json in json_blocks(&doc) {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        if v.get("Statement").is_none() {
            continue;
        }
        policies += 1;
        let (ver, findings) = parliament(json);
        version = ver;
        for f in &findings {
            let field = |k: &str| f[k].as_str().unwrap_or("?").to_string();
            let (sid, issue) = (field("sid"), field("issue"));
            for item in f["items"].as_array().unwrap() {
                let item = item.as_str().unwrap();
                let ignored = PARLIAMENT_IGNORED.iter().enumerate().find_map(|(k, i)| {
                    if i.issue != issue || i.sid != sid {
                        return None;
                    }
                    let x = i.items.iter().find(|x| **x == "*" || **x == item)?;
                    Some((k, *x))
                });
                match ignored {
                    Some(key) => {
                        used.insert(key);
                    }
                    None => writeln!(
                        problems,
                        "- {sid}: {issue} ({}, {}): {item}",
                        field("severity"),
                        field("title")
                    )
                    .unwrap(),
                }
            }
        }
    }
    assert!(policies >= 2, "docs/iam.md: expected two policies");
    for (k, i) in PARLIAMENT_IGNORED.iter().enumerate() {
        for x in i.items {
            if !used.contains(&(k, *x)) {
                writeln!(
                    problems,
                    "- PARLIAMENT_IGNORED in tests/iam_doc.rs: parliament no longer reports \
                     {} on {}: {x}; delete it",
                    i.issue, i.sid
                )
                .unwrap();
            }
        }
        assert!(!i.why.is_empty());
    }
    assert!(
        problems.is_empty(),
        "parliament {version} (the IAM policy linter) on docs/iam.md:\n{problems}\nFix the \
         statement: check the action's resource types and condition keys in the Service \
         Authorization Reference. If parliament is wrong, add the finding to \
         PARLIAMENT_IGNORED in tests/iam_doc.rs with what the Reference says."
    );
}

#[test]
fn action_names_follow_iam_spelling() {
    assert_eq!(iam_action("ec2", "describe_vpcs"), "ec2:DescribeVpcs");
    assert_eq!(
        iam_action("rds", "create_db_instance"),
        "rds:CreateDBInstance"
    );
    assert_eq!(
        iam_action("rds", "describe_db_subnet_groups"),
        "rds:DescribeDBSubnetGroups"
    );
    assert_eq!(
        iam_action("elasticloadbalancing", "describe_ssl_policies"),
        "elasticloadbalancing:DescribeSSLPolicies"
    );
    assert_eq!(
        iam_action("application-autoscaling", "put_scaling_policy"),
        "application-autoscaling:PutScalingPolicy"
    );
}

#[test]
fn the_scanner_reads_chains_as_written() {
    // Multi-line chains, comments and strings in the way, a builder in a variable, a
    // client in a parameter, a binding of a binding, an accessor.
    let src = r#"
        use aws_sdk_dynamodb::Client;
        pub struct Clients { pub ec2: aws_sdk_ec2::Client, pub logs: aws_sdk_cloudwatchlogs::Client }
        struct Ctx { aws: Clients }
        impl Ctx { fn ecs(&self) -> &aws_sdk_ecs::Client { todo!() } }
        async fn f(ctx: &Ctx, client: &Client, c: &Config) {
            ctx.aws
                // .describe_subnets() in a comment is no call
                .ec2
                .describe_vpcs() /* nor .create_vpc() */
                .filters("x.delete_vpc()")
                .send()
                .await?;
            let mut req = ctx.aws.ec2.describe_route_tables();
            req = req.route_table_ids('a');
            req.send().await?;
            let logs = &ctx.aws.logs;
            let l2 = logs.clone();
            l2.filter_log_events().send().await?;
            client.put_item().send().await?;
            ctx.ecs().execute_command().send().await?;
            c.secrets.iter().map(|s| s.len());
            tx.send(1);
        }
    "#;
    let toks = tokenize(src);
    assert!(!toks
        .iter()
        .any(|t| t.is("describe_subnets") || t.is("create_vpc")));
    assert!(!toks.iter().any(|t| t.is("delete_vpc")));
    let scanned = scan_sources(vec![Source {
        path: "src/lib.rs".into(),
        imported: imported_client(&toks),
        toks,
    }]);
    let got: Vec<_> = scanned.actions.keys().cloned().collect();
    assert_eq!(
        got,
        [
            "dynamodb:PutItem",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcs",
            "ecs:ExecuteCommand",
            "logs:FilterLogEvents",
        ]
    );
    assert!(
        scanned.unattributed.is_empty(),
        "{:?}",
        scanned.unattributed
    );
}
