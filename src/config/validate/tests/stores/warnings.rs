//! Warnings about the data stores.

use super::*;

#[test]
fn unused_stores_warn() {
    let text = format!(
        "{BASE}{TABLE}[databases.db]\nengine = \"mysql\"\n[file_systems.f]\n\
         [secrets.g]\ngenerate = {{}}\n[secrets.e]\nexisting = \"x\"\n"
    );
    let w = warns(&text);
    let keys: Vec<&str> = w.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "tables.music",
            "databases.db",
            "file_systems.f",
            "secrets.e",
            "secrets.g"
        ],
        "{w:#?}"
    );
    assert!(w[0].message.contains(
        "table `music` is not used by any service (ecsdeploy still creates it, but nothing \
         reaches it); add { table = \"music\" } to the `uses` of the service"
    ));
    assert!(w[3].message.contains("so this entry has no effect"));
    assert_eq!((w[0].line, w[0].col), (3, 9));
}

#[test]
fn deletion_protection_off_warns() {
    let w = one_warning(
        &table("deletion_protection = false\n"),
        "tables.music.deletion_protection",
        "table `music` has deletion_protection = false: AWS will not refuse to delete it, so `ecsdeploy down --delete-data`",
    );
    assert_eq!(w.line, 8);
    one_warning(
        &db("deletion_protection = false\n"),
        "databases.db.deletion_protection",
        "database `db` has deletion_protection = false",
    );
}

#[test]
fn secret_looking_environment_values_warn() {
    let w = warns(&with(
        "environment = { A = \"AKIAIOSFODNN7EXAMPLE\", B = \"postgres://app:hunter2@db:5432/x\", \
         C = \"Xk9pQ2vL7mN3rT8wY1bC4dF6hJ0sG5aE/zU+iO2q\", D = \"info\", \
         E = \"https://example.com/path\", F = \"3f786850e387550fdab836ed7e6dc881de23001b\", \
         G = \"ThisIsAVeryLongConfigurationValue1\", DB_PASSWORD = \"AKIAIOSFODNN7EXAMPLE\" }\n\
         [[services.web.sidecars]]\nname = \"agent\"\nimage = \"x\"\n\
         environment = { K = \"-----BEGIN RSA PRIVATE KEY-----\\nMIIE\" }\n",
        "",
    ));
    let got: Vec<(&str, bool)> = w
        .iter()
        .map(|d| (d.key.as_str(), d.message.contains("the value of")))
        .collect();
    assert_eq!(
        got,
        [
            ("services.web.environment.DB_PASSWORD", false),
            ("services.web.environment.A", true),
            ("services.web.environment.B", true),
            ("services.web.environment.C", true),
            ("services.web.sidecars[0].environment.K", true),
        ],
        "{w:#?}"
    );
    assert!(w[1].message.contains("looks like an AWS access key id"));
    assert!(w[2]
        .message
        .contains("looks like a URL with a password in it"));
    assert!(w[3].message.contains("looks like a random token"));
    assert!(w[4].message.contains("a PEM private key"));
}

#[test]
fn private_users_without_nat_need_the_endpoints() {
    let base = "app = \"demo\"\n[network]\nendpoints = [\"ecr.api\", \"ecr.dkr\", \"logs\", \"s3\"]\n\
                [services.web]\nimage = \"x.dkr.ecr.ap-northeast-1.amazonaws.com/web:1\"\nports = [80]\n\
                subnets = \"private\"\nuses = [{ table = \"t\" }, { secret = \"k\" }]\n\
                [tables.t]\nhash_key = { name = \"id\" }\n[secrets.k]\ngenerate = {}\n";
    let w: Vec<String> = warns(base).iter().map(|d| d.message.clone()).collect();
    assert!(
        w.iter().any(|m| m.contains("VPC endpoint `dynamodb`")),
        "{w:#?}"
    );
    assert!(
        w.iter()
            .any(|m| m.contains("VPC endpoint `secretsmanager`")),
        "{w:#?}"
    );
    let with = base.replace("\"s3\"]", "\"s3\", \"dynamodb\", \"secretsmanager\"]");
    let w: Vec<String> = warns(&with).iter().map(|d| d.message.clone()).collect();
    assert!(w.iter().all(|m| !m.contains("VPC endpoint")), "{w:#?}");
}
