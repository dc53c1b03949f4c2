//! The AWS-realism layer's ECS-native blue/green, canary and linear deployments
//! (tests/common/strategies.rs), driven with the venv's boto3 through the layer: AWS's
//! preconditions on CreateService, the lifecycle stages of DescribeServiceDeployments, the
//! production and test listener rules' weights in DescribeRules, the two target groups
//! alternating across deployments, and a rollback when an alarm goes off during bake time.
//! Every ECS request the tests sent is then checked against the ECS API model.

mod common;

use std::time::Duration;

use common::realism::Realism;
use common::{boto, unique_account, Proxy};
use serde_json::Value;

const REGION: &str = "ap-northeast-1";

/// A VPC with an ALB, two target groups `a` and `b`, a production rule on port 80 and a test
/// rule on port 8080 (both forwarding a=100, b=0), another rule forwarding to `a` only, an
/// ECS cluster `bg` and three revisions of task definition `web`; then `body`. `retry`
/// rides out the layer's propagation windows and throttling; `watch(arn)` prints one JSON
/// line per change of a deployment's (status, stage, production weights, test weights)
/// until it is finished.
const SETUP: &str = r#"
import json, time
from botocore.exceptions import ClientError
ec2 = boto3.client('ec2', **kw); elb = boto3.client('elbv2', **kw)
ecs = boto3.client('ecs', **kw); iam = boto3.client('iam', **kw)

def retry(f, **a):
    end = time.time() + 20
    while True:
        try:
            return f(**a)
        except ClientError as e:
            code, msg = e.response['Error']['Code'], e.response['Error'].get('Message', '')
            transient = (code.endswith('.NotFound') or 'Throttl' in code
                or code in ('ClusterNotFoundException', 'RequestLimitExceeded')
                or (code == 'InvalidParameterException'
                    and ('assume' in msg or 'service linked' in msg)))
            if not transient or time.time() > end:
                raise
            time.sleep(0.3)

def refused(f, **a):
    try:
        f(**a)
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['Error'].get('Message', '')]
    return None

vpc = retry(ec2.create_vpc, CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
igw = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
retry(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=vpc)
subnets = [retry(ec2.create_subnet, VpcId=vpc, CidrBlock=f'10.0.{i}.0/24',
                 AvailabilityZone=f'ap-northeast-1{z}')['Subnet']['SubnetId']
           for i, z in ((1, 'a'), (2, 'c'))]
sg = retry(ec2.create_security_group, GroupName='web', Description='web', VpcId=vpc)['GroupId']
# The load balancer and the tasks share the group, which admits 80 from itself: a new group
# admits nothing, and the layer, as AWS, fails a deployment no health check can reach.
retry(ec2.authorize_security_group_ingress, GroupId=sg, IpPermissions=[{'IpProtocol': 'tcp',
      'FromPort': 80, 'ToPort': 80, 'UserIdGroupPairs': [{'GroupId': sg}]}])
lb = retry(elb.create_load_balancer, Name='bg', Subnets=subnets,
           SecurityGroups=[sg])['LoadBalancers'][0]['LoadBalancerArn']
a, b = [elb.create_target_group(Name=n, Protocol='HTTP', Port=80, VpcId=vpc,
        TargetType='ip')['TargetGroups'][0]['TargetGroupArn'] for n in ('bg-a', 'bg-b')]
fixed = [{'Type': 'fixed-response', 'FixedResponseConfig': {'StatusCode': '404'}}]
listener = elb.create_listener(LoadBalancerArn=lb, Protocol='HTTP', Port=80,
                               DefaultActions=fixed)['Listeners'][0]['ListenerArn']
test_listener = elb.create_listener(LoadBalancerArn=lb, Protocol='HTTP', Port=8080,
                                    DefaultActions=fixed)['Listeners'][0]['ListenerArn']
def forward(*groups):
    return [{'Type': 'forward', 'ForwardConfig': {'TargetGroups': [
        {'TargetGroupArn': g, 'Weight': w} for g, w in groups]}}]
def rule(listener, priority, actions):
    return elb.create_rule(ListenerArn=listener, Priority=priority, Actions=actions,
        Conditions=[{'Field': 'path-pattern', 'Values': ['/*']}])['Rules'][0]['RuleArn']
prod = rule(listener, 1, forward((a, 100), (b, 0)))
test = rule(test_listener, 1, forward((a, 100), (b, 0)))
only_a = rule(listener, 2, forward((a, 1)))
retry(ecs.create_cluster, clusterName='bg')
for _ in range(3):
    ecs.register_task_definition(family='web', requiresCompatibilities=['FARGATE'],
        networkMode='awsvpc', cpu='256', memory='512', containerDefinitions=[
            {'name': 'web', 'image': 'nginx', 'essential': True,
             'portMappings': [{'containerPort': 80}]}])
trust = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 'sts:AssumeRole',
         'Principal': {'Service': 'ecs.amazonaws.com'}}]}
