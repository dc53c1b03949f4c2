//! A TOML table being written, with the manifest place each key comes from (written as a
//! comment beside the key).

use std::collections::BTreeMap;

use toml::{Table, Value};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Out {
    pub table: Table,
    /// Dotted key path → `file:line field`.
    pub sources: BTreeMap<String, String>,
}

impl Out {
    /// Set the value at the dotted `path`, creating the tables on the way.
    pub fn put(&mut self, path: &str, value: impl Into<Value>, src: Option<String>) {
        let parts: Vec<&str> = path.split('.').collect();
        let mut t = &mut self.table;
        for p in &parts[..parts.len() - 1] {
            t = t
                .entry(p.to_string())
                .or_insert_with(|| Value::Table(Table::new()))
                .as_table_mut()
                .expect("a table on the way");
        }
        t.insert(parts[parts.len() - 1].to_string(), value.into());
        if let Some(src) = src {
            self.sources.insert(path.to_string(), src);
        }
    }

    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut v: Option<&Value> = None;
        let mut t = &self.table;
        for p in path.split('.') {
            v = t.get(p);
            if let Some(Value::Table(inner)) = v {
                t = inner;
            }
        }
        v
    }

    /// Push a table onto the array at `path`.
    pub fn push(&mut self, path: &str, value: Table, src: Option<String>) {
        let n = match self.get(path) {
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        };
        if n == 0 {
            self.put(path, Value::Array(Vec::new()), None);
        }
        let parts: Vec<&str> = path.split('.').collect();
        let mut t = &mut self.table;
        for p in &parts[..parts.len() - 1] {
            t = t
                .get_mut(*p)
                .and_then(Value::as_table_mut)
                .expect("made above");
        }
        if let Some(Value::Array(a)) = t.get_mut(parts[parts.len() - 1]) {
            a.push(Value::Table(value));
        }
        if let Some(src) = src {
            self.sources.insert(format!("{path}[{n}]"), src);
        }
    }

    /// Everything of `other` under `prefix`.
    pub fn nest(&mut self, prefix: &str, other: Out) {
        for (k, v) in other.table {
            self.put(&format!("{prefix}.{k}"), v, None);
        }
        for (k, s) in other.sources {
            self.sources.insert(format!("{prefix}.{k}"), s);
        }
    }
}

/// What `[environments.<name>]` must say for `base` to become `full`: tables merge key by
/// key, arrays and values replace. The second list names the keys `full` lacks, which an
/// environment cannot remove.
pub fn diff(base: &Table, full: &Table, prefix: &str) -> (Table, Vec<String>) {
    let mut out = Table::new();
    let mut removed = Vec::new();
    for (k, v) in full {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (base.get(k), v) {
            (Some(Value::Table(b)), Value::Table(f)) => {
                let (d, r) = diff(b, f, &path);
                removed.extend(r);
                if !d.is_empty() {
                    out.insert(k.clone(), Value::Table(d));
                }
            }
            (Some(b), f) if b == f => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    for k in base.keys() {
        if !full.contains_key(k) {
            removed.push(if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            });
        }
    }
    (out, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_and_push_make_the_tables() {
        let mut o = Out::default();
        o.put("services.web.cpu", 256, Some("m:1 cpu".into()));
        let mut t = Table::new();
        t.insert("port".into(), 80.into());
        o.push("load_balancer.listeners", t.clone(), Some("x".into()));
        o.push("load_balancer.listeners", t, None);
        assert_eq!(o.get("services.web.cpu"), Some(&Value::Integer(256)));
        assert_eq!(
            o.get("load_balancer.listeners")
                .and_then(Value::as_array)
                .map(Vec::len),
            Some(2)
        );
        assert_eq!(o.sources["load_balancer.listeners[0]"], "x");
    }

    #[test]
    fn diff_keeps_what_changes_and_names_what_goes() {
        let base: Table = toml::from_str("a = 1\n[s]\nx = 1\ny = [1]\nz = 2\n").unwrap();
        let full: Table = toml::from_str("a = 1\nb = 2\n[s]\nx = 1\ny = [2]\n").unwrap();
        let (d, removed) = diff(&base, &full, "");
        assert_eq!(toml::to_string(&d).unwrap(), "b = 2\n\n[s]\ny = [2]\n");
        assert_eq!(removed, ["s.z"]);
    }
}
