//! Every AWS name ecsdeploy derives from the config, in one place, so validation checks
//! exactly the names that `up` will use.

use sha2::{Digest, Sha256};

use super::model::{Config, Image, Protocol, TargetGroup};

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

    /// Name of the main container: the service key, or the main container of the service's
    /// task-definition file.
    pub fn container_name(&self, key: &str) -> String {
        self.services
            .get(key)
            .and_then(|s| s.native.as_ref())
            .and_then(|d| d.main_container(key))
            .map_or_else(|| key.to_string(), |m| m.name.clone())
    }

    pub fn task_role_name(&self, key: &str) -> String {
        format!("{}-{}-task", self.app, key)
    }

    pub fn service_sg_name(&self, key: &str) -> String {
        format!("{}-{}", self.app, key)
    }

    pub fn table_name(&self, key: &str) -> String {
        self.tables
            .get(key)
            .and_then(|t| t.name.clone())
            .unwrap_or_else(|| format!("{}-{}", self.app, key))
    }

    /// RDS instance identifier (lowercase: RDS stores identifiers lowercased).
    pub fn db_identifier(&self, key: &str) -> String {
        self.databases
            .get(key)
            .and_then(|d| d.identifier.clone())
            .unwrap_or_else(|| format!("{}-{}", self.app, key))
            .to_ascii_lowercase()
    }

    pub fn db_subnet_group_name(&self, key: &str) -> String {
        self.db_identifier(key)
    }

    /// Name of the database inside the instance.
    pub fn db_name(&self, key: &str) -> String {
        self.databases
            .get(key)
            .and_then(|d| d.db_name.clone())
            .unwrap_or_else(|| key.replace('-', "_"))
    }

    /// A database's security group. The dots keep it apart from service groups
    /// (`<app>-<service key>`): service keys cannot contain dots.
    pub fn db_sg_name(&self, key: &str) -> String {
        format!("{}.db.{}", self.app, key)
    }

    /// EFS creation token and `Name` tag of a file system.
    pub fn file_system_name(&self, key: &str) -> String {
        format!("{}-{}", self.app, key)
    }

    pub fn efs_sg_name(&self, key: &str) -> String {
        format!("{}.efs.{}", self.app, key)
    }

    /// Name of a generated secret (existing ones keep theirs).
    pub fn secret_name(&self, key: &str) -> String {
        self.secrets
            .get(key)
            .and_then(|s| s.name.clone())
            .unwrap_or_else(|| format!("{}/{}", self.app, key))
    }

    /// Name of the generated secret that holds a database's master password.
    pub fn db_password_name(&self, key: &str) -> String {
        format!("{}/databases/{}", self.app, key)
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

    /// Name of the private subnet in the `i`-th AZ.
    pub fn private_subnet_name(&self, i: usize) -> String {
        format!("{}-private-{}", self.app, az_letter(i))
    }

    /// Name of a private route table: one shared (`<app>-private`) or one per AZ.
    pub fn private_route_table_name(&self, az: Option<usize>) -> String {
        match az {
            Some(i) => format!("{}-private-{}", self.app, az_letter(i)),
            None => format!("{}-private", self.app),
        }
    }

    /// Name of the NAT gateway (and its Elastic IP) in the `i`-th AZ.
    pub fn nat_name(&self, i: usize) -> String {
        format!("{}-nat-{}", self.app, az_letter(i))
    }

    pub fn endpoint_name(&self, service: &str) -> String {
        format!("{}-{}", self.app, service.replace('.', "-"))
    }

    pub fn endpoint_sg_name(&self) -> String {
        format!("{}-endpoints", self.app)
    }

    pub fn load_balancer_name(&self) -> String {
        self.load_balancer
            .as_ref()
            .and_then(|lb| lb.name.clone())
            .unwrap_or_else(|| self.app.clone())
    }

    pub fn load_balancer_sg_name(&self) -> String {
        format!("{}-alb", self.app)
    }

    /// Target group name: the configured one, or `<app>-<key>` (cut to fit) plus a hash of
    /// the properties AWS cannot change in place, so changing them yields a new group.
    pub fn target_group_name(&self, key: &str) -> Option<String> {
        let tg = self.services.get(key)?.target_group.as_ref()?;
        Some(
            tg.name
                .clone()
                .unwrap_or_else(|| derived_tg_name(&self.app, key, tg)),
        )
    }

    /// The second target group of a service whose strategy shifts traffic (blue/green,
    /// canary, linear): its name with `-alt` (an explicit name cut to make room), or a
    /// derived name with `-alt` before the hash. At most 32 characters.
    pub fn alternate_target_group_name(&self, key: &str) -> Option<String> {
        let tg = self.services.get(key)?.target_group.as_ref()?;
        Some(match &tg.name {
            Some(n) => format!("{}-alt", cut(n, 28)),
            None => format!(
                "{}-alt-{}",
                cut(&format!("{}-{key}", self.app), 21),
                target_group_hash(tg)
            ),
        })
    }

    /// The role ECS assumes to move load balancer traffic during blue/green, canary and
    /// linear deployments (one per app).
    pub fn infrastructure_role_name(&self) -> String {
        format!("{}-ecs-infrastructure", self.app)
    }

    /// True when some service runs an image from a repository declared in the config.
    pub fn uses_repository(&self, key: &str) -> bool {
        self.services
            .values()
            .any(|s| matches!(s.image(), Image::Repository(r) if r.repository_key() == key))
            || self.jobs.values().any(
                |j| matches!(&j.image, Some(Image::Repository(r)) if r.repository_key() == key),
            )
    }

    /// Task definition family of job `key`: `<app>-job-<key>`.
    pub fn job_family(&self, key: &str) -> String {
        format!("{}-job-{}", self.app, key)
    }

    /// The role EventBridge Scheduler assumes to start job `key`'s tasks.
    pub fn scheduler_role_name(&self, key: &str) -> String {
        format!("{}-{}-scheduler", self.app, key)
    }

    /// Security group of a job with its own image. The dots keep it apart from service
    /// groups (`<app>-<service key>`), like the data stores' groups.
    pub fn job_sg_name(&self, key: &str) -> String {
        format!("{}.job.{}", self.app, key)
    }

    /// The EventBridge Scheduler schedule group holding the app's schedules: the app name.
    pub fn schedule_group_name(&self) -> String {
        self.app.clone()
    }
}

