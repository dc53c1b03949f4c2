//! Images: a tag that is not there makes every task fail to start
//! (`CannotPullContainerError`) only after the deployment has begun. Images of the app's own
//! repositories and ECR references of this region are looked up in ECR (DescribeImages, all
//! at once; a reference's account as `registryId`, so an image in another account's registry
//! is looked up there); a repository this run creates cannot hold the image yet (a warning);
//! another registry whose repository policy does not let this account describe its images
//! (pulling needs only `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer`) is a note;
//! images `up` builds are pushed by it. Images of other registries (Docker Hub, GHCR,
//! public.ecr.aws, quay.io, any registry v2) are looked up anonymously there
//! ([`super::registry`]), each reference once, all at once and beside the ECR lookups: a
//! missing tag is an error, an image the registry will not show without credentials or a
//! registry that does not answer a note. ECR of another region or partition only answers
//! signed requests: not checked (a note). An image a task-definition file pulls with
//! `repositoryCredentials` is not looked up (a note naming the credentials' secret).

use anyhow::Result;

use super::reference::Reference;
use super::registry::{Lookup, Registries};
use super::{Finding, Images, Level, Session};
use crate::aws::{bounded, code_of, err, FAN_OUT};
use crate::config::Image;
use crate::desired::{job_task_def_id, repository_id, task_def_id};
use crate::plan::{Action, Plan};

/// An image to look up: where the config names it, the repository and the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    key: String,
    /// The registry (account id) an ECR reference names, sent as `registryId`; `None` for
    /// the app's own repositories, in the caller's registry.
    registry: Option<String>,
    repository: String,
    tag: String,
    /// The app's own repository, created by this run.
    created_now: bool,
}

pub async fn check(s: &Session, plan: &Plan, which: Images) -> Result<Vec<Finding>> {
    let c = &s.config;
    let writes = |id| {
        plan.pending()
            .any(|ch| ch.id == id && matches!(ch.action, Action::Create | Action::Update(_)))
    };
    let mut wanted = Vec::new();
    // (config key, reference) of images in other registries.
    let mut elsewhere: Vec<(String, String)> = Vec::new();
    // Findings known without a lookup.
    let mut noted: Vec<Finding> = Vec::new();
    for (key, svc) in &c.services {
        if which == Images::Deployed && !writes(task_def_id(key)) {
            continue;
        }
        let at = format!("services.{key}.image");
        let mut refs: Vec<(String, String)> = Vec::new();
        match svc.image() {
            Image::Repository(r) if r.build.is_some() => {}
            Image::Repository(r) => wanted.push(Wanted {
                key: at.clone(),
                registry: None,
                repository: c.repository_name(r.repository_key()),
                tag: r.tag().to_string(),
                created_now: plan.pending().any(|ch| {
                    ch.id == repository_id(r.repository_key()) && ch.action == Action::Create
                }),
            }),
            Image::Reference(r) if !r.is_empty() => refs.push((at.clone(), r.clone())),
            Image::Reference(_) => {}
        }
        for (i, side) in svc.sidecars.iter().enumerate() {
            refs.push((
                format!("services.{key}.sidecars[{i}].image"),
                side.image.clone(),
            ));
        }
        if let Some(def) = &svc.native {
            let main = c.container_name(key);
            for (i, n) in def.container_definitions.iter().enumerate() {
                let given =
                    n.name == main && !matches!(svc.image(), Image::Reference(r) if r.is_empty());
                if let (Some(img), false) = (&n.image, given) {
                    let at =
                        format!("services.{key}.task_definition: containerDefinitions[{i}].image");
                    match &n.repository_credentials {
                        // Pulled with the registry's credentials, which only the execution
                        // role reads: not looked up, said so.
                        Some(r) => noted.push(Finding::note(
                            at,
                            format!(
                                "{img} is in a private registry, pulled with the credentials \
                                 in secret `{}`: not checked",
                                r.credentials_parameter
                            ),
                        )),
                        None => refs.push((at, img.clone())),
                    }
                }
            }
        }
        for (at, reference) in refs {
            match ecr_image(&reference, &s.ctx.aws.region) {
                Some((registry, repository, tag)) => wanted.push(Wanted {
                    key: at,
                    registry: Some(registry),
                    repository,
                    tag,
                    created_now: false,
                }),
                None => elsewhere.push((at, reference)),
            }
        }
    }
    // A job with an image of its own (one with `service` runs the service's, checked above
    // when that service deploys).
    for (key, job) in &c.jobs {
        if which == Images::Deployed && !writes(job_task_def_id(key)) {
            continue;
        }
        let at = format!("jobs.{key}.image");
        match &job.image {
            Some(Image::Repository(r)) if r.build.is_none() => wanted.push(Wanted {
                key: at,
                registry: None,
                repository: c.repository_name(r.repository_key()),
                tag: r.tag().to_string(),
                created_now: plan.pending().any(|ch| {
                    ch.id == repository_id(r.repository_key()) && ch.action == Action::Create
                }),
            }),
            Some(Image::Reference(r)) if !r.is_empty() => match ecr_image(r, &s.ctx.aws.region) {
                Some((registry, repository, tag)) => wanted.push(Wanted {
                    key: at,
                    registry: Some(registry),
                    repository,
                    tag,
                    created_now: false,
                }),
                None => elsewhere.push((at, r.clone())),
            },
            _ => {}
        }
    }
    // Each a round trip before the first write: all at once, findings in the keys' order.
    let in_ecr = bounded(wanted.iter().map(|w| look_up(s, w)), FAN_OUT);
    let (in_ecr, registries) = tokio::join!(in_ecr, other_registries(elsewhere));
    let mut out: Vec<Finding> = in_ecr?.into_iter().flatten().collect();
    out.extend(registries);
    out.extend(noted);
    Ok(out)
}

