//! Pure checks of single values (names, ARNs, patterns) shared by the validation areas.

use std::collections::BTreeMap;

use super::{MAX_CONNECT_NAME_LEN, MAX_DNS_NAME_LEN, MAX_NAMESPACE_LEN};
use crate::graph::Dag;

/// `^[a-z]{2}(-[a-z]+)+-\d+$`: `ap-northeast-1`, `us-gov-west-1`.
pub(super) fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    parts.len() >= 3
        && parts[0].len() == 2
        && lower(&parts[0])
        && parts[1..parts.len() - 1].iter().all(lower)
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// The region of an AZ name (`ap-northeast-1a` → `ap-northeast-1`), if it is one.
pub(super) fn az_region(az: &str) -> Option<&str> {
    let last = az.chars().last()?;
    if !last.is_ascii_lowercase() {
        return None;
    }
    let region = &az[..az.len() - 1];
    is_region(region).then_some(region)
}

/// Punctuation EC2 accepts in a security group rule description (besides letters,
/// digits and spaces).
pub(super) const RULE_DESCRIPTION_PUNCT: &str = "._-:/()#,@[]+=&;{}!$*";

pub(super) fn is_rule_description_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ' ' || RULE_DESCRIPTION_PUNCT.contains(c)
}

/// Letters, digits and `_`, not starting with a digit.
pub(super) fn is_env_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The part of an EC2 id after `subnet-` / `vpc-` / `sg-`: lowercase hex digits.
pub(super) fn is_hex_id(rest: &str) -> bool {
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// The rules most names share, in the order they are reported: not empty, at most `max`
/// characters, and only characters `ok` accepts (the first other one is named).
pub(super) fn shape_problem(name: &str, max: usize, ok: impl Fn(char) -> bool) -> Option<String> {
    let len = name.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > max {
        Some(format!("it is {len} characters long"))
    } else {
        name.chars()
            .find(|c| !ok(*c))
            .map(|ch| format!("it contains `{ch}`"))
    }
}

/// A character of an app name or a key: a lowercase letter, a digit or a hyphen.
fn is_key_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

/// What is wrong with the app name or a service or store key: 1..=`max` lowercase
/// letters, digits and hyphens, starting with a letter.
pub(super) fn key_problem(key: &str, max: usize) -> Option<String> {
    shape_problem(key, max, is_key_char).or_else(|| {
        (!key.starts_with(|c: char| c.is_ascii_lowercase()))
            .then(|| "it does not start with a lowercase letter".into())
    })
}

/// What is wrong with the hyphens of a name whose other rules hold: one at the end, or
/// two in a row.
pub(super) fn hyphens_problem(name: &str) -> Option<String> {
    if name.ends_with('-') {
        Some("it ends with a hyphen".into())
    } else if name.contains("--") {
        Some("it contains `--`".into())
    } else {
        None
    }
}

/// What is wrong with a load balancer or target group name: 1..=32 letters, digits and
/// hyphens, not starting or ending with a hyphen.
pub(super) fn elb_name_problem(name: &str) -> Option<String> {
    shape_problem(name, 32, |c| c.is_ascii_alphanumeric() || c == '-').or_else(|| {
        (name.starts_with('-') || name.ends_with('-'))
            .then(|| "it starts or ends with a hyphen".into())
    })
}

/// Punctuation an ALB path pattern may contain (besides letters and digits).
pub(super) const PATH_PATTERN_PUNCT: &str = "_-.$/~\"'@:+&*?";

pub(super) fn path_pattern_problem(p: &str) -> Option<String> {
    let len = p.chars().count();
    if len == 0 {
        Some("it is empty".into())
    } else if len > 128 {
        Some(format!("it is {len} characters long"))
    } else if !p.starts_with('/') {
        Some("it does not start with `/`".into())
    } else {
        p.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || PATH_PATTERN_PUNCT.contains(*c)))
            .map(|ch| format!("it contains `{ch}`"))
    }
}

