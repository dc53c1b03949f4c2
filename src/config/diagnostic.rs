//! Where a config problem is and what it says: key paths, problems found by validation or
//! the parser, and located diagnostics ready to print. Below `load` and `validate`, so
//! both use these types without importing each other.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// One segment of a key path such as `services.web.ports[1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A dotted key path. Built with [`KeyPath::root`] and the `key` / `index` helpers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }
    pub fn key(&self, k: impl Into<String>) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.into()));
        KeyPath(v)
    }
    /// At key `k` when it is written in the config (`written`), else at this table: a value
    /// ecsdeploy derives is located at the table that would hold the key.
    pub fn key_if(&self, written: bool, k: impl Into<String>) -> Self {
        if written {
            self.key(k)
        } else {
            self.clone()
        }
    }
    pub fn index(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        KeyPath(v)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// A problem found in the config, located by key path (validation) or byte span (parser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: KeyPath,
    pub message: String,
    pub span: Option<Range<usize>>,
}

impl Problem {
    pub fn at(path: KeyPath, message: impl Into<String>) -> Self {
        Problem {
            path,
            message: message.into(),
            span: None,
        }
    }
}

/// A located diagnostic, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.col)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}
