//! The services' `uses`: stores, options, environment names, paths and grants.

use super::*;

#[test]
fn uses_naming_no_store() {
    let d = one(
        &with("[[services.web.uses]]\nenv = \"X\"\n", ""),
        "services.web.uses[0]",
        "a `uses` entry naming no store; set exactly one of `table`, `database`, `file_system` or `secret`",
    );
    assert_eq!(d.line, 5);
}

#[test]
fn uses_naming_two_stores() {
    let d = one(
        &with(
            "[[services.web.uses]]\ntable = \"music\"\nsecret = \"token\"\n",
            &format!("{TABLE}[secrets.token]\nexisting = \"x\"\n"),
        ),
        "services.web.uses[0].secret",
        "sets both `table` and `secret`; split it into one entry per store",
    );
    assert_eq!((d.line, d.col), (7, 1));
}

#[test]
fn uses_unknown_store() {
    one(
        &with("uses = [{ table = \"musik\" }]\n", TABLE),
        "services.web.uses[0].table",
        "`musik` is not a key of [tables]; declared tables: `music`",
    );
    one(
        &with("uses = [{ secret = \"token\" }]\n", ""),
        "services.web.uses[0].secret",
        "`token` is not a key of [secrets]; no secrets are declared; add a [secrets.token] section",
    );
}

#[test]
fn uses_options_of_other_kinds() {
    let d = one(
        &with("uses = [{ table = \"music\", path = \"/x\" }]\n", TABLE),
        "services.web.uses[0].path",
        "`path` does not apply to a table; a table use takes `actions`, `write` and `env`",
    );
    assert_eq!((d.line, d.col), (5, 28));
    one(
        &with(
            "uses = [{ database = \"db\", env = \"X\" }]\n",
            "[databases.db]\nengine = \"mysql\"\n",
        ),
        "services.web.uses[0].env",
        "a database use takes `env_prefix`",
    );
    one(
        &with(
            "uses = [{ secret = \"s\", write = true }]\n",
            "[secrets.s]\nexisting = \"x\"\n",
        ),
        "services.web.uses[0].write",
        "a secret use takes `env`",
    );
    one(
        &fs("").replace("path = \"/data\"", "path = \"/data\", actions = []"),
        "services.web.uses[0].actions",
        "a file system use takes `write` and `path`",
    );
}

#[test]
fn table_actions() {
    let t = |actions: &str| {
        with(
            &format!("uses = [{{ table = \"music\", actions = {actions} }}]\n"),
            TABLE,
        )
    };
    one(
        &t("[]"),
        "services.web.uses[0].actions",
        "actions is empty, which grants nothing",
    );
    for wild in ["*", "dynamodb:*", "dynamodb:Get*"] {
        one(
            &t(&format!("[\"dynamodb:Query\", \"{wild}\"]")),
            "services.web.uses[0].actions[1]",
            "is a wildcard; a table use grants only named actions (least privilege): list the actions",
        );
    }
    one(
        &t("[\"s3:GetObject\"]"),
        "services.web.uses[0].actions[0]",
        "`s3:GetObject` is not a DynamoDB action",
    );
    one(
        &t("[\"dynamodb:scan\"]"),
        "services.web.uses[0].actions[0]",
        "not a DynamoDB action",
    );
    one(
        &t("[\"dynamodb:Scan\", \"dynamodb:Scan\"]"),
        "services.web.uses[0].actions[1]",
        "listed twice (also actions[0])",
    );
    one(
        &with(
            "uses = [{ table = \"music\", actions = [\"dynamodb:Scan\"], write = true }]\n",
            TABLE,
        ),
        "services.web.uses[0].write",
        "write has no effect when actions is given",
    );
}

#[test]
fn env_names_of_uses() {
    one(
        &with("uses = [{ table = \"music\", env = \"1X\" }]\n", TABLE),
        "services.web.uses[0].env",
        "`1X` is not a valid environment variable name",
    );
    one(
        &with(
            "uses = [{ database = \"db\", env_prefix = \"DB-\" }]\n",
            "[databases.db]\nengine = \"mysql\"\n",
        ),
        "services.web.uses[0].env_prefix",
        "`DB-` is not a valid prefix of environment variable names",
    );
    one(
        &secret("existing = \"x\"\n").replace(
            "secret = \"token\"",
            &format!("secret = \"token\", env = \"{}\"", "A".repeat(256)),
        ),
        "services.web.uses[0].env",
        "is 256 characters long; the limit is 255",
    );
}

