//! Validation of the app-wide settings: `app`, `region`, `[repositories]`, `[cluster]`,
//! `[logs]` and `[iam]`.

use std::collections::BTreeMap;

use super::names::{
    charset_problem, check_role_arn, ecr_name_problem, hyphens_problem, is_aws_name_char,
    is_region, key_problem,
};
use super::{root, Validator, MAX_APP_LEN, RETENTION_DAYS};

impl Validator<'_> {
    pub(super) fn app(&mut self) {
        let app = &self.c.app;
        let reason = key_problem(app, MAX_APP_LEN).or_else(|| hyphens_problem(app));
        if let Some(reason) = reason {
            self.app_ok = false;
            self.err(
                root("app"),
                format!(
                    "`{app}` is not a valid app name ({reason}); the app name prefixes every AWS \
                     name and is the value of the ownership tag, so it must be 1 to {MAX_APP_LEN} \
                     lowercase letters, digits and hyphens, start with a letter, not end with a \
                     hyphen and not contain `--` (e.g. `shop` or `my-app2`)"
                ),
            );
        }
    }

    pub(super) fn region(&mut self) {
        if let Some(r) = &self.c.region {
            if !is_region(r) {
                self.err(
                    root("region"),
                    format!(
                        "`{r}` does not look like an AWS region; expected a name such as \
                         `ap-northeast-1`, `eu-west-3` or `us-gov-west-1`"
                    ),
                );
            }
        }
    }

    pub(super) fn repositories(&mut self) {
        let c = self.c;
        let mut names: BTreeMap<String, &str> = BTreeMap::new();
        for (key, repo) in &c.repositories {
            let rp = root("repositories").key(key);
            let key_ok = !key.is_empty()
                && key.chars().all(|ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' || ch == '-'
                });
            if !key_ok {
                self.err(
                    rp.clone(),
                    format!(
                        "repository key `{key}` may only contain lowercase letters, digits, `_` \
                         and `-`"
                    ),
                );
            }
            let name = c.repository_name(key);
            let explicit = repo.name.is_some();
            let np = rp.key_if(explicit, "name");
            if explicit || (self.app_ok && key_ok) {
                if let Some(reason) = ecr_name_problem(&name) {
                    let what = if explicit {
                        "is not a valid ECR repository name"
                    } else {
                        "(the derived name `<app>-<key>`) is not a valid ECR repository name"
                    };
                    self.err(
                        np.clone(),
                        format!(
                            "`{name}` {what}: {reason}; ECR names are 2 to 256 characters: \
                             groups of lowercase letters and digits separated by single `.`, `_`, \
                             `-` or `/` (e.g. `my-app/web`)"
                        ),
                    );
                }
            }
            self.unique(&mut names, name, key, np, |name, prev| {
                format!(
                    "repository name `{name}` is also the name of repositories.{prev}; each \
                     repository needs its own name"
                )
            });
        }
    }

    pub(super) fn cluster(&mut self) {
        let explicit = self.c.cluster.name.is_some();
        if !(explicit || self.app_ok) {
            return;
        }
        let name = self.c.cluster_name();
        if let Some(m) = charset_problem(
            "cluster name",
            &name,
            255,
            is_aws_name_char,
            "letters, digits, `_` and `-`",
        ) {
            let path = if explicit {
                root("cluster").key("name")
            } else {
                root("app")
            };
            self.err(path, m);
        }
    }

    pub(super) fn logs(&mut self) {
        let explicit = self.c.logs.group.is_some();
        if explicit || self.app_ok {
            let name = self.c.log_group_name();
            if let Some(m) = charset_problem(
                "log group name",
                &name,
                512,
                |ch| ch.is_ascii_alphanumeric() || "._/#-".contains(ch),
                "letters, digits, `.`, `_`, `/`, `#` and `-`",
            ) {
                let path = if explicit {
                    root("logs").key("group")
                } else {
                    root("app")
                };
                self.err(path, m);
            }
        }
        let days = self.c.logs.retention_days;
        if !RETENTION_DAYS.contains(&days) {
            let list: Vec<String> = RETENTION_DAYS.iter().map(u32::to_string).collect();
            self.err(
                root("logs").key("retention_days"),
                format!(
                    "{days} is not a retention period CloudWatch Logs accepts; use one of: {}",
                    list.join(", ")
                ),
            );
        }
    }

    pub(super) fn iam(&mut self) {
        match &self.c.iam.execution_role {
            Some(arn) => {
                if let Err(m) = check_role_arn(arn) {
                    self.err(root("iam").key("execution_role"), m);
                }
            }
            None => {
                let name = self.c.execution_role_name();
                if self.app_ok && name.chars().count() > 64 {
                    self.err(
                        root("app"),
                        format!(
                            "the derived execution role name `{name}` is {} characters long; IAM \
                             role names are at most 64",
                            name.chars().count()
                        ),
                    );
                }
            }
        }
    }
}
