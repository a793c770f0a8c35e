//! `automlops graph`: the DAG of every example and fixture pipeline in Mermaid and DOT
//! (snapshots, reviewed; `.ci/run` parses the Mermaid ones with Mermaid's own parser), the
//! DOT read back by layout-rs's parser, SVG drawn the same on every run, and the command line.

use std::path::PathBuf;

use automlops::compile::{Options, graph};
use automlops::emit::graph::Format;
use automlops::notebook::Notebook;

use crate::common::{fixture_notebook, fixture_options, fixtures, repo};

/// Every example notebook and fixture pipeline, with its options and a snapshot name.
fn notebooks() -> Vec<(String, Notebook, Options)> {
    let mut out = Vec::new();
    let mut examples: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    examples.sort();
    for dir in examples {
        let notebook = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "ipynb"))
            .unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name, Notebook::read(&notebook).unwrap(), Options::default()));
    }
    for path in fixtures("pipelines") {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        out.push((name, fixture_notebook(&path), fixture_options(&path)));
    }
    out
}

fn draw(notebook: &Notebook, options: &Options, format: Format) -> String {
    graph(notebook, options, format)
        .unwrap_or_else(|e| panic!("{}: {e:?}", notebook.name))
        .0
}

#[test]
fn every_pipeline_draws_in_mermaid_and_dot() {
    for (name, notebook, options) in notebooks() {
        insta::assert_snapshot!(
            format!("{name}_mermaid"),
            draw(&notebook, &options, Format::Mermaid)
        );
        insta::assert_snapshot!(
            format!("{name}_dot"),
            draw(&notebook, &options, Format::Dot)
        );
    }
}

#[test]
fn every_dot_reads_back_with_another_parser() {
    for (name, notebook, options) in notebooks() {
        let dot = draw(&notebook, &options, Format::Dot);
        let mut parser = layout::gv::DotParser::new(&dot);
        assert!(
            parser.process().is_ok(),
            "{name}: the DOT does not parse:\n{dot}"
        );
    }
}

#[test]
fn svg_is_drawn_the_same_every_time_and_names_every_task() {
    for (name, notebook, options) in notebooks().into_iter().take(9) {
        let first = draw(&notebook, &options, Format::Svg);
        assert!(
            first.contains("<svg") && first.trim_end().ends_with("</svg>"),
            "{name}"
        );
        assert_eq!(first, draw(&notebook, &options, Format::Svg), "{name}");
        let mermaid = draw(&notebook, &options, Format::Mermaid);
        // Each task's title, as Mermaid writes it, appears in the picture.
        for line in mermaid.lines().filter(|l| l.trim_start().starts_with('t')) {
            if let Some(title) = line.split('"').nth(1).and_then(|l| l.split("<br/>").next())
                && !title.contains('#')
            {
                assert!(first.contains(title), "{name}: {title} is not drawn");
            }
        }
    }
}

#[test]
fn control_flow_shows_groups_and_the_edges_into_and_out_of_them() {
    let (_, notebook, options) = notebooks()
        .into_iter()
        .find(|(name, _, _)| name == "control_flow")
        .unwrap();
    let mermaid = draw(&notebook, &options, Format::Mermaid);
    for expected in [
        "subgraph g1[\"for each lr in learning_rates, 2 at a time\"]",
        "subgraph g0[\"exit handler\"]",
        "g0 -.->|\"on exit, whatever happens\"| t0",
        "t9 -->|\"Output → items\"| g8",
        "t3 -->|\"accuracy → condition\"| g2",
        "t11 -.-> t12",
        "subgraph g6[\"Else\"]",
    ] {
        assert!(mermaid.contains(expected), "{expected} missing:\n{mermaid}");
    }
}

#[test]
fn the_command_draws_and_refuses_broken_notebooks() {
    let bin = env!("CARGO_BIN_EXE_automlops");
    let out = std::process::Command::new(bin)
        .args(["graph", "--format", "dot"])
        .arg(repo().join("examples/training_kfp/training.ipynb"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("digraph \"training-pipeline\""));
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.ipynb");
    std::fs::write(&broken, crate::common::percent_to_ipynb("# %%\nx = (\n")).unwrap();
    let out = std::process::Command::new(bin)
        .arg("graph")
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was drawn"));
    assert!(out.stdout.is_empty());
}
