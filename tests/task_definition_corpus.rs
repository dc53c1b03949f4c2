//! Real-world task-definition files (tests/fixtures/task-definitions, each with its source in
//! SOURCES.md), read as `services.<key>.task_definition` reads them. The outcome of every
//! file — accepted (with how many warnings) or each error — is pinned in a snapshot, so a
//! change in what ecsdeploy accepts shows up file by file. Add files as users bring them.

use std::path::Path;

use ecsdeploy::config::native::parse;

#[test]
fn every_corpus_file_has_its_recorded_outcome() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/task-definitions");
    let sources = std::fs::read_to_string(dir.join("SOURCES.md")).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{} files", files.len());
    let mut out = String::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        assert!(sources.contains(&name), "{name} has no line in SOURCES.md");
        let text = std::fs::read_to_string(f).unwrap();
        let p = parse(&text);
        if p.errors.is_empty() {
            out.push_str(&format!(
                "{name}: accepted, {} warnings\n",
                p.warnings.len()
            ));
        } else {
            out.push_str(&format!("{name}: refused\n"));
            for e in &p.errors {
                out.push_str(&format!("  - {e}\n"));
            }
        }
    }
    insta::assert_snapshot!(out);
}