role = iam.create_role(RoleName='ecsInfrastructureRoleForLoadBalancers',
                       AssumeRolePolicyDocument=json.dumps(trust))['Role']['Arn']
network = {'awsvpcConfiguration': {'subnets': subnets, 'securityGroups': [sg]}}
def lbs(production=None, alternate=None, with_test=True, advanced=True):
    adv = {'alternateTargetGroupArn': alternate or b, 'productionListenerRule': production or prod,
           'roleArn': role}
    if with_test:
        adv['testListenerRule'] = test
    lb = {'targetGroupArn': a, 'containerName': 'web', 'containerPort': 80}
    if advanced:
        lb['advancedConfiguration'] = adv
    return [lb]
def service(name, dc, **more):
    args = dict(cluster='bg', serviceName=name, taskDefinition='web:1', desiredCount=1,
                launchType='FARGATE', networkConfiguration=network,
                deploymentController={'type': 'ECS'}, deploymentConfiguration=dc)
    args.update(more)
    return args

def weights(arn):
    r = elb.describe_rules(RuleArns=[arn])['Rules'][0]
    fwd = r['Actions'][0].get('ForwardConfig', {}).get('TargetGroups', [])
    return {('a' if g['TargetGroupArn'] == a else 'b'): g.get('Weight', 1) for g in fwd}

def latest(name):
    ds = retry(ecs.list_service_deployments, cluster='bg', service=name)['serviceDeployments']
    return max(ds, key=lambda d: d['createdAt'])['serviceDeploymentArn']

def watch(arn, stop_at=None):
    seen, end = None, time.time() + 40
    while time.time() < end:
        d = retry(ecs.describe_service_deployments, serviceDeploymentArns=[arn])['serviceDeployments'][0]
        shares = [weights(prod), weights(test)]
        # One moment: the stage must not have moved on while the rules were read (on a
        # loaded machine the layer's next stage can come between the calls).
        again = retry(ecs.describe_service_deployments, serviceDeploymentArns=[arn])['serviceDeployments'][0]
        if (again['status'], again.get('lifecycleStage')) != (d['status'], d.get('lifecycleStage')):
            continue
        now = [d['status'], d.get('lifecycleStage')] + shares
        if now != seen:
            print(json.dumps({'trace': now, 'reason': d.get('statusReason'),
                              'rollback': d.get('rollback', {}).get('reason')}))
            seen = now
        if stop_at and d.get('lifecycleStage') == stop_at and d['status'] == 'IN_PROGRESS':
            ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType='ROLLBACK')
            stop_at = None
        if d['status'] in ('SUCCESSFUL', 'ROLLBACK_SUCCESSFUL', 'STOPPED', 'ROLLBACK_FAILED'):
            return
        time.sleep(0.1)
    raise Exception('deployment still in flight after 40 s')

def task_definition(name):
    s = ecs.describe_services(cluster='bg', services=[name])['services'][0]
    return s['taskDefinition'].rsplit('/', 1)[-1]
"#;

/// The JSON lines a script printed.
fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The (status, stage, production weights, test weights) a watch printed.
fn traces(lines: &[Value]) -> Vec<(String, String, Value, Value)> {
    lines
        .iter()
        .filter(|l| l["trace"].is_array())
        .map(|l| {
            let t = &l["trace"];
            let s = |v: &Value| v.as_str().unwrap_or("-").to_owned();
            (s(&t[0]), s(&t[1]), t[2].clone(), t[3].clone())
        })
        .collect()
}

