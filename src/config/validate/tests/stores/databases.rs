//! `[databases.<key>]`: identifiers, engines, classes, storage, names and users.

use super::*;

#[test]
fn database_identifier_rules() {
    let d = one(
        &db("identifier = \"1db\"\n"),
        "databases.db.identifier",
        "`1db` is not a valid RDS instance identifier (it does not start with a letter)",
    );
    assert_eq!((d.line, d.col), (8, 1));
    one(
        &db("identifier = \"a--b\"\n"),
        "databases.db.identifier",
        "it contains `--`",
    );
    one(
        &db("identifier = \"ab-\"\n"),
        "databases.db.identifier",
        "it ends with a hyphen",
    );
    one(
        &db("identifier = \"a_b\"\n"),
        "databases.db.identifier",
        "it contains `_`",
    );
    one(
        &db(&format!("identifier = \"{}\"\n", "a".repeat(64))),
        "databases.db.identifier",
        "it is 64 characters long",
    );
    // A derived identifier from a key ending with a hyphen.
    one(
        &with("uses = [{ database = \"db-\" }]\n", "[databases.db-]\nengine = \"mysql\"\n"),
        "databases.db-",
        "`demo-db-` is not a valid RDS instance identifier (the default `<app>-<key>`; set identifier)",
    );
}

#[test]
fn duplicate_identifiers_ignore_case() {
    one(
        &with(
            "uses = [{ database = \"a\" }, { database = \"b\", env_prefix = \"B_\" }]\n",
            "[databases.a]\nengine = \"mysql\"\n[databases.b]\nengine = \"mysql\"\nidentifier = \"Demo-A\"\n",
        ),
        "databases.b.identifier",
        "instance identifier `demo-a` is also the identifier of databases.a",
    );
}

#[test]
fn engine_versions() {
    one(
        &db("engine_version = \"5.6\"\n"),
        "databases.db.engine_version",
        "MySQL 5.6 (engine_version `5.6`) is not a version RDS offers; RDS offers MySQL 5.7, 8.0, 8.4",
    );
    one(
        &db("engine_version = \"8\"\n"),
        "databases.db.engine_version",
        "`8` is not a MySQL engine version",
    );
    one(
        &db("engine_version = \"8.0.x\"\n"),
        "databases.db.engine_version",
        "digits separated by dots",
    );
    one(
        &pg("engine_version = \"9.6\"\n"),
        "databases.db.engine_version",
        "PostgreSQL 9 (engine_version `9.6`) is not a version RDS offers; RDS offers PostgreSQL 11, 12, 13, 14, 15, 16, 17",
    );
    one(
        &pg("engine_version = \"16.4.1\"\n"),
        "databases.db.engine_version",
        "`16.4.1` is not a PostgreSQL engine version",
    );
    for ok in ["5.7", "8.0", "8.0.39", "8.4.3"] {
        assert!(
            diags(&db(&format!("engine_version = \"{ok}\"\n"))).is_empty(),
            "{ok}"
        );
    }
    for ok in ["11", "17", "16.4"] {
        assert!(
            diags(&pg(&format!("engine_version = \"{ok}\"\n"))).is_empty(),
            "{ok}"
        );
    }
}

#[test]
fn instance_classes() {
    one(
        &db("instance_class = \"t4g.micro\"\n"),
        "databases.db.instance_class",
        "`t4g.micro` is not an RDS instance class; instance classes are `db.<family>.<size>`",
    );
    one(
        &db("instance_class = \"db.t2.micro\"\n"),
        "databases.db.instance_class",
        "`db.t2.micro` is not an instance class RDS offers for mysql: there is no family `t2`; use one of the families t3, t4g,",
    );
    one(
        &db("instance_class = \"db.m5.micro\"\n"),
        "databases.db.instance_class",
        "`db.m5.micro` does not exist: db.m5 comes in the sizes large, xlarge,",
    );
    one(
        &pg("instance_class = \"db.t3.4xlarge\"\n"),
        "databases.db.instance_class",
        "db.t3 comes in the sizes micro, small, medium, large, xlarge, 2xlarge",
    );
    for ok in [
        "db.t3.micro",
        "db.m6i.32xlarge",
        "db.r7g.large",
        "db.m7i.48xlarge",
    ] {
        assert!(
            diags(&db(&format!("instance_class = \"{ok}\"\n"))).is_empty(),
            "{ok}"
        );
    }
}

#[test]
fn storage() {
    one(
        &db("storage_type = \"standard\"\n"),
        "databases.db.storage_type",
        "`standard` is not a storage type ecsdeploy configures; use `gp3` (the default) or `gp2`",
    );
    one(
        &db("allocated_storage = 10\n"),
        "databases.db.allocated_storage",
        "allocated_storage is 10 GiB; gp3 storage for mysql must be 20 to 65536 GiB",
    );
    one(
        &db("storage_type = \"io1\"\n"),
        "databases.db.storage_type",
        "`io1` is not a storage type ecsdeploy configures",
    );
    one(
        &db("allocated_storage = 65537\n"),
        "databases.db.allocated_storage",
        "65537 GiB",
    );
}