/// Each reference looked up once in its registry, concurrently; findings for every key
/// that names it, in the order the keys came.
async fn other_registries(elsewhere: Vec<(String, String)>) -> Vec<Finding> {
    let mut refs: Vec<(String, Result<Reference, String>)> = Vec::new();
    for (_, reference) in &elsewhere {
        if !refs.iter().any(|(r, _)| r == reference) {
            refs.push((reference.clone(), Reference::parse(reference)));
        }
    }
    let registries = refs
        .iter()
        .any(|(_, p)| p.as_ref().is_ok_and(|p| !p.is_private_ecr()))
        .then(Registries::from_env);
    let looked = futures::future::join_all(refs.iter().map(|(reference, parsed)| {
        let registries = registries.as_ref();
        async move {
            match parsed {
                Err(why) => Some((
                    Level::Note,
                    format!(
                        "{reference} is not an image reference ecsdeploy can parse ({why}): \
                         not checked"
                    ),
                )),
                Ok(p) if p.is_private_ecr() => Some((
                    Level::Note,
                    format!("{reference} is not in this region's ECR: not checked"),
                )),
                Ok(p) => finding(reference, p, registries?.manifest(p).await),
            }
        }
    }))
    .await;
    elsewhere
        .into_iter()
        .filter_map(|(key, reference)| {
            let i = refs.iter().position(|(r, _)| *r == reference)?;
            let (level, message) = looked[i].clone()?;
            Some(Finding {
                key,
                level,
                message,
            })
        })
        .collect()
}

/// What a registry's answer means for the deploy: nothing when the manifest is there.
fn finding(reference: &str, r: &Reference, lookup: Lookup) -> Option<(Level, String)> {
    let registry = &r.domain;
    Some(match lookup {
        Lookup::Found => return None,
        Lookup::Missing => (
            Level::Error,
            format!(
                "{reference}: no such {} in {registry}: its tasks could not start \
                 (CannotPullContainerError); push it, or fix the reference",
                if r.digest.is_some() { "digest" } else { "tag" }
            ),
        ),
        Lookup::Credentials => (
            Level::Note,
            format!(
                "{reference}: {registry} does not show it without credentials (a private \
                 image, or no such repository): not checked; ECS pulls a private image only \
                 with repositoryCredentials (in a task-definition file)"
            ),
        ),
        Lookup::Answered(status) => (
            Level::Note,
            format!("{reference}: registry {registry} answered {status}: not checked"),
        ),
        Lookup::Unreachable(why) => (
            Level::Note,
            format!("{reference}: registry {registry} unreachable: not checked ({why})"),
        ),
    })
}