fn weights(a: i64, b: i64) -> Value {
    serde_json::json!({"a": a, "b": b})
}

/// Stages seen, in order, without repeats.
fn stages(t: &[(String, String, Value, Value)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, stage, ..) in t {
        if stage != "-" && out.last() != Some(stage) {
            out.push(stage.clone());
        }
    }
    out
}

/// Preconditions refused as AWS refuses them, then a blue/green service whose first
/// deployment and an image change each pass through the lifecycle stages, shift the test
/// and production rules' weights, and alternate the two target groups.
#[tokio::test]
async fn blue_green_preconditions_stages_and_alternating_target_groups() {
    let proxy = Proxy::start_realistic(&unique_account(), Realism::aws()).await;
    let script = format!(
        "{SETUP}\n{}",
        r#"
bg = {'strategy': 'BLUE_GREEN', 'bakeTimeInMinutes': 1}
out = {}
# The infrastructure role was created a moment ago: not assumable yet.
out['fresh_role'] = refused(ecs.create_service, **service('web', bg, loadBalancers=lbs()))
time.sleep(2.2)
out['listener_arn'] = refused(ecs.create_service, **service('web', bg, loadBalancers=lbs(production=listener)))
out['no_advanced'] = refused(ecs.create_service, **service('web', bg, loadBalancers=lbs(advanced=False)))
out['same_groups'] = refused(ecs.create_service, **service('web', bg, loadBalancers=lbs(alternate=a)))
out['one_group_rule'] = refused(ecs.create_service, **service('web', bg, loadBalancers=lbs(production=only_a, with_test=False)))
out['same_rules'] = refused(ecs.create_service, **service('web', bg, loadBalancers=[dict(lbs()[0], advancedConfiguration=dict(lbs()[0]['advancedConfiguration'], testListenerRule=prod))]))
out['bake_range'] = refused(ecs.create_service, **service('web', {'strategy': 'BLUE_GREEN', 'bakeTimeInMinutes': 1441}, loadBalancers=lbs()))
out['no_bake'] = refused(ecs.create_service, **service('web', {'strategy': 'BLUE_GREEN'}, loadBalancers=lbs()))
out['canary_headless'] = refused(ecs.create_service, **service('web', {'strategy': 'CANARY', 'canaryConfiguration': {'canaryPercent': 10.0, 'canaryBakeTimeInMinutes': 1}}))
out['linear_step'] = refused(ecs.create_service, **service('web', {'strategy': 'LINEAR', 'linearConfiguration': {'stepPercent': 2.0, 'stepBakeTimeInMinutes': 1}}, loadBalancers=lbs()))
out['code_deploy'] = refused(ecs.create_service, **service('web', bg, loadBalancers=lbs(), deploymentController={'type': 'CODE_DEPLOY'}))
# The circuit breaker goes with blue/green (ECS developer guide, "Amazon ECS deployment
# failure detection": both methods support rolling update and blue/green).
bg_cb = dict(bg, deploymentCircuitBreaker={'enable': True, 'rollback': True})
print(json.dumps({'refused': out}))
retry(ecs.create_service, **service('web', bg_cb, loadBalancers=lbs()))
watch(latest('web'))
print(json.dumps({'after_first': [weights(prod), weights(test)]}))
ecs.update_service(cluster='bg', service='web', taskDefinition='web:2')
watch(latest('web'))
s = ecs.describe_services(cluster='bg', services=['web'])['services'][0]
print(json.dumps({'after_second': [weights(prod), weights(test)], 'td': task_definition('web'),
    'lb': s['loadBalancers'][0]['targetGroupArn'] == a,
    'strategy': s['deploymentConfiguration']['strategy'],
    'deployments': [[d['status'], d['rolloutState']] for d in s['deployments']]}))
"#
    );
    let out = boto::run(&proxy, REGION, &script);
    let lines = lines(&out);
    let refused = &lines[0]["refused"];
    let said = |k: &str, want: &str| {
        let r = &refused[k];
        assert_eq!(r[0], "InvalidParameterException", "{k}: {r}");
        let msg = r[1].as_str().unwrap_or_default();
        assert!(msg.contains(want), "{k}: `{msg}` lacks `{want}`");
    };
    said("fresh_role", "unable to assume the role");
    said(
        "listener_arn",
        "productionListenerRule has an invalid ARN format. Must be RuleArn for ALB",
    );
    said("no_advanced", "advancedConfiguration");
    said("same_groups", "must be different from targetGroupArn");
    said("one_group_rule", "must forward to both target groups");
    said(
        "same_rules",
        "cannot be used as both production and test listener rules",
    );
    said("bake_range", "between 0 and 1440");
    said("no_bake", "bakeTimeInMinutes is required");
    said(
        "canary_headless",
        "requires a load balancer or Service Connect",
    );
    said("linear_step", "between 3.0 and 100.0");
    said("code_deploy", "ECS deployment controller");

    // The first deployment (CreateService) registers its tasks in the alternate group `b`
    // and shifts all traffic there; the next one goes back to `a`.
    let after_first = lines.iter().find(|l| l["after_first"].is_array()).unwrap();
    assert_eq!(after_first["after_first"][0], weights(0, 100), "{out}");
    let second: Vec<Value> = lines
        .iter()
        .skip_while(|l| !l["after_first"].is_array())
        .cloned()
        .collect();
    let t = traces(&second);
    assert_eq!(
        stages(&t),
        [
            "PRE_SCALE_UP",
            "SCALE_UP",
            "POST_SCALE_UP",
            "TEST_TRAFFIC_SHIFT",
            "POST_TEST_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT",
            "BAKE_TIME",
            "CLEAN_UP",
        ],
        "{out}"
    );
    for (status, stage, prod, test) in &t {
        match stage.as_str() {
            "PRE_SCALE_UP" | "SCALE_UP" | "POST_SCALE_UP" => {
                assert_eq!((prod, test), (&weights(0, 100), &weights(0, 100)), "{out}");
            }
            "TEST_TRAFFIC_SHIFT" | "POST_TEST_TRAFFIC_SHIFT" => {
                // Test traffic on green (`a`), production still on blue (`b`).
                assert_eq!((prod, test), (&weights(0, 100), &weights(100, 0)), "{out}");
            }
            "BAKE_TIME" | "CLEAN_UP" => assert_eq!(prod, &weights(100, 0), "{out}"),
            _ => {}
        }
        assert!(status == "IN_PROGRESS" || status == "SUCCESSFUL", "{out}");
    }
    assert_eq!(t.last().unwrap().0, "SUCCESSFUL");
    let end = lines.iter().find(|l| l["after_second"].is_array()).unwrap();
    assert_eq!(end["after_second"][0], weights(100, 0), "{out}");
    assert_eq!(end["td"], "web:2");
    assert_eq!(
        end["lb"], true,
        "DescribeServices keeps the groups as sent: {out}"
    );
    assert_eq!(end["strategy"], "BLUE_GREEN");
    assert_eq!(
        end["deployments"],
        serde_json::json!([["PRIMARY", "COMPLETED"]])
    );

    common::assert_ecs_requests_valid(&proxy.ecs_requests());
}

