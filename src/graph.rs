//! Dependency graphs (pure): topological order, cycle detection, and rollout levels.

use std::collections::{BTreeMap, BTreeSet};

/// A directed acyclic graph given as node → the nodes it depends on.
#[derive(Debug, Clone)]
pub struct Dag<K: Ord + Clone> {
    deps: BTreeMap<K, BTreeSet<K>>,
}

impl<K: Ord + Clone + std::fmt::Debug> Dag<K> {
    /// Build from (node, deps). Dependencies on nodes that are not in the graph are dropped:
    /// they are resources with nothing to do, already satisfied.
    pub fn new(nodes: impl IntoIterator<Item = (K, Vec<K>)>) -> Self {
        let raw: Vec<(K, Vec<K>)> = nodes.into_iter().collect();
        let keys: BTreeSet<K> = raw.iter().map(|(k, _)| k.clone()).collect();
        let deps = raw
            .into_iter()
            .map(|(k, d)| {
                let d = d
                    .into_iter()
                    .filter(|x| keys.contains(x) && *x != k)
                    .collect();
                (k, d)
            })
            .collect();
        Dag { deps }
    }

    pub fn deps(&self, k: &K) -> impl Iterator<Item = &K> {
        self.deps.get(k).into_iter().flatten()
    }

    pub fn nodes(&self) -> impl Iterator<Item = &K> {
        self.deps.keys()
    }

    pub fn len(&self) -> usize {
        self.deps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.deps.is_empty()
    }

    /// Nodes grouped by depth: level 0 has no dependencies, level n depends only on lower
    /// levels. Nodes of one level can run at the same time. `Err` names a cycle.
    pub fn levels(&self) -> Result<Vec<Vec<K>>, Vec<K>> {
        let mut done: BTreeSet<K> = BTreeSet::new();
        let mut levels = Vec::new();
        while done.len() < self.deps.len() {
            let ready: Vec<K> = self
                .deps
                .iter()
                .filter(|(k, d)| !done.contains(*k) && d.iter().all(|x| done.contains(x)))
                .map(|(k, _)| k.clone())
                .collect();
            if ready.is_empty() {
                return Err(self.find_cycle(&done));
            }
            done.extend(ready.iter().cloned());
            levels.push(ready);
        }
        Ok(levels)
    }

    /// Topological order (dependencies first).
    pub fn topo(&self) -> Result<Vec<K>, Vec<K>> {
        Ok(self.levels()?.into_iter().flatten().collect())
    }

    /// Length of the longest dependency chain, in nodes (the critical path).
    pub fn depth(&self) -> usize {
        self.levels().map(|l| l.len()).unwrap_or(0)
    }

    fn find_cycle(&self, done: &BTreeSet<K>) -> Vec<K> {
        // Walk unfinished dependencies from any unfinished node until a node repeats.
        let start = self.deps.keys().find(|k| !done.contains(*k)).cloned();
        let mut path: Vec<K> = Vec::new();
        let mut cur = start;
        while let Some(k) = cur {
            if let Some(pos) = path.iter().position(|p| *p == k) {
                let mut cycle = path.split_off(pos);
                cycle.push(k);
                return cycle;
            }
            path.push(k.clone());
            cur = self.deps(&k).find(|d| !done.contains(*d)).cloned();
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_group_independent_nodes() {
        let g = Dag::new(vec![
            ("vpc", vec![]),
            ("subnet", vec!["vpc"]),
            ("repo", vec![]),
            ("service", vec!["subnet", "repo"]),
        ]);
        let levels = g.levels().unwrap();
        assert_eq!(
            levels,
            vec![vec!["repo", "vpc"], vec!["subnet"], vec!["service"]]
        );
        assert_eq!(g.depth(), 3);
    }

    #[test]
    fn missing_deps_are_satisfied() {
        let g = Dag::new(vec![("service", vec!["cluster-that-needs-nothing"])]);
        assert_eq!(g.topo().unwrap(), vec!["service"]);
    }

    #[test]
    fn cycle_is_named() {
        let g = Dag::new(vec![
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a"]),
            ("d", vec![]),
        ]);
        let cycle = g.levels().unwrap_err();
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4, "{cycle:?}");
    }
}
