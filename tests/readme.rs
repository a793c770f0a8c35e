//! The README's notebook example must compile: its `python` code blocks under "## Notebook
//! syntax" are the cells of a notebook.

use automlops::compile::{Options, compile};
use automlops::notebook::Notebook;

use crate::common::repo;

fn blocks_after(readme: &str, heading: &str) -> Vec<String> {
    let section = readme
        .split(heading)
        .nth(1)
        .expect("README section missing");
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in section.lines() {
        if current.is_none() && line.starts_with('#') {
            break;
        }
        match line.trim_end() {
            "```python" if current.is_none() => current = Some(Vec::new()),
            "```" => {
                if let Some(lines) = current.take() {
                    blocks.push(lines.join("\n"));
                }
            }
            _ => {
                if let Some(lines) = &mut current {
                    lines.push(line);
                }
            }
        }
    }
    blocks
}

#[test]
fn readme_notebook_examples_compile() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for heading in ["### Custom syntax", "### Kubeflow syntax"] {
        let cells = blocks_after(&readme, heading);
        assert!(cells.len() >= 3, "{heading}: too few cells");
        let notebook = Notebook::from_code_cells("readme.ipynb", &cells);
        if let Err(error) = compile(&notebook, &Options::default()) {
            panic!("{heading} does not compile: {error:?}");
        }
    }
}

#[test]
fn readme_gives_the_two_setup_commands() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains("cargo run --release -- compile examples/training_custom/training.ipynb")
    );
    // Both in the release profile: the second reuses the first one's build.
    assert!(readme.contains("cargo test --locked --release"));
}
