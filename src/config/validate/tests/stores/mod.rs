//! Tests of the data stores and the services' `uses`, one file per kind of store.

use super::*;

/// BASE, a service `web` (lines 5-6) using `uses`, then `rest` (from line 7 + the
/// number of lines of `uses`).
fn with(uses: &str, rest: &str) -> String {
    format!("{BASE}[services.web]\nimage = \"nginx\"\n{uses}{rest}")
}

const TABLE: &str = "[tables.music]\nhash_key = { name = \"Artist\" }\n";
const USE_TABLE: &str = "uses = [{ table = \"music\" }]\n";

/// A used table with `body` after its hash_key (line 10 on).
fn table(body: &str) -> String {
    with(USE_TABLE, &format!("{TABLE}{body}"))
}

/// A used database `db` of `engine` with `body` after its engine (line 10 on).
fn database(engine: &str, body: &str) -> String {
    with(
        "uses = [{ database = \"db\" }]\n",
        &format!("[databases.db]\nengine = \"{engine}\"\n{body}"),
    )
}

/// A used MySQL database with `body` after its engine (line 10 on).
fn db(body: &str) -> String {
    database("mysql", body)
}

/// A used PostgreSQL database with `body` after its engine (line 10 on).
fn pg(body: &str) -> String {
    database("postgres", body)
}

/// A used file system with `body` in its table (line 9 on).
fn fs(body: &str) -> String {
    with(
        "uses = [{ file_system = \"files\", path = \"/data\" }]\n",
        &format!("[file_systems.files]\n{body}"),
    )
}

/// A used secret with `body` in its table (line 9 on).
fn secret(body: &str) -> String {
    with(
        "uses = [{ secret = \"token\" }]\n",
        &format!("[secrets.token]\n{body}"),
    )
}

const WORDPRESS: &str = include_str!("../../../../../config/examples/wordpress.toml");
const DYNAMODB: &str = include_str!("../../../../../config/examples/dynamodb-webapp.toml");

#[test]
fn examples_are_valid_without_warnings() {
    for text in [WORDPRESS, DYNAMODB] {
        // The seed file of the DynamoDB example is read relative to the config.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples/x.toml");
        let loaded = load_str(text, &path).unwrap_or_else(|e| panic!("{e}"));
        assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    }
}

#[test]
fn valid_stores_have_no_problems() {
    let text = with(
        "[[services.web.uses]]\ntable = \"music\"\nwrite = true\nenv = \"MUSIC\"\n\
         [[services.web.uses]]\ndatabase = \"db\"\n\
         [[services.web.uses]]\ndatabase = \"other\"\nenv_prefix = \"OTHER_\"\n\
         [[services.web.uses]]\nfile_system = \"files\"\npath = \"/srv/files/\"\nwrite = false\n\
         [[services.web.uses]]\nsecret = \"api-token\"\n\
         [[services.web.uses]]\nsecret = \"old\"\nenv = \"OLD\"\n",
        "[tables.music]\nhash_key = { name = \"Artist\" }\nrange_key = { name = \"Song\", type = \"N\" }\n\
         billing = \"provisioned\"\nread_capacity = 2\nttl_attribute = \"expires\"\n\
         [[tables.music.indexes]]\nname = \"by-year\"\nhash_key = { name = \"Year\", type = \"N\" }\n\
         range_key = { name = \"Song\", type = \"N\" }\nprojection = \"INCLUDE\"\ninclude = [\"Album\"]\n\
         write_capacity = 3\n\
         [databases.db]\nengine = \"postgres\"\nengine_version = \"16.4\"\ninstance_class = \"db.r6g.16xlarge\"\n\
         storage_type = \"gp2\"\nallocated_storage = 100\nusername = \"postgres\"\ndb_name = \"Shop_1\"\n\
         [databases.other]\nengine = \"mysql\"\nengine_version = \"8.4\"\nidentifier = \"Other-DB\"\n\
         [file_systems.files]\nperformance_mode = \"maxIO\"\naccess_point = { path = \"/a/b/c/d\", permissions = \"0750\", uid = 4294967295 }\n\
         [secrets.api-token]\ngenerate = { length = 5, exclude_characters = \"abc\" }\n\
         [secrets.old]\nexisting = \"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod/x-AbCdEf\"\n",
    );
    assert!(diags(&text).is_empty(), "{:#?}", diags(&text));
    assert!(warns(&text).is_empty(), "{:#?}", warns(&text));
}

#[test]
fn store_key_charset() {
    let d = one(
        &with(
            "uses = [{ table = \"My_Table\" }]\n",
            "[tables.My_Table]\nhash_key = { name = \"Id\" }\n",
        ),
        "tables.My_Table",
        "table key `My_Table` is invalid (it contains `M`); store keys are 1 to 32 lowercase",
    );
    assert_eq!((d.line, d.col), (6, 9));
    one(
        &with(
            "uses = [{ secret = \"1x\" }]\n",
            "[secrets.1x]\nexisting = \"x\"\n",
        ),
        "secrets.1x",
        "it does not start with a lowercase letter",
    );
    let long = "a".repeat(33);
    one(
        &with(
            &format!("uses = [{{ file_system = \"{long}\", path = \"/d\" }}]\n"),
            &format!("[file_systems.{long}]\n"),
        ),
        &format!("file_systems.{long}"),
        "it is 33 characters long",
    );
}

#[test]
fn all_store_problems_are_reported_at_once() {
    let text = with(
        "uses = [{ table = \"music\", actions = [\"dynamodb:*\"] }, {}]\n",
        "[tables.music]\nhash_key = { name = \"\" }\nread_capacity = 1\n\
         [databases.db]\nengine = \"mysql\"\ninstance_class = \"db.x1.huge\"\nbackup_retention_days = 40\n\
         [file_systems.f]\nthroughput_mode = \"fast\"\n\
         [secrets.s]\n",
    );
    let d = diags(&text);
    let got: Vec<(usize, &str)> = d.iter().map(|x| (x.line, x.key.as_str())).collect();
    assert_eq!(
        got,
        [
            (5, "services.web.uses[0].actions[0]"),
            (5, "services.web.uses[1]"),
            (7, "tables.music.hash_key.name"),
            (8, "tables.music.read_capacity"),
            (11, "databases.db.instance_class"),
            (12, "databases.db.backup_retention_days"),
            (14, "file_systems.f.throughput_mode"),
            (15, "secrets.s"),
        ],
        "{d:#?}"
    );
}

mod databases;
mod file_systems;
mod secrets;
mod tables;
mod uses;
mod warnings;
