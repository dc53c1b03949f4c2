//! Building images from source: the tag a build gets ([`tag`]) and the docker command
//! lines that build and push it ([`docker`]). The AWS side (ECR login token, finding the
//! pushed digest) is the `image` step's.

pub mod docker;
pub mod tag;

/// The `docker buildx --platform` of a task's CPU architecture (`X86_64` / `ARM64`).
pub fn platform(cpu_architecture: &str) -> &'static str {
    match cpu_architecture {
        "ARM64" => "linux/arm64",
        _ => "linux/amd64",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn platform_follows_the_task_architecture() {
        assert_eq!(super::platform("ARM64"), "linux/arm64");
        assert_eq!(super::platform("X86_64"), "linux/amd64");
    }
}
