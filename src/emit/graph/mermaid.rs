//! The graph in Mermaid's flowchart syntax: groups are subgraphs, `.after` edges dotted,
//! prebuilt components drawn as subroutines, importers as parallelograms, container components
//! as hexagons. Every label is quoted, with Mermaid's entity codes for the characters that
//! would end or change it.

use std::fmt::Write as _;

use super::{Cluster, Graph, Kind, Member, node_lines};

/// Text inside a quoted Mermaid label.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(graph: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    write_members(graph, &graph.body, 1, &mut out);
    for edge in &graph.edges {
        let (from, to) = (&graph.tasks[edge.from].id, &graph.tasks[edge.to].id);
        if edge.after {
            let _ = writeln!(out, "    {from} -.-> {to}");
        } else {
            let _ = writeln!(out, "    {from} -->|\"{}\"| {to}", escape(&edge.label));
        }
    }
    for (task, group, label) in &graph.into_groups {
        let _ = writeln!(
            out,
            "    {} -->|\"{}\"| {group}",
            graph.tasks[*task].id,
            escape(label)
        );
    }
    for (group, task) in &graph.exits {
        let _ = writeln!(
            out,
            "    {group} -.->|\"on exit, whatever happens\"| {}",
            graph.tasks[*task].id
        );
    }
    out
}

fn write_members(graph: &Graph, members: &[Member], depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    for member in members {
        match member {
            Member::Task(task) => {
                let node = &graph.tasks[*task];
                let label = node_lines(node)
                    .iter()
                    .map(|l| escape(l))
                    .collect::<Vec<_>>()
                    .join("<br/>");
                let (open, close) = match node.kind {
                    Kind::Component | Kind::CustomJob => ("[", "]"),
                    Kind::Prebuilt => ("[[", "]]"),
                    Kind::Importer => ("[/", "/]"),
                    Kind::Container => ("{{", "}}"),
                };
                let _ = writeln!(out, "{indent}{}{open}\"{label}\"{close}", node.id);
            }
            Member::Cluster(Cluster { id, title, body }) => {
                let _ = writeln!(out, "{indent}subgraph {id}[\"{}\"]", escape(title));
                write_members(graph, body, depth + 1, out);
                let _ = writeln!(out, "{indent}end");
            }
        }
    }
}