async fn look_up(s: &Session, w: &Wanted) -> Result<Option<Finding>> {
    let id = if w.tag.starts_with("sha256:") {
        aws_sdk_ecr::types::ImageIdentifier::builder()
            .image_digest(&w.tag)
            .build()
    } else {
        aws_sdk_ecr::types::ImageIdentifier::builder()
            .image_tag(&w.tag)
            .build()
    };
    let got = s
        .ctx
        .aws
        .ecr
        .describe_images()
        .set_registry_id(w.registry.clone())
        .repository_name(&w.repository)
        .image_ids(id)
        .send()
        .await
        .map_err(err);
    match got {
        Ok(_) => Ok(None),
        Err(e) => match code_of(&e).and_then(|code| ecr_finding(w, code)) {
            Some(f) => Ok(Some(f)),
            None => Err(e.context(format!("looking up image {}:{}", w.repository, w.tag))),
        },
    }
}

/// What a DescribeImages error `code` means for the deploy; `None`: not an answer about the
/// image (the run ends with the error). Another registry answers `AccessDeniedException`
/// unless its repository policy grants this account `ecr:DescribeImages` (ECR user guide,
/// "Private repository policies": by default only the owning account has access); a policy
/// for pulling grants `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` only ("Private
/// repository policy examples"), so such an image is not checked, and said so. The same
/// answer comes for a repository of this account that the deployer's own policy does not
/// let it describe (docs/iam.md scopes `ecr:DescribeImages` to the app's repositories).
fn ecr_finding(w: &Wanted, code: &str) -> Option<Finding> {
    let image = format!("{}:{}", w.repository, w.tag);
    let registry = |before: &str| {
        w.registry
            .as_ref()
            .map_or(String::new(), |r| format!("{before}registry {r}"))
    };
    Some(match code {
        "ImageNotFoundException" => Finding::error(
            &w.key,
            format!(
                "image {image} is not in ECR{}: its tasks could not start \
                 (CannotPullContainerError); push it, or fix the tag",
                registry(" ")
            ),
        ),
        "RepositoryNotFoundException" if w.created_now => Finding::warning(
            &w.key,
            format!(
                "repository {} is created by this run, so {image} cannot be in it yet: \
                 the service's tasks start once the image is pushed",
                w.repository
            ),
        ),
        "RepositoryNotFoundException" => Finding::error(
            &w.key,
            format!(
                "repository {}{} does not exist, so {image} cannot be pulled",
                w.repository,
                registry(" in ")
            ),
        ),
        "AccessDeniedException" => {
            let registry = w.registry.as_ref()?;
            Finding::note(
                &w.key,
                format!(
                    "{image} is in registry {registry}, which does not let this account \
                     describe its images: not checked; ECS pulls it with the execution role \
                     if the repository policy allows"
                ),
            )
        }
        _ => return None,
    })
}

