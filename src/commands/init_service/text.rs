//! A small TOML writer for the generated config: sections of `key = value` lines with
//! comments, values quoted as TOML basic strings.

/// A TOML basic string: JSON's string escapes are TOML's (`\"`, `\\`, `\n`, `\uXXXX`).
pub fn q(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serialises")
}

/// A key: bare when TOML allows it, else quoted.
pub fn key(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        s.to_string()
    } else {
        q(s)
    }
}

/// `["a", "b"]`.
pub fn strings<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| q(s.as_ref())).collect();
    format!("[{}]", inner.join(", "))
}

/// A number as TOML writes it: `80`, `75.5`.
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// One `[header]` (or `[[header]]`) with its lines.
#[derive(Debug, Default, Clone)]
pub struct Section {
    /// `services.web`, or empty for the top level.
    pub header: String,
    pub array: bool,
    /// Comment lines above the header.
    pub comments: Vec<String>,
    pub lines: Vec<String>,
}

impl Section {
    pub fn new(header: &str) -> Section {
        Section {
            header: header.to_string(),
            ..Section::default()
        }
    }

    pub fn array(header: &str) -> Section {
        Section {
            header: header.to_string(),
            array: true,
            ..Section::default()
        }
    }

    pub fn comment(&mut self, text: &str) -> &mut Self {
        self.comments.push(text.to_string());
        self
    }

    /// `key = value` (value already TOML).
    pub fn set(&mut self, k: &str, value: impl Into<String>) -> &mut Self {
        self.lines.push(format!("{} = {}", key(k), value.into()));
        self
    }

    /// `key = value  # comment`.
    pub fn set_noted(&mut self, k: &str, value: impl Into<String>, note: &str) -> &mut Self {
        self.lines
            .push(format!("{} = {}  # {note}", key(k), value.into()));
        self
    }

    /// A comment line among the keys.
    pub fn note(&mut self, text: &str) -> &mut Self {
        self.lines.push(format!("# {text}"));
        self
    }

    pub fn render(&self, out: &mut String) {
        for c in &self.comments {
            out.push_str(&format!("# {c}\n"));
        }
        if !self.header.is_empty() {
            if self.array {
                out.push_str(&format!("[[{}]]\n", self.header));
            } else {
                out.push_str(&format!("[{}]\n", self.header));
            }
        }
        for l in &self.lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_is_toml() {
        assert_eq!(q("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(key("DB_HOST"), "DB_HOST");
        assert_eq!(key("a.b"), "\"a.b\"");
        assert_eq!(strings(&["x", "y"]), r#"["x", "y"]"#);
        assert_eq!(number(75.0), "75");
        assert_eq!(number(75.5), "75.5");
        let text = "k = \"a\\\"b\\u0001\"";
        let v: toml::Table = toml::from_str(text).unwrap();
        assert_eq!(v["k"].as_str(), Some("a\"b\u{1}"));
    }
}
