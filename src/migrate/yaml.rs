//! YAML read into a tree whose every node knows its line and column, so that a converter
//! can name the place of each field it does not convert. Built on yaml-rust2's event
//! parser (`MarkedEventReceiver`): serde_yaml keeps no positions, and yaml-rust2's own
//! `Yaml` tree drops the markers its parser has.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One node: a value and where it starts (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Unique within one file (an alias copies the anchored node, id included).
    pub id: usize,
    pub line: usize,
    pub col: usize,
    pub value: Value,
    /// Nodes this one was merged from (see [`merge`]), which count as entered with it.
    pub merged_from: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// A scalar's text; `quoted` when it was written in quotes or as a block (never null,
    /// a number or a boolean then).
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Entries in file order: key (a scalar's text) and its key node's place, then value.
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_line: usize,
    pub key_col: usize,
    pub value: Node,
}

impl Node {
    /// The entry `key` of a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(m) => m.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// A scalar's text (not null).
    pub fn str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// An unquoted scalar's text: a quoted `"3"` or `"true"` is a string, never a number
    /// or a boolean.
    fn plain(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar {
                text,
                quoted: false,
            } => Some(text),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.plain()?.parse().ok()
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.plain()?.parse().ok()
    }

    /// A YAML 1.2 boolean (`true`/`false` in their usual spellings).
    pub fn as_bool(&self) -> Option<bool> {
        match self.plain()? {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        self.value == Value::Null
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }
}

/// A YAML syntax error, with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// The first document of `text` (`Null` for an empty file).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, false).map_err(|e| SyntaxError {
        line: e.marker().line(),
        col: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    Ok(b.root.unwrap_or(Node {
        id: 0,
        line: 1,
        col: 1,
        value: Value::Null,
        merged_from: Vec::new(),
    }))
}

/// `over` applied on `base` as Copilot applies an `environments.<name>` block: mappings
/// merge key by key, anything else replaces; a null override changes nothing. The merged
/// mapping carries the override's id and remembers the base's.
pub fn merge(base: &Node, over: &Node) -> Node {
    match (&base.value, &over.value) {
        (_, Value::Null) => base.clone(),
        (Value::Map(b), Value::Map(o)) => {
            let mut entries = b.clone();
            for e in o {
                match entries.iter_mut().find(|x| x.key == e.key) {
                    Some(x) => {
                        x.value = merge(&x.value, &e.value);
                        x.key_line = e.key_line;
                        x.key_col = e.key_col;
                    }
                    None => entries.push(e.clone()),
                }
            }
            let mut merged_from = over.merged_from.clone();
            merged_from.push(base.id);
            merged_from.extend(base.merged_from.iter().copied());
            Node {
                id: over.id,
                line: over.line,
                col: over.col,
                value: Value::Map(entries),
                merged_from,
            }
        }
        _ => over.clone(),
    }
}

enum Open {
    Seq(Node),
    /// A mapping and the key waiting for its value.
    Map(Node, Option<(String, usize, usize)>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Open, usize)>,
    anchors: std::collections::HashMap<usize, Node>,
    root: Option<Node>,
    next_id: usize,
}

impl Builder {
    fn node(&mut self, mark: Marker, value: Value) -> Node {
        self.next_id += 1;
        Node {
            id: self.next_id,
            line: mark.line(),
            col: mark.col() + 1,
            value,
            merged_from: Vec::new(),
        }
    }

    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some((Open::Seq(s), _)) => {
                if let Value::Seq(items) = &mut s.value {
                    items.push(node);
                }
            }
            Some((Open::Map(m, pending), _)) => match pending.take() {
                None => {
                    let key = match &node.value {
                        Value::Scalar { text, .. } => text.clone(),
                        Value::Null => String::new(),
                        _ => format!("<complex key at line {}>", node.line),
                    };
                    *pending = Some((key, node.line, node.col));
                }
                Some((key, key_line, key_col)) => {
                    if let Value::Map(entries) = &mut m.value {
                        entries.push(Entry {
                            key,
                            key_line,
                            key_col,
                            value: node,
                        });
                    }
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let quoted = style != TScalarStyle::Plain;
                let value =
                    if !quoted && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
                        Value::Null
                    } else {
                        Value::Scalar { text, quoted }
                    };
                let n = self.node(mark, value);
                self.push_value(n, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                let n = self.node(mark, Value::Seq(Vec::new()));
                self.stack.push((Open::Seq(n), anchor));
            }
            Event::MappingStart(anchor, _) => {
                let n = self.node(mark, Value::Map(Vec::new()));
                self.stack.push((Open::Map(n, None), anchor));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((open, anchor)) = self.stack.pop() {
                    let n = match open {
                        Open::Seq(n) | Open::Map(n, _) => n,
                    };
                    self.push_value(n, anchor);
                }
            }
            Event::Alias(anchor) => {
                let n = self.anchors.get(&anchor).cloned().unwrap_or_else(|| Node {
                    id: 0,
                    line: mark.line(),
                    col: mark.col() + 1,
                    value: Value::Null,
                    merged_from: Vec::new(),
                });
                self.push_value(n, 0);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_lines_and_columns() {
        let doc = parse("name: web\nhttp:\n  path: '/'\n  alias: [a, b]\ncount: 2\n").unwrap();
        let http = doc.entry("http").unwrap();
        assert_eq!((http.key_line, http.key_col), (2, 1));
        let path = http.value.entry("path").unwrap();
        assert_eq!((path.key_line, path.key_col), (3, 3));
        assert_eq!(path.value.str(), Some("/"));
        assert_eq!(http.value.get("alias").unwrap().items()[1].line, 4);
        assert_eq!(doc.get("count").unwrap().as_u64(), Some(2));
    }

    #[test]
    fn quoted_scalars_are_not_numbers_and_empty_is_null() {
        let doc = parse("a: '2'\nb:\nc: true\n").unwrap();
        assert_eq!(doc.get("a").unwrap().as_u64(), None);
        assert!(doc.get("b").unwrap().is_null());
        assert_eq!(doc.get("c").unwrap().as_bool(), Some(true));
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let e = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(e.line >= 1, "{e:?}");
    }

    #[test]
    fn merge_replaces_values_and_merges_maps() {
        let base = parse("count: 1\nhttp:\n  path: /\n  healthcheck: /h\n").unwrap();
        let over = parse("count: 3\nhttp:\n  path: api\n").unwrap();
        let m = merge(&base, &over);
        assert_eq!(m.get("count").unwrap().line, 1);
        assert_eq!(m.get("count").unwrap().as_u64(), Some(3));
        let http = m.get("http").unwrap();
        assert_eq!(http.get("path").unwrap().str(), Some("api"));
        assert_eq!(http.get("healthcheck").unwrap().str(), Some("/h"));
        assert!(http.merged_from.contains(&base.get("http").unwrap().id));
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        let doc = parse("a: &x\n  k: v\nb: *x\n").unwrap();
        assert_eq!(doc.get("b").unwrap().get("k").unwrap().str(), Some("v"));
    }
}
