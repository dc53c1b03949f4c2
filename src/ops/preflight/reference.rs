//! Docker image references, parsed as docker parses them (the grammar of
//! `github.com/distribution/reference`): `[host[:port]/]path[:tag][@algorithm:hex]`. The first
//! component names a registry only if it holds a `.` or a `:`, is `localhost`, or has an
//! uppercase letter; otherwise the image is on Docker Hub (`nginx` → `docker.io`,
//! `library/nginx`, tag `latest`). Pure: no lookups.

use std::net::Ipv4Addr;

/// Docker Hub's name in references, and the host its registry API answers on.
const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]` as written (`docker.io` for Docker Hub, also when written
    /// `index.docker.io`).
    pub domain: String,
    /// The repository path (`library/nginx`, `team/app`).
    pub path: String,
    pub tag: Option<String>,
    /// `algorithm:hex`; when given, the image is pulled by it and any tag is ignored.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `reference`, or says why it is not one.
    pub fn parse(reference: &str) -> Result<Reference, String> {
        if reference.is_empty() {
            return Err("empty".into());
        }
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => {
                check_digest(digest)?;
                (rest, Some(digest.to_string()))
            }
            None => (reference, None),
        };
        // A tag's `:` comes after the last `/`; one before it is a port's.
        let last = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last..].rfind(':') {
            Some(i) => (&rest[..last + i], Some(rest[last + i + 1..].to_string())),
            None => (rest, None),
        };
        if let Some(t) = &tag {
            check_tag(t)?;
        }
        if name.len() > 255 {
            return Err("the repository name is longer than 255 characters".into());
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                check_domain(first)?;
                (first.to_string(), path.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let domain = if domain == "index.docker.io" {
            DOCKER_HUB.to_string()
        } else {
            domain
        };
        let path = if domain == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        for component in path.split('/') {
            check_component(component)?;
        }
        Ok(Reference {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// What the manifest is looked up by: the digest, else the tag, else `latest`.
    pub fn target(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The `host[:port]` the registry API answers on.
    pub fn api_host(&self) -> &str {
        if self.domain == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.domain
        }
    }

    /// Whether docker itself would reach this registry over plain http by default:
    /// `localhost` and 127.0.0.0/8 (its default insecure registries). Everything else is
    /// https.
    pub fn insecure(&self) -> bool {
        let host = match self.domain.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => &self.domain,
        };
        host == "localhost"
            || host
                .parse::<Ipv4Addr>()
                .is_ok_and(|ip| ip.octets()[0] == 127)
    }

    /// `<account>.dkr.ecr.<region>.amazonaws.com[.cn]`: a private ECR registry, which only
    /// answers requests signed with the account's credentials.
    pub fn is_private_ecr(&self) -> bool {
        self.domain.contains(".dkr.ecr") && self.domain.contains(".amazonaws.com")
    }
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn check_component(c: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "repository path component {c:?} is not lowercase letters and digits joined by \
             `.`, `_`, `__` or `-`"
        ))
    };
    let alnum = |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit();
    if c.is_empty() || !c.starts_with(alnum) || !c.ends_with(alnum) {
        return bad();
    }
    let mut run = String::new();
    for ch in c.chars() {
        if alnum(ch) {
            if !matches!(run.as_str(), "" | "." | "_" | "__") && !run.chars().all(|r| r == '-') {
                return bad();
            }
            run.clear();
        } else if matches!(ch, '.' | '_' | '-') {
            run.push(ch);
        } else {
            return bad();
        }
    }
    Ok(())
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(t: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if t.is_empty()
        || t.len() > 128
        || !t.starts_with(word)
        || !t.chars().all(|c| word(c) || c == '.' || c == '-')
    {
        return Err(format!("tag {t:?} is not a valid tag"));
    }
    Ok(())
}

/// `algorithm:hex`, the hex at least 32 characters (sha256's is 64).
fn check_digest(d: &str) -> Result<(), String> {
    let ok = d.split_once(':').is_some_and(|(algorithm, hex)| {
        !algorithm.is_empty()
            && algorithm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-_".contains(c))
            && hex.len() >= 32
            && hex.chars().all(|c| c.is_ascii_hexdigit())
            && (algorithm != "sha256" || hex.len() == 64)
    });
    if ok {
        Ok(())
    } else {
        Err(format!("digest {d:?} is not algorithm:hex"))
    }
}

/// A host name (labels of letters, digits and `-`), an IPv4 address or `[IPv6]`, with an
/// optional `:port`.
fn check_domain(d: &str) -> Result<(), String> {
    let bad = || Err(format!("registry {d:?} is not host[:port]"));
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, port)) if ip.parse::<std::net::Ipv6Addr>().is_ok() => match port {
                "" => ("ip6", None),
                _ => ("ip6", Some(port.strip_prefix(':').unwrap_or("not a port"))),
            },
            _ => return bad(),
        }
    } else {
        match d.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) || p.parse::<u16>().is_err() {
            return bad();
        }
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !host.split('.').all(label_ok) {
        return bad();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(r: &str) -> (String, String, String, bool) {
        let p = Reference::parse(r).unwrap();
        (
            p.api_host().to_string(),
            p.path.clone(),
            p.target().to_string(),
            p.insecure(),
        )
    }

    #[test]
    fn docker_hub_defaults() {
        let hub = |path: &str, target: &str| {
            (
                "registry-1.docker.io".to_string(),
                path.to_string(),
                target.to_string(),
                false,
            )
        };
        assert_eq!(parts("nginx"), hub("library/nginx", "latest"));
        assert_eq!(parts("nginx:1.27"), hub("library/nginx", "1.27"));
        assert_eq!(parts("bitnami/redis:7"), hub("bitnami/redis", "7"));
        assert_eq!(parts("docker.io/nginx"), hub("library/nginx", "latest"));
        assert_eq!(
            parts("index.docker.io/library/nginx:1"),
            hub("library/nginx", "1")
        );
        assert_eq!(Reference::parse("nginx").unwrap().domain, "docker.io");
    }

    #[test]
    fn a_first_component_is_a_registry_only_with_a_dot_a_colon_or_localhost() {
        assert_eq!(
            parts("ghcr.io/org/app:v1"),
            ("ghcr.io".into(), "org/app".into(), "v1".into(), false)
        );
        assert_eq!(
            parts("public.ecr.aws/nginx/nginx"),
            (
                "public.ecr.aws".into(),
                "nginx/nginx".into(),
                "latest".into(),
                false
            )
        );
        assert_eq!(
            parts("localhost/app"),
            ("localhost".into(), "app".into(), "latest".into(), true)
        );
        assert_eq!(
            parts("registry:5000/team/app"),
            (
                "registry:5000".into(),
                "team/app".into(),
                "latest".into(),
                false
            )
        );
        // `team` has none of those: a Docker Hub organisation.
        assert_eq!(
            parts("team/app:v2"),
            (
                "registry-1.docker.io".into(),
                "team/app".into(),
                "v2".into(),
                false
            )
        );
    }

    #[test]
    fn ports_tags_and_digests() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            parts("127.0.0.1:5000/team/app:v1"),
            (
                "127.0.0.1:5000".into(),
                "team/app".into(),
                "v1".into(),
                true
            )
        );
        assert_eq!(
            parts("localhost:5000/team/app"),
            (
                "localhost:5000".into(),
                "team/app".into(),
                "latest".into(),
                true
            )
        );
        assert_eq!(parts(&format!("nginx@{d}")).2, d);
        // With both, the digest is what is pulled.
        let both = Reference::parse(&format!("quay.io/org/app:v1@{d}")).unwrap();
        assert_eq!(both.tag.as_deref(), Some("v1"));
        assert_eq!(both.target(), d);
        assert!(!Reference::parse("10.0.0.1:5000/app").unwrap().insecure());
        assert!(Reference::parse("127.9.8.7/app").unwrap().insecure());
        assert!(!Reference::parse("[::1]:5000/app").unwrap().insecure());
    }

    #[test]
    fn what_is_not_a_reference() {
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-x",
            "nginx@sha256:abc",
            "team//app",
            "team/app-",
            "team/a..b",
            "host:port/app",
            "host:99999/app",
            "-bad.com/app",
            "nginx:la test",
            "a.b_c/d", // a registry host has no `_`
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} parsed");
        }
        for good in ["a__b/c-d", "a---b", "org/a.b_c/d", "x.io/a/b/c/d:V_1.2-3"] {
            assert!(Reference::parse(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn private_ecr_is_told_apart() {
        let ecr = Reference::parse("1.dkr.ecr.eu-west-1.amazonaws.com/web:v1").unwrap();
        assert!(ecr.is_private_ecr());
        assert!(!Reference::parse("public.ecr.aws/nginx/nginx")
            .unwrap()
            .is_private_ecr());
    }
}