#[test]
fn file_system_paths_of_uses() {
    let u = |path: &str| {
        with(
            &format!("uses = [{{ file_system = \"files\"{path} }}]\n"),
            "[file_systems.files]\n",
        )
    };
    one(
        &u(""),
        "services.web.uses[0]",
        "a file system use needs `path`",
    );
    one(
        &u(", path = \"data\""),
        "services.web.uses[0].path",
        "it is not absolute",
    );
    one(
        &u(", path = \"/\""),
        "services.web.uses[0].path",
        "it is `/`",
    );
    one(
        &u(", path = \"/a/../b\""),
        "services.web.uses[0].path",
        "it contains `..`",
    );
    one(
        &with(
            "uses = [{ file_system = \"a\", path = \"/data\" }, { file_system = \"b\", path = \"/data/\" }]\n",
            "[file_systems.a]\n[file_systems.b]\n",
        ),
        "services.web.uses[1].path",
        "path `/data/` is also where uses[0] is mounted",
    );
}

#[test]
fn same_store_twice() {
    one(
        &with(
            "uses = [{ table = \"music\" }, { table = \"music\", env = \"M\" }]\n",
            TABLE,
        ),
        "services.web.uses[1].table",
        "table `music` is used twice by this service (also uses[0])",
    );
}

#[test]
fn env_var_clashes() {
    // Two tables, one set explicitly to the other's default.
    one(
        &with(
            "uses = [{ table = \"music\" }, { table = \"songs\", env = \"MUSIC_TABLE\" }]\n",
            &format!("{TABLE}[tables.songs]\nhash_key = {{ name = \"Id\" }}\n"),
        ),
        "services.web.uses[1].env",
        "environment variable `MUSIC_TABLE` of uses[1] (table `songs`) is also set by uses[0] (table `music`); set another `env` here or rename the other one",
    );
    // Two databases with the default prefix.
    one(
        &with(
            "uses = [{ database = \"a\" }, { database = \"b\" }]\n",
            "[databases.a]\nengine = \"mysql\"\n[databases.b]\nengine = \"mysql\"\n",
        ),
        "services.web.uses[1]",
        "environment variables `DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER` and `DB_PASSWORD` of uses[1] (database `b`) are also set by uses[0] (database `a`); set another `env_prefix` here",
    );
    // A secret and the plain environment.
    let d = one(
        &with(
            "environment = { API_TOKEN = \"x\" }\nuses = [{ secret = \"api-token\" }]\n",
            "[secrets.api-token]\nexisting = \"x\"\n",
        ),
        "services.web.uses[0]",
        "environment variable `API_TOKEN` of uses[0] (secret `api-token`) is also set by environment.API_TOKEN; remove it from environment or set another `env` here",
    );
    assert_eq!(d.line, 6);
}

#[test]
fn existing_task_role_cannot_get_grants() {
    let role = "task_role = \"arn:aws:iam::123456789012:role/mine\"\n";
    let d = one(
        &with(&format!("{role}{USE_TABLE}"), TABLE),
        "services.web.task_role",
        "task_role names an existing role, but uses[0] (table `music`) need(s) a grant on the task role, which ecsdeploy cannot add to a role it does not own; remove task_role (ecsdeploy then creates demo-web-task",
    );
    assert_eq!(d.line, 5);
    // Secrets go through the execution role: fine with an existing task role.
    assert!(diags(&with(
        &format!("{role}uses = [{{ secret = \"s\" }}]\n"),
        "[secrets.s]\nexisting = \"x\"\n"
    ))
    .is_empty());
}

#[test]
fn existing_execution_role_must_read_the_secrets() {
    let text = format!(
        "{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/exec\"\n\
         [services.web]\nimage = \"nginx\"\nuses = [{{ secret = \"s\" }}, {{ database = \"db\" }}, {{ table = \"t\" }}]\n\
         [secrets.s]\nexisting = \"prod/s\"\n[databases.db]\nengine = \"mysql\"\n\
         [tables.t]\nhash_key = {{ name = \"Id\" }}\n"
    );
    let w = one_warning(
        &text,
        "iam.execution_role",
        "the existing execution role must allow secretsmanager:GetSecretValue on `prod/s` (secrets.s), `demo/databases/db` (the master password of databases.db)",
    );
    assert_eq!(w.line, 4);
    let tables_only = format!(
        "{BASE}[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/exec\"\n\
         [services.web]\nimage = \"nginx\"\n{USE_TABLE}{TABLE}"
    );
    assert!(warns(&tables_only).is_empty());
}