pub(super) fn host_pattern_problem(h: &str) -> Option<String> {
    shape_problem(h, 128, |c| c.is_ascii_alphanumeric() || "-.*?".contains(c))
}

/// What is wrong with a health check matcher: comma-separated codes or `lo-hi` ranges,
/// all within 200..=499.
pub(super) fn matcher_problem(m: &str) -> Option<String> {
    if m.is_empty() {
        return Some("it is empty".into());
    }
    let code = |s: &str| -> Result<u16, String> {
        let ok = !s.is_empty() && s.len() <= 3 && s.chars().all(|c| c.is_ascii_digit());
        match s.parse::<u16>() {
            Ok(n) if ok && (200..=499).contains(&n) => Ok(n),
            Ok(n) if ok => Err(format!("{n} is outside 200 to 499")),
            _ => Err(format!("`{s}` is not an HTTP status code")),
        }
    };
    for part in m.split(',') {
        let checked = match part.split_once('-') {
            Some((lo, hi)) => code(lo).and_then(|lo| {
                code(hi).and_then(|hi| {
                    if lo <= hi {
                        Ok(())
                    } else {
                        Err(format!("range `{part}` does not go from low to high"))
                    }
                })
            }),
            None => code(part).map(|_| ()),
        };
        if let Err(e) = checked {
            return Some(e);
        }
    }
    None
}

/// `arn:<partition>:<service>:<region>:<12 digits>:<resource_prefix><id>`.
pub(super) fn check_regional_arn(
    arn: &str,
    what: &str,
    service: &str,
    resource_prefix: &str,
    example: &str,
) -> Result<(), String> {
    let fail = |reason: String| {
        Err(format!(
            "`{arn}` is not {what} ({reason}); expected an ARN such as `{example}`"
        ))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return fail(format!(
            "it does not have the form arn:<partition>:{service}:<region>:<account>:\
             {resource_prefix}<id>"
        ));
    }
    let partition = parts[1];
    if partition.is_empty()
        || !partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
    {
        return fail(format!(
            "`{partition}` is not an AWS partition such as `aws`"
        ));
    }
    if parts[2] != service {
        return fail(format!("the service is `{}`, not `{service}`", parts[2]));
    }
    if !is_region(parts[3]) {
        return fail(format!("`{}` is not a region", parts[3]));
    }
    let account = parts[4];
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return fail(format!("`{account}` is not a 12-digit account id"));
    }
    match parts[5].strip_prefix(resource_prefix) {
        Some(id) if !id.is_empty() && !id.contains(char::is_whitespace) => Ok(()),
        _ => fail(format!(
            "the resource `{}` is not `{resource_prefix}<id>`",
            parts[5]
        )),
    }
}

/// Characters ECS allows in cluster, service and family names.
pub(super) fn is_aws_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `None` when `value` is 1..=`max` characters all accepted by `ok`, else what is wrong.
pub(super) fn charset_problem(
    what: &str,
    value: &str,
    max: usize,
    ok: impl Fn(char) -> bool,
    allowed: &str,
) -> Option<String> {
    let len = value.chars().count();
    if len == 0 {
        Some(format!(
            "{what} is empty; it must be 1 to {max} characters of {allowed}"
        ))
    } else if len > max {
        Some(format!(
            "{what} `{value}` is {len} characters long; the limit is {max}"
        ))
    } else {
        value
            .chars()
            .find(|c| !ok(*c))
            .map(|ch| format!("{what} `{value}` contains `{ch}`; only {allowed} are allowed"))
    }
}

