//! The graph in Graphviz DOT: groups are clusters, `.after` edges dashed, each kind of task
//! filled with its own colour. [`render_flat`] writes the same graph without clusters, each
//! node naming its groups instead, for renderers that do not draw clusters.

use std::fmt::Write as _;

use super::{Cluster, Graph, Kind, Member, node_lines};

/// Text inside a quoted DOT string.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn fill(kind: Kind) -> &'static str {
    match kind {
        Kind::Component => "white",
        Kind::Prebuilt => "lightblue",
        Kind::Importer => "lightyellow",
        Kind::Container => "lightgray",
        Kind::CustomJob => "lavender",
    }
}

fn header(graph: &Graph) -> String {
    format!(
        "digraph \"{}\" {{\n    rankdir=TB;\n    compound=true;\n    node [shape=box, style=filled, fontsize=14];\n    edge [fontsize=14];\n",
        escape(&graph.name)
    )
}

fn node(graph: &Graph, task: usize, groups: &[&str], indent: &str, out: &mut String) {
    let node = &graph.tasks[task];
    let mut lines = node_lines(node);
    lines.extend(groups.iter().map(|g| format!("[{g}]")));
    let label = lines
        .iter()
        .map(|l| escape(l))
        .collect::<Vec<_>>()
        .join("\\n");
    let _ = writeln!(
        out,
        "{indent}{} [label=\"{label}\", fillcolor=\"{}\"];",
        node.id,
        fill(node.kind)
    );
}

fn edges(graph: &Graph, out: &mut String) {
    for edge in &graph.edges {
        let (from, to) = (&graph.tasks[edge.from].id, &graph.tasks[edge.to].id);
        if edge.after {
            let _ = writeln!(out, "    {from} -> {to} [style=dashed];");
        } else {
            let _ = writeln!(
                out,
                "    {from} -> {to} [label=\"{}\"];",
                escape(&edge.label)
            );
        }
    }
    for (task, group, label) in &graph.into_groups {
        if let Some(first) = graph.first_task_of(group) {
            let _ = writeln!(
                out,
                "    {} -> {} [lhead=cluster_{group}, label=\"{}\"];",
                graph.tasks[*task].id,
                graph.tasks[first].id,
                escape(label)
            );
        }
    }
    for (group, task) in &graph.exits {
        if let Some(first) = graph.first_task_of(group) {
            let _ = writeln!(
                out,
                "    {} -> {} [style=dashed, ltail=cluster_{group}, label=\"on exit, whatever happens\"];",
                graph.tasks[first].id, graph.tasks[*task].id
            );
        }
    }
}

pub(super) fn render(graph: &Graph) -> String {
    let mut out = header(graph);
    clustered(graph, &graph.body, 1, &mut out);
    edges(graph, &mut out);
    out.push_str("}\n");
    out
}

fn clustered(graph: &Graph, members: &[Member], depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    for member in members {
        match member {
            Member::Task(task) => node(graph, *task, &[], &indent, out),
            Member::Cluster(Cluster { id, title, body }) => {
                let _ = writeln!(
                    out,
                    "{indent}subgraph cluster_{id} {{\n{indent}    label=\"{}\";\n{indent}    style=rounded;",
                    escape(title)
                );
                clustered(graph, body, depth + 1, out);
                let _ = writeln!(out, "{indent}}}");
            }
        }
    }
}

/// The graph without clusters: each task lists its groups, outermost first.
pub(super) fn render_flat(graph: &Graph) -> String {
    let mut out = header(graph);
    flat(graph, &graph.body, &mut Vec::new(), &mut out);
    edges(graph, &mut out);
    out.push_str("}\n");
    out
}

fn flat<'g>(graph: &'g Graph, members: &'g [Member], groups: &mut Vec<&'g str>, out: &mut String) {
    for member in members {
        match member {
            Member::Task(task) => node(graph, *task, groups, "    ", out),
            Member::Cluster(Cluster { title, body, .. }) => {
                groups.push(title);
                flat(graph, body, groups, out);
                groups.pop();
            }
        }
    }
}
