//! An image built from source: `docker buildx build --push` to the app's ECR repository,
//! then deployed by the digest ECR reports (a later push of the same tag cannot change
//! what a task definition runs).
//!
//! Found by its tag in its repository; an image whose tag is there is not built again, so a
//! second `up` of unchanged source builds nothing. Never deleted on its own: images go with
//! their repository (`down --delete-images`).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_ecr::types::{ImageDetail, ImageIdentifier};
use futures::future::try_join_all;
use serde_json::json;
use tokio::sync::Mutex;

use super::Ctx;
use crate::aws::{answer, code_of, err};
use crate::desired::ImageSpec;
use crate::desired::{Fields, Outputs, Resolve, Resource, Spec};
use crate::image::docker::{self, BuildRequest};
use crate::plan::Observed;

fn spec(r: &Resource) -> &crate::desired::ImageSpec {
    match &r.spec {
        Spec::Image(s) => s,
        _ => unreachable!("image step given {}", r.id),
    }
}

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let found = try_join_all(desired.iter().map(|r| async move {
        let s = spec(r);
        Ok::<_, anyhow::Error>(find(ctx, &s.repository_name, &s.tag).await?.map(|d| {
            let uri = pinned(ctx, &d);
            Observed {
                id: r.id.clone(),
                name: r.name.clone(),
                outputs: Outputs::with_id(d.image_digest().unwrap_or_default()).uri(uri),
                fields: fields(&s.tag),
                state: "pushed".to_string(),
                details: json!({
                    "digest": d.image_digest(),
                    "size_bytes": d.image_size_in_bytes(),
                    "pushed_at": d.image_pushed_at().map(|t| t.to_string()),
                }),
            }
        }))
    }))
    .await?;
    Ok(found.into_iter().flatten().collect())
}

fn fields(tag: &str) -> Fields {
    [("tag".to_string(), json!(tag))].into_iter().collect()
}

/// The image tagged `tag` in `repository`, if it is there (and the repository too).
async fn find(ctx: &Ctx, repository: &str, tag: &str) -> Result<Option<ImageDetail>> {
    let call = ctx.aws.ecr.describe_images().repository_name(repository);
    let call = call.image_ids(ImageIdentifier::builder().image_tag(tag).build());
    let out = answer(call.send()).await;
    match out {
        Ok(o) => Ok(o.image_details().first().cloned()),
        Err(e)
            if matches!(
                code_of(&e),
                Some("ImageNotFoundException" | "RepositoryNotFoundException")
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// `<registry>.dkr.ecr.<region>.<domain>/<repository>@<digest>`: the repository URI ECR
/// gives every repository, pinned to the image's digest.
fn pinned(ctx: &Ctx, d: &ImageDetail) -> String {
    let domain = if ctx.aws.region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!(
        "{}.dkr.ecr.{}.{domain}/{}@{}",
        d.registry_id().unwrap_or_default(),
        ctx.aws.region,
        d.repository_name().unwrap_or_default(),
        d.image_digest().unwrap_or_default()
    )
}

pub async fn create(ctx: &Ctx, r: &Resource, s: &ImageSpec, res: &dyn Resolve) -> Result<Outputs> {
    let key = r.id.to_string();
    let docker_bin = docker::find_docker()?;
    let repository_uri = res.need(&s.repository_uri)?;
    login(
        ctx,
        &docker_bin,
        &key,
        docker::registry_host(&repository_uri),
    )
    .await?;
    let request = BuildRequest {
        context: s.context.clone(),
        dockerfile: s.dockerfile.clone(),
        platform: s.platform.clone(),
        reference: format!("{repository_uri}:{}", s.tag),
        args: s.build_args.clone(),
        target: s.target.clone(),
    };
    ctx.report.progress(
        &key,
        &format!("building {} for {}", request.reference, s.platform),
    );
    docker::run(&docker_bin, &docker::build_args(&request), None, |line| {
        ctx.report.progress(&key, line)
    })
    .await
    .with_context(|| format!("building and pushing {}", request.reference))?;
    let d = find(ctx, &s.repository_name, &s.tag)
        .await?
        .ok_or_else(|| {
            anyhow!(
                "docker pushed {} but ECR has no image with tag {} in repository {}; check that \
             docker is logged in to the same account and region",
                request.reference,
                s.tag,
                s.repository_name
            )
        })?;
    let digest = d.image_digest().unwrap_or_default().to_string();
    ctx.report.progress(&key, &format!("pushed {digest}"));
    Ok(Outputs::with_id(&digest).uri(format!("{repository_uri}@{digest}")))
}

/// Logs docker in to the account's registry once per run: a fresh token from
/// GetAuthorizationToken, the password on `docker login`'s standard input.
async fn login(
    ctx: &Ctx,
    docker_bin: &std::path::Path,
    key: &str,
    repository_host: &str,
) -> Result<()> {
    static DONE: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    let mut done = DONE.get_or_init(Default::default).lock().await;
    // The registry is the host of the repository URI: no token needed when logged in.
    if done.contains(repository_host) {
        return Ok(());
    }
    let out = ctx
        .aws
        .ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(err)
        .context("getting an ECR login token (ecr:GetAuthorizationToken)")?;
    let data = out
        .authorization_data()
        .first()
        .ok_or_else(|| anyhow!("GetAuthorizationToken returned no authorization data"))?;
    let endpoint = data.proxy_endpoint().unwrap_or_default();
    let registry = docker::registry_host(endpoint).to_string();
    if done.contains(&registry) {
        return Ok(());
    }
    let token = data.authorization_token().unwrap_or_default();
    let decoded = aws_smithy_types::base64::decode(token)
        .map_err(|e| anyhow!("decoding the ECR authorization token: {e}"))?;
    let decoded = String::from_utf8(decoded).context("decoding the ECR authorization token")?;
    let Some((user, password)) = decoded.split_once(':') else {
        bail!("the ECR authorization token is not `user:password`");
    };
    ctx.report
        .progress(key, &format!("logging docker in to {registry}"));
    docker::run(
        docker_bin,
        &docker::login_args(user, &registry),
        Some(password),
        |_| {},
    )
    .await
    .with_context(|| format!("logging docker in to {registry}"))?;
    done.insert(registry);
    Ok(())
}

/// Nothing to change in place: an image found by its tag is the one wanted.
pub use super::support::updates::unchanged as update;

/// Images are deleted with their repository (`down --delete-images`), never one by one.
pub async fn delete(_: &Ctx, _: &Observed) -> Result<()> {
    Ok(())
}