/// What is wrong with an ECR repository name, per
/// `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`, 2..=256 characters.
pub(super) fn ecr_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len < 2 {
        return Some(format!("it is {len} character(s) long, the minimum is 2"));
    }
    if len > 256 {
        return Some(format!("it is {len} characters long, the maximum is 256"));
    }
    if let Some(ch) = name.chars().find(|c| c.is_ascii_uppercase()) {
        return Some(format!("it contains the uppercase letter `{ch}`"));
    }
    if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(*c)))
    {
        return Some(format!("it contains `{ch}`"));
    }
    for part in name.split('/') {
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        if part.is_empty() {
            return Some("it has an empty path segment (leading, trailing or double `/`)".into());
        }
        if !part.starts_with(alnum) || !part.ends_with(alnum) {
            return Some(format!("segment `{part}` starts or ends with a separator"));
        }
        let b = part.as_bytes();
        if b.windows(2)
            .any(|w| !alnum(w[0] as char) && !alnum(w[1] as char))
        {
            return Some(format!("segment `{part}` has two separators in a row"));
        }
    }
    None
}

/// What is wrong with an image tag: 1..=128 of `[A-Za-z0-9_.-]`, not starting with `.`/`-`.
pub(super) fn tag_problem(tag: &str) -> Option<String> {
    shape_problem(tag, 128, |c| c.is_ascii_alphanumeric() || "_.-".contains(c)).or_else(|| {
        tag.starts_with(['.', '-'])
            .then(|| "it starts with `.` or `-`".into())
    })
}

/// `arn:<partition>:iam::<12 digits>:role/<path/>name`.
pub(super) fn check_role_arn(arn: &str) -> Result<(), String> {
    let rule = "expected an IAM role ARN such as `arn:aws:iam::123456789012:role/my-role`";
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let fail = |reason: &str| Err(format!("`{arn}` is not an IAM role ARN ({reason}); {rule}"));
    if parts.len() != 6 || parts[0] != "arn" {
        return fail("it does not have the form arn:<partition>:iam::<account>:role/<name>");
    }
    let partition = parts[1];
    if partition.is_empty()
        || !partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
    {
        return fail(&format!(
            "`{partition}` is not an AWS partition such as `aws`"
        ));
    }
    if parts[2] != "iam" {
        return fail(&format!("the service is `{}`, not `iam`", parts[2]));
    }
    if !parts[3].is_empty() {
        return fail("IAM ARNs have no region");
    }
    let account = parts[4];
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return fail(&format!("`{account}` is not a 12-digit account id"));
    }
    let Some(rest) = parts[5].strip_prefix("role/") else {
        return fail("the resource does not start with `role/`");
    };
    let name = rest.rsplit('/').next().unwrap_or(rest);
    let len = name.chars().count();
    if len == 0 || len > 64 {
        return fail(&format!(
            "the role name is {len} characters long, it must be 1 to 64"
        ));
    }
    if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
    {
        return fail(&format!(
            "the role name contains `{ch}`; allowed are letters, digits and `+=,.@_-`"
        ));
    }
    Ok(())
}