#[test]
fn backup_retention() {
    one(
        &db("backup_retention_days = 36\n"),
        "databases.db.backup_retention_days",
        "backup_retention_days is 36; RDS keeps automated backups 0 to 35 days",
    );
    one_warning(
        &db("backup_retention_days = 0\n"),
        "databases.db.backup_retention_days",
        "turns automated backups off",
    );
}

#[test]
fn db_names() {
    one(
        &db("db_name = \"1shop\"\n"),
        "databases.db.db_name",
        "db_name `1shop` is invalid: it does not start with a letter; a database name is 1 to 64",
    );
    one(
        &pg(&format!("db_name = \"{}\"\n", "a".repeat(64))),
        "databases.db.db_name",
        "the maximum is 63",
    );
    assert!(diags(&db(&format!("db_name = \"{}\"\n", "a".repeat(64)))).is_empty());
    one(
        &db("db_name = \"my-db\"\n"),
        "databases.db.db_name",
        "it contains `-`",
    );
    one(
        &db("db_name = \"MySQL\"\n"),
        "databases.db.db_name",
        "`MySQL` is a database mysql already has",
    );
    one(
        &pg("db_name = \"postgres\"\n"),
        "databases.db.db_name",
        "`postgres` is a database postgres already has",
    );
    one(
        &db("db_name = \"select\"\n"),
        "databases.db.db_name",
        "`select` is a word reserved by mysql",
    );
    // The default db_name comes from the key.
    one(
        &with(
            "uses = [{ database = \"mysql\" }]\n",
            "[databases.mysql]\nengine = \"mysql\"\n",
        ),
        "databases.mysql",
        "db_name `mysql` (the default: the key with `-` as `_`; set db_name) is invalid",
    );
}

#[test]
fn usernames() {
    one(
        &db("username = \"a_very_long_user_name\"\n"),
        "databases.db.username",
        "username `a_very_long_user_name` is invalid (it is 21 characters long, the maximum is 16)",
    );
    assert!(diags(&pg("username = \"a_very_long_user_name\"\n")).is_empty());
    one(
        &db("username = \"_app\"\n"),
        "databases.db.username",
        "it does not start with a letter",
    );
    one(
        &db("username = \"rdsadmin\"\n"),
        "databases.db.username",
        "is reserved by RDS or mysql",
    );
    one(
        &pg("username = \"pg_app\"\n"),
        "databases.db.username",
        "is reserved by RDS or postgres",
    );
    one(
        &pg("username = \"user\"\n"),
        "databases.db.username",
        "reserved",
    );
    assert!(diags(&db("username = \"admin\"\n")).is_empty());
}

#[test]
fn database_in_an_imported_network_needs_private_subnets() {
    let text = "app = \"demo\"\n[network.existing]\nvpc = \"vpc-1\"\n\
                public_subnets = [\"subnet-1\", \"subnet-2\"]\n\
                [services.web]\nimage = \"nginx\"\nuses = [{ database = \"db\" }]\n\
                [databases.db]\nengine = \"mysql\"\n";
    let d = one(
        text,
        "databases.db",
        "databases.db runs in private subnets, but network.existing.private_subnets is empty",
    );
    assert_eq!((d.line, d.col), (8, 12));
    let one_subnet = text.replace(
        "public_subnets",
        "private_subnets = [\"subnet-3\"]\npublic_subnets",
    );
    one(
        &one_subnet,
        "databases.db",
        "an RDS DB subnet group needs subnets in at least two availability zones",
    );
    let two = text.replace(
        "public_subnets",
        "private_subnets = [\"subnet-3\", \"subnet-4\"]\npublic_subnets",
    );
    assert!(diags(&two).is_empty(), "{:#?}", diags(&two));
}

#[test]
fn database_needs_two_zones() {
    one(
        &db("").replace("[services.web]", "[network]\naz_count = 1\n[services.web]"),
        "databases.db",
        "`az_count` is 1, but an RDS DB subnet group needs subnets in at least two availability zones",
    );
}

#[test]
fn stores_get_private_subnets_in_a_created_network() {
    // A public service using a database: the private subnets exist for the database.
    let text =
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nuses = [{ database = \"db\" }]\n\
                [databases.db]\nengine = \"mysql\"\n";
    assert!(diags(text).is_empty(), "{:#?}", diags(text));
    let loaded = load_str(text, Path::new("t.toml")).unwrap();
    assert!(loaded.config.needs_private() && loaded.config.runs_private());
    // And NAT is not "serving nobody" then.
    let nat = text.replace(
        "[services.web]",
        "[network]\nnat = \"single\"\n[services.web]",
    );
    assert!(warns(&nat).is_empty(), "{:#?}", warns(&nat));
    let fs = "app = \"demo\"\n[file_systems.files]\n";
    let loaded = load_str(fs, Path::new("t.toml")).unwrap();
    assert!(loaded.config.needs_private());
}
