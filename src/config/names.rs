//! Every AWS name ecsdeploy derives from the config, in one place, so validation checks
//! exactly the names that `up` will use.

use super::model::{Config, Image};

impl Config {
    pub fn cluster_name(&self) -> String {
        self.cluster
            .name
            .clone()
            .unwrap_or_else(|| format!("{}-cluster", self.app))
    }

    pub fn log_group_name(&self) -> String {
        self.logs
            .group
            .clone()
            .unwrap_or_else(|| format!("/ecs/{}", self.app))
    }

    pub fn execution_role_name(&self) -> String {
        format!("{}-execution", self.app)
    }

    pub fn repository_name(&self, key: &str) -> String {
        self.repositories
            .get(key)
            .and_then(|r| r.name.clone())
            .unwrap_or_else(|| format!("{}-{}", self.app, key))
    }

    pub fn service_name(&self, key: &str) -> String {
        self.services
            .get(key)
            .and_then(|s| s.name.clone())
            .unwrap_or_else(|| format!("{}-{}", self.app, key))
    }

    /// Task definition family: the service name.
    pub fn family(&self, key: &str) -> String {
        self.service_name(key)
    }

    /// Container name inside the task definition: the service key.
    pub fn container_name(&self, key: &str) -> String {
        key.to_string()
    }

    pub fn task_role_name(&self, key: &str) -> String {
        format!("{}-{}-task", self.app, key)
    }

    pub fn service_sg_name(&self, key: &str) -> String {
        format!("{}-{}", self.app, key)
    }

    pub fn vpc_name(&self) -> String {
        format!("{}-vpc", self.app)
    }

    pub fn igw_name(&self) -> String {
        format!("{}-igw", self.app)
    }

    pub fn public_route_table_name(&self) -> String {
        format!("{}-public", self.app)
    }

    /// Name of the public subnet in the `i`-th AZ (a, b, c ...).
    pub fn public_subnet_name(&self, i: usize) -> String {
        format!("{}-public-{}", self.app, az_letter(i))
    }

    /// True when some service runs an image from a repository declared in the config.
    pub fn uses_repository(&self, key: &str) -> bool {
        self.services
            .values()
            .any(|s| matches!(&s.image, Image::Repository(r) if r.repository == key))
    }
}

/// `a` for the first AZ index, `b` for the second, ...
pub fn az_letter(i: usize) -> char {
    (b'a' + (i % 26) as u8) as char
}