/// `*` or `service:Action` (one `:` with something on both sides).
pub(super) fn is_action(a: &str) -> bool {
    if a == "*" {
        return true;
    }
    match a.split_once(':') {
        Some((svc, act)) => {
            !svc.is_empty()
                && !act.is_empty()
                && !act.contains(':')
                && !a.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// The cycles of a graph given as node → the nodes it depends on (unknown nodes and
/// self-edges are ignored: they are reported on their own). Each cycle is reported once,
/// starting and ending at its alphabetically first node: `[b, a, b]`.
pub(super) fn cycles<'k>(graph: BTreeMap<&'k str, Vec<&'k str>>) -> Vec<Vec<&'k str>> {
    let mut remaining = graph;
    let mut out = Vec::new();
    loop {
        let dag = Dag::new(remaining.iter().map(|(k, d)| (*k, d.clone())));
        let Err(mut cycle) = dag.levels() else {
            break;
        };
        if cycle.len() < 2 || cycle.first() != cycle.last() {
            break; // not a cycle; cannot happen
        }
        cycle.pop();
        let first = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
        cycle.rotate_left(first);
        for k in &cycle {
            remaining.remove(k);
        }
        cycle.push(cycle[0]);
        out.push(cycle);
    }
    out
}

/// The message for a port that is not one of the service's `ports`.
pub(super) fn not_a_service_port(port: u16, ports: &[u16]) -> String {
    if ports.is_empty() {
        format!(
            "port {port} is not one of the service's ports: the service declares no `ports`; \
             add {port} to ports"
        )
    } else {
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        format!(
            "port {port} is not one of the service's ports ({})",
            list.join(", ")
        )
    }
}

/// What is wrong with a Cloud Map namespace name: 1..=1024 letters, digits, hyphens and
/// dots, no leading or trailing dot or hyphen, no empty label.
pub(super) fn namespace_problem(name: &str) -> Option<String> {
    shape_problem(name, MAX_NAMESPACE_LEN, |c| {
        c.is_ascii_alphanumeric() || c == '-' || c == '.'
    })
    .or_else(|| {
        if name.starts_with(['.', '-']) || name.ends_with(['.', '-']) {
            Some("it starts or ends with a dot or a hyphen".into())
        } else if name.contains("..") {
            Some("it contains `..`".into())
        } else {
            None
        }
    })
}

/// What is wrong with a port mapping or discovery name: 1..=64 lowercase letters, digits
/// and hyphens, not starting with a hyphen.
pub(super) fn connect_name_problem(name: &str) -> Option<String> {
    shape_problem(name, MAX_CONNECT_NAME_LEN, is_key_char).or_else(|| {
        name.starts_with('-')
            .then(|| "it starts with a hyphen".into())
    })
}

/// What is wrong with a client alias DNS name: 1..=127 lowercase letters, digits,
/// underscores, hyphens and dots (ECS API reference, ServiceConnectClientAlias.dnsName),
/// not starting with a hyphen or a dot, not ending with a dot.
pub(super) fn dns_name_problem(name: &str) -> Option<String> {
    shape_problem(name, MAX_DNS_NAME_LEN, |c| {
        is_key_char(c) || c == '.' || c == '_'
    })
    .or_else(|| {
        if name.starts_with(['-', '.']) || name.ends_with('.') {
            Some("it starts with a hyphen or a dot, or ends with a dot".into())
        } else if name.contains("..") {
            Some("it contains `..`".into())
        } else {
            None
        }
    })
}

/// The keys of `options` that are set, in order, for "exactly one of" rules.
pub(super) fn set_keys<'a>(options: &[(&'a str, bool)]) -> Vec<&'a str> {
    options
        .iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| *k)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(is_region("ap-northeast-1"));
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("ap-northeast-"));
        assert!(!is_region("apx-northeast-1"));
        assert!(!is_region("AP-northeast-1"));
        assert_eq!(az_region("eu-west-3c"), Some("eu-west-3"));
        assert_eq!(az_region("eu-west-3"), None);
        assert!(ecr_name_problem("a/b.c_d-e/f0").is_none());
        assert!(ecr_name_problem("/ab").is_some());
        assert!(ecr_name_problem("ab/").is_some());
        assert!(is_action("*") && is_action("s3:*") && is_action("ec2:Describe*"));
        assert!(!is_action(":x") && !is_action("s3:") && !is_action("a:b:c"));
        assert!(is_hex_id("0123abcdef") && !is_hex_id("") && !is_hex_id("0A") && !is_hex_id("xyz"));
        assert!(elb_name_problem("a-1-B").is_none());
        assert!(elb_name_problem("a--b").is_none());
        assert!(check_regional_arn(
            "arn:aws-cn:acm:cn-north-1:123456789012:certificate/x",
            "an ACM certificate ARN",
            "acm",
            "certificate/",
            "",
        )
        .is_ok());
        assert!(matcher_problem("200-200").is_none());
        assert!(matcher_problem("0200").is_some());
        assert!(path_pattern_problem("/*").is_none());
        assert!(host_pattern_problem("").is_some());
    }
}
