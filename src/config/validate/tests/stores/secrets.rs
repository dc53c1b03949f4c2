//! `[secrets.<key>]`: generated and existing secrets.

use super::*;

#[test]
fn generate_or_existing() {
    let d = one(
        &secret("description = \"x\"\n"),
        "secrets.token",
        "a secret needs `generate` (ecsdeploy creates it with a random value) or `existing`",
    );
    assert_eq!((d.line, d.col), (6, 10));
    one(
        &secret("generate = {}\nexisting = \"prod/token\"\n"),
        "secrets.token.existing",
        "`generate` and `existing` are mutually exclusive",
    );
}

#[test]
fn name_and_description_only_with_generate() {
    one(
        &secret("existing = \"prod/token\"\nname = \"x\"\n"),
        "secrets.token.name",
        "name only applies to a generated secret",
    );
    one(
        &secret("existing = \"prod/token\"\ndescription = \"x\"\n"),
        "secrets.token.description",
        "description only applies to a generated secret",
    );
}

#[test]
fn secret_names() {
    one(
        &secret("generate = {}\nname = \"a b\"\n"),
        "secrets.token.name",
        "`a b` is not a valid secret name (it contains ` `)",
    );
    one(
        &secret(&format!(
            "generate = {{}}\nname = \"{}\"\n",
            "a".repeat(513)
        )),
        "secrets.token.name",
        "it is 513 characters long, the maximum is 512",
    );
    one(
        &with(
            "uses = [{ secret = \"a\" }, { secret = \"b\" }]\n",
            "[secrets.a]\ngenerate = {}\n[secrets.b]\ngenerate = {}\nname = \"demo/a\"\n",
        ),
        "secrets.b.name",
        "secret name `demo/a` is also the name of secrets.a",
    );
    // A database's master password is a generated secret too (`<app>/databases/<key>`).
    one(
        &with(
            "uses = [{ secret = \"a\" }, { database = \"db\" }]\n",
            "[databases.db]\nengine = \"mysql\"\n\
             [secrets.a]\ngenerate = {}\nname = \"demo/databases/db\"\n",
        ),
        "secrets.a.name",
        "secret name `demo/databases/db` is the name of the secret that holds databases.db's",
    );
}

#[test]
fn secret_name_with_an_arn_like_suffix_warns() {
    one_warning(
        &secret("generate = {}\nname = \"prod/db-passwd\"\n"),
        "secrets.token.name",
        "secret name `prod/db-passwd` ends with a hyphen and six characters",
    );
    // The derived name too (`demo/db-secret`).
    one_warning(
        &with(
            "uses = [{ secret = \"db-secret\" }]\n",
            "[secrets.db-secret]\ngenerate = {}\n",
        ),
        "secrets.db-secret",
        "`demo/db-secret` ends with a hyphen",
    );
    assert!(warns(&secret("generate = {}\nname = \"prod/db-pass\"\n")).is_empty());
}

#[test]
fn generate_length() {
    one(
        &secret("generate = { length = 0 }\n"),
        "secrets.token.generate.length",
        "length is 0; it must be 1 to 4096",
    );
    one(
        &secret("generate = { length = 4097 }\n"),
        "secrets.token.generate.length",
        "length is 4097",
    );
    one(
        &secret("generate = { length = 3 }\n"),
        "secrets.token.generate.length",
        "too short to hold one character of each of the 4 included types",
    );
    assert!(diags(&secret(
        "generate = { length = 3, require_each_included_type = false }\n"
    ))
    .is_empty());
}

#[test]
fn not_every_character_excluded() {
    let d = one(
        &secret(
            "generate = { exclude_lowercase = true, exclude_uppercase = true, \
             exclude_numbers = true, exclude_punctuation = true }\n",
        ),
        "secrets.token.generate",
        "every character is excluded",
    );
    assert_eq!((d.line, d.col), (7, 1));
    one(
        &secret(
            "generate = { exclude_lowercase = true, exclude_uppercase = true, \
             exclude_punctuation = true, exclude_characters = \"0123456789\" }\n",
        ),
        "secrets.token.generate",
        "every character is excluded",
    );
    // A space is a character.
    assert!(diags(&secret(
        "generate = { exclude_lowercase = true, exclude_uppercase = true, \
         exclude_numbers = true, exclude_punctuation = true, include_space = true }\n",
    ))
    .is_empty());
    one(
        &secret("generate = { exclude_characters = \"0123456789\" }\n"),
        "secrets.token.generate.exclude_characters",
        "exclude_characters removes all digits, but require_each_included_type asks for at least one",
    );
}

#[test]
fn existing_secrets() {
    one(
        &secret("existing = \" \"\n"),
        "secrets.token.existing",
        "existing is empty",
    );
    one(
        &secret("existing = \"arn:aws:secretsmanager:ap-northeast-1:123:secret:x\"\n"),
        "secrets.token.existing",
        "is not a Secrets Manager secret ARN (`123` is not a 12-digit account id)",
    );
    one(
        &secret("existing = \"arn:aws:ssm:ap-northeast-1:123456789012:parameter/x\"\n"),
        "secrets.token.existing",
        "the service is `ssm`, not `secretsmanager`",
    );
    one(
        &secret("existing = \"my secret\"\n"),
        "secrets.token.existing",
        "`my secret` is neither a secret ARN nor a secret name (it contains ` `)",
    );
    assert!(diags(&secret("existing = \"prod/api_key+x=y.z@w-1\"\n")).is_empty());
}