/// `<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]` in `region` →
/// (registry, that is the account, repository, tag or digest); other registries and regions
/// → `None`.
fn ecr_image(reference: &str, region: &str) -> Option<(String, String, String)> {
    let (host, path) = reference.split_once('/')?;
    let mut parts = host.split('.');
    let (account, dkr, ecr, at) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if dkr != "dkr" || ecr != "ecr" || at != region {
        return None;
    }
    let registry = account.to_string();
    if let Some((repo, digest)) = path.split_once('@') {
        return Some((registry, repo.to_string(), digest.to_string()));
    }
    Some(match path.rsplit_once(':') {
        Some((repo, tag)) => (registry, repo.to_string(), tag.to_string()),
        None => (registry, path.to_string(), "latest".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_references_of_this_region_are_looked_up() {
        let r = "us-east-1";
        assert_eq!(
            ecr_image(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:v2",
                r
            ),
            Some(("123456789012".into(), "team/web".into(), "v2".into()))
        );
        assert_eq!(
            ecr_image("1.dkr.ecr.us-east-1.amazonaws.com/web", r),
            Some(("1".into(), "web".into(), "latest".into()))
        );
        assert_eq!(
            ecr_image("1.dkr.ecr.us-east-1.amazonaws.com/web@sha256:ab", r),
            Some(("1".into(), "web".into(), "sha256:ab".into()))
        );
        assert_eq!(
            ecr_image("1.dkr.ecr.eu-west-1.amazonaws.com/web:v1", r),
            None
        );
        assert_eq!(ecr_image("nginx:latest", r), None);
        assert_eq!(ecr_image("public.ecr.aws/nginx/nginx:1", r), None);
    }

    fn wanted(registry: Option<&str>, created_now: bool) -> Wanted {
        Wanted {
            key: "services.web.image".into(),
            registry: registry.map(str::to_string),
            repository: "shared".into(),
            tag: "2.0".into(),
            created_now,
        }
    }

    #[test]
    fn the_app_s_own_repositories_keep_their_findings() {
        let own = wanted(None, false);
        let f = ecr_finding(&own, "ImageNotFoundException").unwrap();
        assert_eq!(f.level, Level::Error);
        assert_eq!(
            f.message,
            "image shared:2.0 is not in ECR: its tasks could not start \
             (CannotPullContainerError); push it, or fix the tag"
        );
        let f = ecr_finding(&own, "RepositoryNotFoundException").unwrap();
        assert_eq!(
            f.message,
            "repository shared does not exist, so shared:2.0 cannot be pulled"
        );
        let f = ecr_finding(&wanted(None, true), "RepositoryNotFoundException").unwrap();
        assert_eq!(f.level, Level::Warning);
        // The deployer may not describe its own repositories: the run ends, as before.
        assert_eq!(ecr_finding(&own, "AccessDeniedException"), None);
        assert_eq!(ecr_finding(&own, "ThrottlingException"), None);
    }

    #[test]
    fn another_registry_is_named_and_its_refusal_is_a_note() {
        let other = wanted(Some("111122223333"), false);
        let f = ecr_finding(&other, "ImageNotFoundException").unwrap();
        assert_eq!(f.level, Level::Error);
        assert!(
            f.message
                .starts_with("image shared:2.0 is not in ECR registry 111122223333: "),
            "{}",
            f.message
        );
        let f = ecr_finding(&other, "RepositoryNotFoundException").unwrap();
        assert_eq!(f.level, Level::Error);
        assert_eq!(
            f.message,
            "repository shared in registry 111122223333 does not exist, so shared:2.0 cannot \
             be pulled"
        );
        let f = ecr_finding(&other, "AccessDeniedException").unwrap();
        assert_eq!(f.level, Level::Note);
        assert_eq!(
            f.message,
            "shared:2.0 is in registry 111122223333, which does not let this account describe \
             its images: not checked; ECS pulls it with the execution role if the repository \
             policy allows"
        );
        assert_eq!(ecr_finding(&other, "ServerException"), None);
    }

    #[test]
    fn a_registry_answer_becomes_an_error_only_when_the_manifest_is_missing() {
        let hub = Reference::parse("nginx:1.99").unwrap();
        assert_eq!(finding("nginx:1.99", &hub, Lookup::Found), None);
        let (level, message) = finding("nginx:1.99", &hub, Lookup::Missing).unwrap();
        assert_eq!(level, Level::Error);
        assert!(
            message.starts_with("nginx:1.99: no such tag in docker.io: "),
            "{message}"
        );
        let pinned = format!("ghcr.io/o/a@sha256:{}", "0".repeat(64));
        let by_digest = Reference::parse(&pinned).unwrap();
        let (_, message) = finding(&pinned, &by_digest, Lookup::Missing).unwrap();
        assert!(message.contains("no such digest in ghcr.io"), "{message}");
        for other in [
            Lookup::Credentials,
            Lookup::Answered(hyper::StatusCode::TOO_MANY_REQUESTS),
            Lookup::Unreachable("dns error".into()),
        ] {
            assert_eq!(finding("nginx:1.99", &hub, other).unwrap().0, Level::Note);
        }
    }
}
