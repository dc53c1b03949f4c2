//! `plan --graph`: the dependency graph of a plan's changes as Mermaid or Graphviz DOT,
//! each step labelled with its action and typical AWS duration, the critical chain
//! ([`super::estimate`]) drawn thick and red. Edges point from a step to the steps that
//! wait for it (the order things happen). Pure.

use std::collections::BTreeSet;

use super::estimate::{about, short, Estimate};
use super::Plan;
use crate::desired::ResourceId;

/// The diagram formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
}

const CRITICAL: &str = "#d62728";

/// A step and its label.
type Node = (ResourceId, String);
/// From a step to one that waits for it.
type Edge = (ResourceId, ResourceId);

/// Nodes (in plan order) and edges (dependency → dependent) of the plan's graph.
fn shape(plan: &Plan) -> (Vec<Node>, Vec<Edge>) {
    let nodes: Vec<(ResourceId, String)> = plan
        .pending()
        .filter(|c| plan.graph.nodes().any(|n| *n == c.id))
        .map(|c| {
            let d = plan.typical(c);
            (
                c.id.clone(),
                format!("{} {} ~{}", c.action.verb(), c.id, short(d)),
            )
        })
        .collect();
    let edges = nodes
        .iter()
        .flat_map(|(id, _)| plan.graph.deps(id).map(move |d| (d.clone(), id.clone())))
        .collect();
    (nodes, edges)
}

/// The critical chain's steps and its consecutive pairs.
fn critical(e: &Estimate) -> (BTreeSet<ResourceId>, BTreeSet<Edge>) {
    let nodes = e.chain.iter().map(|l| l.id.clone()).collect();
    let edges = e
        .chain
        .windows(2)
        .map(|w| (w[0].id.clone(), w[1].id.clone()))
        .collect();
    (nodes, edges)
}

/// The comment atop a diagram.
fn heading(e: &Estimate) -> String {
    if e.chain.is_empty() {
        "No changes".to_string()
    } else {
        format!(
            "Expected on AWS: {}; the critical chain is drawn red",
            about(e.total)
        )
    }
}

/// The diagram of `plan` in `format`.
pub fn render(plan: &Plan, e: &Estimate, format: Format) -> String {
    match format {
        Format::Mermaid => mermaid(plan, e),
        Format::Dot => dot(plan, e),
    }
}

fn mermaid(plan: &Plan, e: &Estimate) -> String {
    let (nodes, edges) = shape(plan);
    let (hot, hot_edges) = critical(e);
    let index = |id: &ResourceId| nodes.iter().position(|(n, _)| n == id).unwrap_or(0);
    let mut out = format!("%% {}\nflowchart LR\n", heading(e));
    for (i, (_, label)) in nodes.iter().enumerate() {
        out.push_str(&format!("  n{i}[\"{label}\"]\n"));
    }
    let mut hot_links = Vec::new();
    for (k, (from, to)) in edges.iter().enumerate() {
        out.push_str(&format!("  n{} --> n{}\n", index(from), index(to)));
        if hot_edges.contains(&(from.clone(), to.clone())) {
            hot_links.push(k.to_string());
        }
    }
    let hot_nodes: Vec<String> = nodes
        .iter()
        .enumerate()
        .filter(|(_, (id, _))| hot.contains(id))
        .map(|(i, _)| format!("n{i}"))
        .collect();
    if !hot_nodes.is_empty() {
        out.push_str(&format!(
            "  classDef critical stroke:{CRITICAL},stroke-width:3px\n  class {} critical\n",
            hot_nodes.join(",")
        ));
    }
    if !hot_links.is_empty() {
        out.push_str(&format!(
            "  linkStyle {} stroke:{CRITICAL},stroke-width:3px\n",
            hot_links.join(",")
        ));
    }
    out
}

