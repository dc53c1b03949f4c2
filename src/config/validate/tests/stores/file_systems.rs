//! `[file_systems.<key>]` and their access points.

use super::*;

#[test]
fn file_system_modes() {
    let d = one(
        &fs("performance_mode = \"general\"\n"),
        "file_systems.files.performance_mode",
        "`general` is not an EFS performance mode; use `generalPurpose` (the default) or `maxIO`",
    );
    assert_eq!((d.line, d.col), (7, 1));
    one(
        &fs("throughput_mode = \"provisioned\"\n"),
        "file_systems.files.throughput_mode",
        "`provisioned` is not a throughput mode ecsdeploy configures",
    );
    one(
        &fs("performance_mode = \"maxIO\"\nthroughput_mode = \"elastic\"\n"),
        "file_systems.files.throughput_mode",
        "cannot be combined with performance_mode = \"maxIO\"",
    );
    assert!(diags(&fs("throughput_mode = \"elastic\"\n")).is_empty());
}

#[test]
fn access_point_paths() {
    for (path, reason) in [
        ("data", "it is not absolute"),
        ("/", "it is the root of the file system"),
        ("/a/../b", "it contains `..`"),
        ("/a//b", "empty component"),
        ("/a/", "empty component"),
        ("/.hidden", "component `.hidden` starts with `.`"),
        ("/a/b/c/d/e", "it has 5 components, the maximum is 4"),
        ("/a$b", "it contains `$`"),
    ] {
        let d = one(
            &fs(&format!("access_point = {{ path = \"{path}\" }}\n")),
            "file_systems.files.access_point.path",
            reason,
        );
        assert_eq!((d.line, d.col), (7, 18), "{path}");
    }
    one(
        &fs(&format!(
            "access_point = {{ path = \"/{}\" }}\n",
            "a".repeat(100)
        )),
        "file_systems.files.access_point.path",
        "101 characters long",
    );
}

#[test]
fn access_point_permissions() {
    for bad in ["75", "12345", "789", "rwx"] {
        one(
            &fs(&format!("access_point = {{ permissions = \"{bad}\" }}\n")),
            "file_systems.files.access_point.permissions",
            &format!("permissions `{bad}` are not octal permissions"),
        );
    }
}

#[test]
fn file_system_in_an_imported_network_needs_private_subnets() {
    one(
        "app = \"demo\"\n[network.existing]\nvpc = \"vpc-1\"\npublic_subnets = [\"subnet-1\"]\n\
         [services.web]\nimage = \"nginx\"\nuses = [{ file_system = \"files\", path = \"/d\" }]\n\
         [file_systems.files]\n",
        "file_systems.files",
        "file_systems.files runs in private subnets, but network.existing.private_subnets is empty",
    );
}
