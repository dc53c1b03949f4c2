//! `[services.<key>.deployment]` strategies: blue/green, canary, linear.

use super::load_balancer::alb;
use super::*;

const P: &str = "services.web.deployment";

/// The ALB fixture with `web` routed by the HTTP:80 listener's default action, and
/// `deployment` keys.
fn routed(deployment: &str) -> String {
    alb(
        &format!("[services.web.deployment]\n{deployment}"),
        "",
        "",
        "[[load_balancer.listeners]]\nport = 80\nprotocol = \"HTTP\"\nservice = \"web\"\n",
    )
}

#[test]
fn strategies_with_their_keys_are_valid() {
    for d in [
        "strategy = \"blue_green\"\n",
        "strategy = \"blue_green\"\nbake_time = \"5m\"\ntest_port = 8443\n",
        "strategy = \"canary\"\ncanary_percent = 12.5\ncanary_bake_time = 3\n",
        "strategy = \"linear\"\nstep_percent = 20\nstep_bake_time = \"1h\"\nbake_time = 0\n",
        "strategy = \"rolling\"\n",
    ] {
        assert!(
            diags(&routed(d)).is_empty(),
            "{d}: {:#?}",
            diags(&routed(d))
        );
    }
}

#[test]
fn a_key_of_another_strategy_is_an_error() {
    one(
        &routed("strategy = \"blue_green\"\ncanary_percent = 10\n"),
        &format!("{P}.canary_percent"),
        "canary_percent applies to strategy = canary; this service's strategy is blue_green",
    );
    one(
        &routed("bake_time = 3\n"),
        &format!("{P}.bake_time"),
        "applies to strategy = blue_green or canary or linear",
    );
}

#[test]
fn values_out_of_ecs_ranges_are_errors() {
    one(
        &routed("strategy = \"canary\"\ncanary_percent = 0.05\n"),
        &format!("{P}.canary_percent"),
        "ECS takes 0.1 to 100 in steps of 0.1",
    );
    one(
        &routed("strategy = \"linear\"\nstep_percent = 2\n"),
        &format!("{P}.step_percent"),
        "ECS takes 3 to 100",
    );
    one(
        &routed("strategy = \"blue_green\"\nbake_time = 1441\n"),
        &format!("{P}.bake_time"),
        "ECS takes 0 to 1440",
    );
    // Not whole minutes: a type error with its place.
    assert!(!diags(&routed("strategy = \"blue_green\"\nbake_time = \"90s\"\n")).is_empty());
}

#[test]
fn a_shifting_strategy_needs_one_route() {
    let two = alb(
        "[services.web.deployment]\nstrategy = \"canary\"\n",
        "",
        "",
        "[[load_balancer.listeners]]\nport = 80\nprotocol = \"HTTP\"\nservice = \"web\"\n\
         [[load_balancer.listeners]]\nport = 8080\nprotocol = \"HTTP\"\nservice = \"web\"\n",
    );
    one(
        &two,
        &format!("{P}.strategy"),
        "2 forward to it: load_balancer.listeners[0], load_balancer.listeners[1]",
    );
    let bare = format!(
        "{BASE}[services.worker]\nimage = \"nginx:1.27\"\n[services.worker.deployment]\n\
         strategy = \"linear\"\n"
    );
    one(
        &bare,
        "services.worker.deployment.strategy",
        "needs a load balancer (target_group) or Service Connect (connect)",
    );
    // Blue/green without either is allowed (ECS deploys it without managed traffic).
    let bare_bg = bare.replace("linear", "blue_green");
    assert!(diags(&bare_bg).is_empty(), "{:#?}", diags(&bare_bg));
}

#[test]
fn early_success_and_test_port_follow_the_strategy() {
    one(
        &routed("strategy = \"blue_green\"\nearly_success_percent = 100\n"),
        &format!("{P}.early_success_percent"),
        "applies to rolling deployments",
    );
    one(
        &routed("strategy = \"blue_green\"\ntest_port = 80\n"),
        &format!("{P}.test_port"),
        "test_port 80 is a listener port already",
    );
}

#[test]
fn shifting_behind_sign_in_a_taken_priority_or_a_shared_test_port_are_errors() {
    let signed_in = alb(
        "[services.web.deployment]\nstrategy = \"blue_green\"\n",
        "",
        "",
        "[[load_balancer.listeners]]\nport = 443\nprotocol = \"HTTPS\"\n\
         certificates = [\"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc-123\"]\n\
         service = \"web\"\ncognito = { user_pool_arn = \
         \"arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_Ab\", \
         client_id = \"c\", domain = \"d\" }\n",
    );
    one(
        &signed_in,
        &format!("{P}.strategy"),
        "ECS fails a deployment whose rule mixes forward with other actions",
    );
    let taken = alb(
        "[services.web.deployment]\nstrategy = \"blue_green\"\n",
        "",
        "",
        "[[load_balancer.listeners]]\nport = 80\nprotocol = \"HTTP\"\nservice = \"web\"\n\
         [[load_balancer.listeners.rules]]\nservice = \"web\"\npaths = [\"/a\"]\npriority = 50000\n",
    );
    let d = diags(&taken);
    assert!(
        d.iter()
            .any(|d| d.key == "load_balancer.listeners[0].rules[0].priority"
                && d.message.contains("priority 50000 is taken")),
        "{d:#?}"
    );
    let shared = format!(
        "{}\n[services.api]\nimage = \"nginx:1.27\"\nports = [9000]\n\
         [services.api.target_group]\nport = 9000\n[services.api.deployment]\n\
         strategy = \"canary\"\ntest_port = 8443\n\
         [[load_balancer.listeners.rules]]\nservice = \"api\"\npaths = [\"/api/*\"]\n",
        routed("strategy = \"canary\"\ntest_port = 8443\n")
    );
    let d = diags(&shared);
    assert!(
        d.iter()
            .any(|d| d.message.contains("test_port 8443 is service")),
        "{d:#?}"
    );
}