fn dot(plan: &Plan, e: &Estimate) -> String {
    let (nodes, edges) = shape(plan);
    let (hot, hot_edges) = critical(e);
    let style = |on: bool| {
        if on {
            format!(", color=\"{CRITICAL}\", penwidth=3")
        } else {
            String::new()
        }
    };
    let mut out = format!(
        "// {}\ndigraph plan {{\n  rankdir=LR;\n  node [shape=box];\n",
        heading(e)
    );
    for (id, label) in &nodes {
        out.push_str(&format!(
            "  \"{id}\" [label=\"{label}\"{}];\n",
            style(hot.contains(id))
        ));
    }
    for (from, to) in &edges {
        let on = hot_edges.contains(&(from.clone(), to.clone()));
        let attrs = style(on);
        let attrs = attrs.trim_start_matches(", ");
        if attrs.is_empty() {
            out.push_str(&format!("  \"{from}\" -> \"{to}\";\n"));
        } else {
            out.push_str(&format!("  \"{from}\" -> \"{to}\" [{attrs}];\n"));
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::estimate::estimate;
    use crate::plan::fixtures::example;
    use crate::plan::plan_up;

    fn fresh(file: &str) -> (Plan, Estimate) {
        let plan = plan_up(&example(file), &BTreeMap::new());
        let e = estimate(&plan);
        (plan, e)
    }

    #[test]
    fn mermaid_has_a_box_per_change_an_arrow_per_dependency_and_the_chain_in_red() {
        let (plan, e) = fresh("fargate-public.toml");
        let out = render(&plan, &e, Format::Mermaid);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[..2],
            [
                "%% Expected on AWS: about 75 s; the critical chain is drawn red",
                "flowchart LR"
            ]
        );
        let boxes: Vec<&&str> = lines.iter().filter(|l| l.contains("[\"")).collect();
        assert_eq!(boxes.len(), plan.graph.len());
        assert!(boxes.contains(&&"  n0[\"create vpc.main ~3s\"]"), "{out}");
        let arrows = lines.iter().filter(|l| l.contains(" --> ")).count();
        let deps: usize = plan.graph.nodes().map(|n| plan.graph.deps(n).count()).sum();
        assert_eq!(arrows, deps);
        // The chain: cluster (its propagation windows) → service1.
        let class = lines
            .iter()
            .find(|l| l.starts_with("  class "))
            .expect("critical class");
        assert_eq!(
            class.trim_start().split(',').count(),
            e.chain.len(),
            "{out}"
        );
        let links = lines
            .iter()
            .find(|l| l.starts_with("  linkStyle "))
            .expect("critical links");
        let hot = links.split_whitespace().nth(1).unwrap().split(',').count();
        assert_eq!(hot, e.chain.len() - 1, "{out}");
    }

    #[test]
    fn dot_marks_the_chain_and_nothing_else() {
        let (plan, e) = fresh("wordpress.toml");
        let out = render(&plan, &e, Format::Dot);
        assert!(out.starts_with("// Expected on AWS: about 11 min"), "{out}");
        assert!(out.contains("digraph plan {\n  rankdir=LR;\n"), "{out}");
        assert!(out.ends_with("}\n"));
        assert!(
            out.contains(
                "  \"db_instance.db\" [label=\"create db_instance.db ~10m\", \
                 color=\"#d62728\", penwidth=3];"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "  \"db_instance.db\" -> \"task_definition.web\" [color=\"#d62728\", \
                 penwidth=3];"
            ),
            "{out}"
        );
        let red_nodes = out
            .lines()
            .filter(|l| !l.contains("->") && l.contains("penwidth"))
            .count();
        let red_edges = out
            .lines()
            .filter(|l| l.contains("->") && l.contains("penwidth"))
            .count();
        assert_eq!((red_nodes, red_edges), (e.chain.len(), e.chain.len() - 1));
    }

    #[test]
    fn nothing_to_do_is_an_empty_graph() {
        let d = example("fargate-public.toml");
        let plan = plan_up(&d, &crate::plan::fixtures::converged(&d));
        let out = render(&plan, &estimate(&plan), Format::Mermaid);
        assert_eq!(out, "%% No changes\nflowchart LR\n");
    }
}
