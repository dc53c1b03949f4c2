//! `app`, `region`, `[repositories]`, `[cluster]`, `[logs]` and `[iam]`.

use super::*;

#[test]
fn app_with_uppercase_or_underscore() {
    let d = one("app = \"My_App\"\n", "app", "it contains `M`");
    assert_eq!((d.line, d.col), (1, 1));
    assert!(
        d.message.contains("1 to 20 lowercase letters"),
        "{}",
        d.message
    );
    one("app = \"my_app\"\n", "app", "it contains `_`");
}

#[test]
fn app_too_long() {
    one(
        "app = \"abcdefghijklmnopqrstu\"\n",
        "app",
        "it is 21 characters long",
    );
}

#[test]
fn app_shape() {
    one(
        "app = \"1app\"\n",
        "app",
        "does not start with a lowercase letter",
    );
    one("app = \"app-\"\n", "app", "ends with a hyphen");
    one("app = \"my--app\"\n", "app", "contains `--`");
    one("app = \"\"\n", "app", "it is empty");
}

#[test]
fn invalid_app_does_not_cascade_into_derived_names() {
    // Repositories, services, cluster and log group all derive from app: one error only.
    let text =
        "app = \"Bad_App\"\n[repositories.web]\n[services.web]\nimage = { repository = \"web\" }\n";
    one(text, "app", "not a valid app name");
}

#[test]
fn region_shape() {
    let d = one(
        "app = \"demo\"\nregion = \"tokyo\"\n",
        "region",
        "does not look like an AWS region",
    );
    assert_eq!((d.line, d.col), (2, 1));
    one(
        "app = \"demo\"\nregion = \"ap-northeast\"\n",
        "region",
        "`ap-northeast`",
    );
    assert!(diags("app = \"demo\"\nregion = \"us-gov-west-1\"\n").is_empty());
}

#[test]
fn repository_key_charset() {
    one(
        &format!("{BASE}[repositories.Web]\n"),
        "repositories.Web",
        "may only contain lowercase letters, digits, `_` and `-`",
    );
}

#[test]
fn repository_name_ecr_rules() {
    let d = one(
        &format!("{BASE}[repositories.web]\nname = \"Shop/Web\"\n"),
        "repositories.web.name",
        "uppercase letter `S`",
    );
    assert_eq!((d.line, d.col), (4, 1));
    one(
        &format!("{BASE}[repositories.web]\nname = \"shop//web\"\n"),
        "repositories.web.name",
        "empty path segment",
    );
    one(
        &format!("{BASE}[repositories.web]\nname = \"shop/web-\"\n"),
        "repositories.web.name",
        "starts or ends with a separator",
    );
    one(
        &format!("{BASE}[repositories.web]\nname = \"shop/we._b\"\n"),
        "repositories.web.name",
        "two separators in a row",
    );
    one(
        &format!("{BASE}[repositories.web]\nname = \"a\"\n"),
        "repositories.web.name",
        "the minimum is 2",
    );
    // Derived names are checked too: `demo-web_` ends with a separator.
    one(
        &format!("{BASE}[repositories.web_]\n"),
        "repositories.web_",
        "(the derived name `<app>-<key>`)",
    );
}

#[test]
fn repository_duplicate_names() {
    one(
        &format!("{BASE}[repositories.api]\n[repositories.web]\nname = \"demo-api\"\n"),
        "repositories.web.name",
        "`demo-api` is also the name of repositories.api",
    );
}

#[test]
fn cluster_name_rules() {
    one(
        &format!("{BASE}[cluster]\nname = \"my cluster\"\n"),
        "cluster.name",
        "contains ` `",
    );
    one(
        &format!("{BASE}[cluster]\nname = \"\"\n"),
        "cluster.name",
        "cluster name is empty",
    );
}

#[test]
fn log_group_name_rules() {
    one(
        &format!("{BASE}[logs]\ngroup = \"/ecs/demo:prod\"\n"),
        "logs.group",
        "contains `:`",
    );
    one(
        &format!("{BASE}[logs]\ngroup = \"{}\"\n", "a".repeat(513)),
        "logs.group",
        "513 characters long; the limit is 512",
    );
}

#[test]
fn retention_days_lists_allowed_values() {
    let d = one(
        &format!("{BASE}[logs]\nretention_days = 10\n"),
        "logs.retention_days",
        "10 is not a retention period",
    );
    assert!(d.message.contains("1, 3, 5, 7, 14, 30"), "{}", d.message);
    assert!(d.message.ends_with("3288, 3653"), "{}", d.message);
}

#[test]
fn execution_role_arn() {
    one(
        &format!("{BASE}[iam]\nexecution_role = \"ecsTaskExecutionRole\"\n"),
        "iam.execution_role",
        "is not an IAM role ARN",
    );
    one(
        &format!("{BASE}[iam]\nexecution_role = \"arn:aws:iam::1234:role/x\"\n"),
        "iam.execution_role",
        "`1234` is not a 12-digit account id",
    );
    one(
        &format!("{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:user/x\"\n"),
        "iam.execution_role",
        "does not start with `role/`",
    );
    one(
        &format!("{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/a b\"\n"),
        "iam.execution_role",
        "role name contains ` `",
    );
    one(
        &format!(
            "{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/{}\"\n",
            "r".repeat(65)
        ),
        "iam.execution_role",
        "65 characters long, it must be 1 to 64",
    );
}
