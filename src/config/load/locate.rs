//! Where a problem is in the config file: byte offsets and key paths mapped to
//! `file:line:col`, and the unknown keys serde skipped turned into located diagnostics.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::config::diagnostic::{Diagnostic, KeyPath, Problem, Seg};

pub(super) fn first_line(s: &str) -> String {
    s.trim().lines().next().unwrap_or("").to_string()
}

pub(super) fn unknown_diags(
    loc: &Locator,
    doc: &Spanned<DeTable>,
    unknown: &[String],
) -> Vec<Diagnostic> {
    unknown
        .iter()
        .map(|dotted| {
            let path = parse_ignored_path(dotted);
            let key = path.to_string();
            let name = match path.0.last() {
                Some(Seg::Key(k)) => k.clone(),
                _ => key.clone(),
            };
            loc.locate(
                doc,
                &Problem::at(
                    path,
                    format!("unknown key `{name}`; see docs/configuration.md"),
                ),
            )
        })
        .collect()
}

/// serde_ignored prints paths as `services.web.ports.1`: turn numeric segments into indexes.
fn parse_ignored_path(s: &str) -> KeyPath {
    KeyPath(
        s.split('.')
            // `?` stands for the inside of an `Option` (`services.web.image.?.tagg`).
            .filter(|seg| *seg != "?")
            .map(|seg| match seg.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Key(seg.to_string()),
            })
            .collect(),
    )
}

/// Maps byte offsets and key paths to line:col.
pub(super) struct Locator<'a> {
    text: &'a str,
    file: PathBuf,
}

impl<'a> Locator<'a> {
    pub(super) fn new(text: &'a str, file: &Path) -> Self {
        Locator {
            text,
            file: file.to_path_buf(),
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    pub(super) fn at_span(
        &self,
        span: Option<Range<usize>>,
        key: String,
        message: String,
    ) -> Diagnostic {
        let (line, col) = self.line_col(span.map_or(0, |s| s.start));
        Diagnostic {
            file: self.file.clone(),
            line,
            col,
            key,
            message,
        }
    }

    /// Locate a problem: its explicit span if it has one, else the deepest part of its key
    /// path present in the document (the key itself, or the table a missing key belongs to).
    pub(super) fn locate(&self, doc: &Spanned<DeTable>, p: &Problem) -> Diagnostic {
        let span = p.span.clone().unwrap_or_else(|| find_span(doc, &p.path.0));
        self.at_span(Some(span), p.path.to_string(), p.message.clone())
    }
}

pub(super) fn find_span(doc: &Spanned<DeTable>, path: &[Seg]) -> Range<usize> {
    let mut best = doc.span();
    let mut table: Option<&DeTable> = Some(doc.get_ref());
    let mut array: Option<&toml::de::DeArray> = None;
    for seg in path {
        let next: Option<&Spanned<DeValue>> = match seg {
            Seg::Key(k) => table.and_then(|t| {
                t.iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                    .map(|(key, v)| {
                        best = key.span();
                        v
                    })
            }),
            Seg::Index(i) => array.and_then(|a| a.get(*i)).inspect(|v| {
                best = v.span();
            }),
        };
        let Some(v) = next else { break };
        table = None;
        array = None;
        match v.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    best
}
