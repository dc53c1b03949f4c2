//! Cross-account ECR reads, which moto lacks: it looks a `registryId` up only among the
//! caller's own repositories, so another account's repository is "not found" there. AWS
//! answers from the account that owns the registry when that repository's policy allows
//! the action to the caller, and refuses otherwise: "By default, only the AWS account that
//! created the repository has access to the repository" (ECR user guide, "Private
//! repository policies in Amazon ECR"); another account is allowed by a statement naming it
//! as principal, `arn:aws:iam::<account>:root` ("Private repository policy examples in
//! Amazon ECR", "Allow another account"). The refusal is a 400 `AccessDeniedException`
//! "User: … is not authorized to perform: ecr:DescribeImages on resource:
//! arn:aws:ecr:<region>:<owner>:repository/<name> because no resource-based policy allows
//! the ecr:DescribeImages action" (as AWS answered in jetstack/version-checker#167 and
//! ministryofjustice/modernisation-platform#4454).
//!
//! Every proxy does this, as it keeps idempotent creates: it changes nothing for a call in
//! the caller's own registry, and no test meets it without naming another account. A
//! repository the owner does not have has no policy, so it is refused too. Policies are
//! read as far as the tests write them: `Allow`/`Deny`, `Principal` `*`, an account id or
//! `arn:aws:iam::<account>:root`, `Action` exact or ending in `*`; `Condition` is ignored.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::{Request, Response};
use serde_json::Value;

use super::faults::{error, Protocol};
use super::{signing_region, ProxyBody, ProxyState};

const TARGET: &str = "AmazonEC2ContainerRegistry_V20150921.";
/// The reads a repository policy grants another account.
const READS: &[&str] = &["DescribeImages", "BatchGetImage"];

/// The account moto answers the call as: the proxy's own, or, for a read naming another
/// account's registry whose repository policy allows it, that account; `Err` is AWS's
/// refusal.
pub(super) async fn account(
    state: &ProxyState,
    parts: &Parts,
    body: &Bytes,
) -> Result<HeaderValue, Response<ProxyBody>> {
    let own = state.account.clone();
    let Some(operation) = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .and_then(|t| t.strip_prefix(TARGET))
        .filter(|op| READS.contains(op))
    else {
        return Ok(own);
    };
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    let (Some(owner), Some(repository)) = (
        request["registryId"].as_str(),
        request["repositoryName"].as_str(),
    ) else {
        return Ok(own);
    };
    let caller = own.to_str().unwrap_or_default();
    if owner == caller {
        return Ok(own);
    }
    let action = format!("ecr:{operation}");
    let policy = repository_policy(state, parts, owner, repository).await;
    if policy.is_some_and(|p| allows(&p, caller, &action)) {
        return Ok(HeaderValue::from_str(owner).expect("account id header value"));
    }
    let region = signing_region(&parts.headers).unwrap_or("us-east-1");
    Err(error(
        Protocol::AwsJson,
        400,
        "AccessDeniedException",
        &format!(
            "User: arn:aws:iam::{caller}:root is not authorized to perform: {action} on \
             resource: arn:aws:ecr:{region}:{owner}:repository/{repository} because no \
             resource-based policy allows the {action} action"
        ),
    ))
}

/// The repository's policy text in `owner`'s registry (GetRepositoryPolicy as that
/// account); `None` when it has none, or no such repository.
async fn repository_policy(
    state: &ProxyState,
    parts: &Parts,
    owner: &str,
    repository: &str,
) -> Option<String> {
    let body = serde_json::json!({ "registryId": owner, "repositoryName": repository });
    let mut request = Request::post(format!("http://127.0.0.1:{}/", state.moto_port))
        .header("x-amz-target", format!("{TARGET}GetRepositoryPolicy"))
        .header(CONTENT_TYPE, "application/x-amz-json-1.1")
        .header("x-moto-account-id", owner);
    if let Some(auth) = parts.headers.get(AUTHORIZATION) {
        request = request.header(AUTHORIZATION, auth); // moto's region
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("GetRepositoryPolicy request");
    let answer = state.client.request(request).await.ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let bytes = answer.into_body().collect().await.ok()?.to_bytes();
    let doc: Value = serde_json::from_slice(&bytes).ok()?;
    doc["policyText"].as_str().map(str::to_owned)
}

/// Whether `policy` lets account `caller` perform `action`: an `Allow` statement for it
/// and no `Deny`.
fn allows(policy: &str, caller: &str, action: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let statements = match &doc["Statement"] {
        Value::Array(all) => all.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        _ => return false,
    };
    let applies = |s: &Value| principal(&s["Principal"], caller) && names(&s["Action"], action);
    let effect = |s: &Value, e: &str| s["Effect"].as_str() == Some(e);
    statements.iter().any(|s| effect(s, "Allow") && applies(s))
        && !statements.iter().any(|s| effect(s, "Deny") && applies(s))
}

fn principal(p: &Value, caller: &str) -> bool {
    let root = format!("arn:aws:iam::{caller}:root");
    let matches = |v: &Value| {
        v.as_str()
            .is_some_and(|v| v == "*" || v == caller || v == root)
    };
    match p {
        Value::String(_) => matches(p),
        Value::Object(o) => match o.get("AWS") {
            Some(Value::Array(all)) => all.iter().any(matches),
            Some(one) => matches(one),
            None => false,
        },
        _ => false,
    }
}

fn names(actions: &Value, action: &str) -> bool {
    let matches = |v: &Value| {
        v.as_str().is_some_and(|pattern| {
            let (pattern, action) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
            match pattern.strip_suffix('*') {
                Some(prefix) => action.starts_with(prefix),
                None => pattern == action,
            }
        })
    };
    match actions {
        Value::Array(all) => all.iter().any(matches),
        one => matches(one),
    }
}