/// What a task-definition file has ECS read with the execution role: an existing role is
/// told what to allow; with ecsdeploy's, a value given by name cannot be granted.
#[test]
fn a_task_definition_file_says_what_the_execution_role_must_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("web.json"),
        r#"{"networkMode": "awsvpc", "containerDefinitions": [{"name": "web", "image": "r.example.com/web",
            "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:reg-AbCdEf"},
            "environmentFiles": [{"value": "arn:aws:s3:::cfg/web.env", "type": "s3"}],
            "secrets": [{"name": "P", "valueFrom": "app-param"}]}]}"#,
    )
    .unwrap();
    let load = |role: &str| {
        let path = dir.path().join("ecsdeploy.toml");
        std::fs::write(
            &path,
            format!("{BASE}{role}[services.web]\ntask_definition = \"web.json\"\n"),
        )
        .unwrap();
        crate::config::load_file(&path).unwrap().warnings
    };
    let existing = load("[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/exec\"\n");
    let w = existing
        .iter()
        .find(|d| d.key == "iam.execution_role" && d.message.contains("services.web"))
        .unwrap_or_else(|| panic!("{existing:#?}"));
    assert!(
        w.message.contains(
            "must allow secretsmanager:GetSecretValue on \
             `arn:aws:secretsmanager:us-east-1:123456789012:secret:reg-AbCdEf`, \
             `arn:aws:secretsmanager:us-east-1:123456789012:secret:reg-AbCdEf-??????`; \
             ssm:GetParameters on `app-param`; s3:GetObject on `arn:aws:s3:::cfg/web.env` and \
             s3:GetBucketLocation on `arn:aws:s3:::cfg` for the task-definition file of \
             services.web"
        ),
        "{}",
        w.message
    );
    let owned = load("");
    assert!(
        owned.iter().any(|d| d.key == "services.web.task_definition"
            && d.message
                .contains("`app-param` in the task-definition file is given by name")),
        "{owned:#?}"
    );
    assert!(!owned.iter().any(|d| d.key == "iam.execution_role"));
}

/// gMSA (`credentialSpecs`): the CredSpec names the domain user's secret, which ecsdeploy
/// cannot see to grant, so the role it creates is refused (naming the file's own role); an
/// existing role is told what to allow.
#[test]
fn credential_specs_need_an_existing_execution_role() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("web.json"),
        r#"{"executionRoleArn": "arn:aws:iam::123456789012:role/gmsa-exec",
            "containerDefinitions": [{"name": "web", "image": "r.example.com/web",
            "credentialSpecs": ["credentialspecdomainless:arn:aws:s3:::gmsa/web.json"]}]}"#,
    )
    .unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    let write = |role: &str| {
        std::fs::write(
            &path,
            format!("{BASE}{role}[services.web]\ntask_definition = \"web.json\"\n"),
        )
        .unwrap()
    };
    write("");
    let errors = crate::config::load_file(&path).unwrap_err().diagnostics;
    let e = errors
        .iter()
        .find(|d| d.key == "services.web.task_definition")
        .unwrap_or_else(|| panic!("{errors:#?}"));
    for want in [
        "`containerDefinitions[0].credentialSpecs` (gMSA) needs an existing execution role",
        "set `iam.execution_role`",
        "(the file's `executionRoleArn` is `arn:aws:iam::123456789012:role/gmsa-exec`)",
    ] {
        assert!(e.message.contains(want), "{want}: {}", e.message);
    }
    write("[iam]\nexecution_role = \"arn:aws:iam::123456789012:role/gmsa-exec\"\n");
    let warnings = crate::config::load_file(&path).unwrap().warnings;
    let w = warnings
        .iter()
        .find(|d| d.key == "iam.execution_role" && d.message.contains("services.web"))
        .unwrap_or_else(|| panic!("{warnings:#?}"));
    assert!(
        w.message.contains(
            "must allow s3:GetObject and s3:GetObjectVersion on the CredSpec \
             `arn:aws:s3:::gmsa/web.json` and s3:ListBucket on `arn:aws:s3:::gmsa`; \
             secretsmanager:GetSecretValue on the domain user's secret"
        ),
        "{}",
        w.message
    );
}