/// A name made valid as a key or app name: lowercase letters, digits and single hyphens,
/// starting with a letter, at most `max` characters; `fallback` if nothing is left.
pub fn slug(name: &str, max: usize, fallback: &str) -> String {
    let mut s = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if (c == '-' && (s.is_empty() || s.ends_with('-'))) || (s.is_empty() && c.is_ascii_digit())
        {
            continue;
        }
        s.push(c);
    }
    s.truncate(max);
    let s = s.trim_end_matches('-');
    if s.is_empty() {
        fallback.to_string()
    } else {
        s.to_string()
    }
}

/// `a` for the first AZ index, `b` for the second, ...
pub fn az_letter(i: usize) -> char {
    (b'a' + (i % 26) as u8) as char
}

/// Six hex digits identifying a target group's immutable properties.
pub fn target_group_hash(tg: &TargetGroup) -> String {
    let proto = match tg.protocol {
        Protocol::HTTP => "HTTP",
        Protocol::HTTPS => "HTTPS",
    };
    let digest = Sha256::digest(format!("{proto}:{}:ip", tg.port).as_bytes());
    digest.iter().take(3).map(|b| format!("{b:02x}")).collect()
}

/// `<app>-<key>` cut to 25 characters (no trailing hyphen) + `-` + 6-digit hash: at most 32,
/// the ELB limit.
fn derived_tg_name(app: &str, key: &str, tg: &TargetGroup) -> String {
    format!(
        "{}-{}",
        cut(&format!("{app}-{key}"), 25),
        target_group_hash(tg)
    )
}

/// The first `max` characters of `name`, without the hyphens that would then end it.
fn cut(name: &str, max: usize) -> String {
    let base: String = name.chars().take(max).collect();
    base.trim_end_matches('-').to_string()
}

/// Env-var form of a config key: upper case, `-` as `_` (the default variable name a
/// `uses` entry injects).
pub fn env_name(key: &str) -> String {
    key.to_ascii_uppercase().replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg(port: u16) -> TargetGroup {
        toml::from_str(&format!("port = {port}")).unwrap()
    }

    #[test]
    fn target_group_names_fit_and_change_with_port() {
        let a = derived_tg_name("a-very-long-app-name", "frontend-service-x", &tg(3000));
        assert!(a.len() <= 32, "{a}");
        assert!(!a.contains("--"));
        let b = derived_tg_name("a-very-long-app-name", "frontend-service-x", &tg(3001));
        assert_ne!(a, b);
        assert_eq!(
            a,
            derived_tg_name("a-very-long-app-name", "frontend-service-x", &tg(3000))
        );
    }
}