/// A canary deployment shifts its canary share, then fails during bake time as when an alarm
/// goes off: ECS rolls it back (production traffic back to blue, the old task definition
/// running, the reason in the deployment). A linear one stopped mid-flight with
/// StopServiceDeployment ROLLBACK goes back the same way.
#[tokio::test]
async fn canary_rolls_back_when_bake_fails_and_linear_stops_with_rollback() {
    let realism = Realism {
        failing_during_bake: vec!["web:2".into()],
        propagation: Duration::from_millis(300),
        ..Realism::aws()
    };
    let proxy = Proxy::start_realistic(&unique_account(), realism).await;
    let script = format!(
        "{SETUP}\n{}",
        r#"
time.sleep(0.5)
canary = {'strategy': 'CANARY', 'bakeTimeInMinutes': 2,
          'canaryConfiguration': {'canaryPercent': 20.0, 'canaryBakeTimeInMinutes': 1}}
retry(ecs.create_service, **service('web', canary, loadBalancers=lbs()))
watch(latest('web'))
print(json.dumps({'phase': 'update'}))
ecs.update_service(cluster='bg', service='web', taskDefinition='web:2')
arn = latest('web')
watch(arn)
d = ecs.describe_service_deployments(serviceDeploymentArns=[arn])['serviceDeployments'][0]
print(json.dumps({'canary_end': [weights(prod), weights(test)], 'td': task_definition('web'),
                  'rollback': d.get('rollback', {}).get('reason')}))
linear = {'strategy': 'LINEAR', 'bakeTimeInMinutes': 0,
          'linearConfiguration': {'stepPercent': 50.0, 'stepBakeTimeInMinutes': 1}}
print(json.dumps({'phase': 'linear'}))
ecs.update_service(cluster='bg', service='web', taskDefinition='web:3', deploymentConfiguration=linear)
watch(latest('web'), stop_at='PRODUCTION_TRAFFIC_SHIFT')
print(json.dumps({'linear_end': [weights(prod), weights(test)], 'td': task_definition('web')}))
"#
    );
    let out = boto::run(&proxy, REGION, &script);
    let lines = lines(&out);
    let part = |from: &str, to: &str| -> Vec<Value> {
        lines
            .iter()
            .skip_while(|l| l["phase"] != from)
            .take_while(|l| l["phase"] != to)
            .cloned()
            .collect()
    };
    // The first deployment ended on `b`; the canary (web:2) starts from there.
    let t = traces(&part("update", "linear"));
    let shifting: Vec<&Value> = t
        .iter()
        .filter(|x| x.1 == "PRODUCTION_TRAFFIC_SHIFT" && x.0 == "IN_PROGRESS")
        .map(|x| &x.2)
        .collect();
    assert_eq!(
        shifting.first(),
        Some(&&weights(20, 80)),
        "canary share first: {out}"
    );
    assert!(
        t.iter()
            .any(|x| x.1 == "BAKE_TIME" && x.2 == weights(100, 0)),
        "{out}"
    );
    let back = t
        .iter()
        .find(|x| x.0 == "ROLLBACK_IN_PROGRESS")
        .unwrap_or_else(|| panic!("never rolled back: {out}"));
    assert_eq!(back.2, weights(0, 100), "production back on blue: {out}");
    assert_eq!(t.last().unwrap().0, "ROLLBACK_SUCCESSFUL");
    let end = lines.iter().find(|l| l["canary_end"].is_array()).unwrap();
    assert_eq!(end["canary_end"][0], weights(0, 100), "{out}");
    assert_eq!(end["td"], "web:1", "the old revision runs: {out}");
    assert!(
        end["rollback"]
            .as_str()
            .unwrap_or_default()
            .contains("alarm"),
        "{out}"
    );

    // Linear, stopped with ROLLBACK once production traffic starts moving.
    let t = traces(&part("linear", "none"));
    assert!(t.iter().any(|x| x.0 == "ROLLBACK_REQUESTED"), "{out}");
    assert_eq!(t.last().unwrap().0, "ROLLBACK_SUCCESSFUL", "{out}");
    let end = lines.iter().find(|l| l["linear_end"].is_array()).unwrap();
    assert_eq!(end["linear_end"][0], weights(0, 100), "{out}");
    assert_eq!(end["td"], "web:1", "{out}");

    common::assert_ecs_requests_valid(&proxy.ecs_requests());
}

/// The request validator fails on a request the ECS API model refuses, naming it.
#[test]
fn the_request_validator_names_an_invalid_request() {
    let bad = vec![(
        "UpdateService".to_string(),
        r#"{"service":"web","deploymentConfiguration":{"strategy":"BLUE_GREEN","bakeTimeInMinutes":"one"}}"#
            .to_string(),
    )];
    let failed = std::panic::catch_unwind(|| common::assert_ecs_requests_valid(&bad));
    let message = failed
        .expect_err("an invalid request fails the test")
        .downcast::<String>()
        .map(|s| *s)
        .unwrap_or_default();
    assert!(message.contains("UpdateService"), "{message}");
    assert!(message.contains("bakeTimeInMinutes"), "{message}");
    let good = vec![(
        "UpdateService".to_string(),
        r#"{"service":"web","cluster":"bg","deploymentConfiguration":{"strategy":"BLUE_GREEN","bakeTimeInMinutes":1}}"#
            .to_string(),
    )];
    common::assert_ecs_requests_valid(&good);
}
