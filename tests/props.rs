//! Properties: the front ends never panic, spans fall on character boundaries, compiling is
//! deterministic, and every task comes after the tasks it depends on.

use automlops::compile::{CompileError, Options, compile};
use automlops::notebook::Notebook;
use proptest::prelude::*;

use crate::common::repo;

fn example_cells(name: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(repo().join("examples").join(name).join("training.ipynb")).unwrap();
    let notebook = Notebook::parse("n.ipynb", &text).unwrap();
    notebook.cells.into_iter().map(|c| c.source).collect()
}

fn check_spans(notebook: &Notebook, options: &Options) {
    let diagnostics = match compile(notebook, options) {
        Ok(compiled) => {
            let problems = automlops::emit::verify(&compiled.artifacts);
            assert!(problems.is_empty(), "{problems:?}");
            compiled.warnings
        }
        Err(CompileError::Notebook(diagnostics)) => diagnostics,
        Err(CompileError::Emit(error)) => panic!("{error}"),
    };
    for diagnostic in diagnostics {
        if let Some(span) = diagnostic.span {
            let source = &notebook.cells[span.cell].source;
            assert!(
                span.start <= span.end && span.end <= source.len(),
                "{diagnostic:?}"
            );
            assert!(
                source.is_char_boundary(span.start) && source.is_char_boundary(span.end),
                "{diagnostic:?}"
            );
            let _ = automlops::render::render(notebook, &diagnostic, false);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn notebook_json_never_panics(text in "\\PC{0,300}") {
        let _ = Notebook::parse("n.ipynb", &text);
    }

    #[test]
    fn arbitrary_cells_never_panic(cells in proptest::collection::vec("\\PC{0,120}", 1..5)) {
        let notebook = Notebook::from_code_cells("n.ipynb", &cells);
        check_spans(&notebook, &Options::default());
    }

    #[test]
    fn mutated_examples_never_panic(
        example in prop::sample::select(vec!["training_custom", "training_kfp"]),
        cell in 0usize..20,
        at in 0usize..2000,
        cut in 0usize..40,
        insert in "[\\(\\)\\[\\]{}'\":=,.a-z0-9 \\n#%!é]{0,12}",
    ) {
        let mut cells = example_cells(example);
        let index = cell % cells.len();
        let source = &mut cells[index];
        let mut start = at.min(source.len());
        while !source.is_char_boundary(start) { start -= 1; }
        let mut end = (start + cut).min(source.len());
        while !source.is_char_boundary(end) { end -= 1; }
        source.replace_range(start..end, &insert);
        let notebook = Notebook::from_code_cells("n.ipynb", &cells);
        check_spans(&notebook, &Options::default());
    }

    #[test]
    fn parameter_overrides_compile_deterministically(project in "[a-z][a-z0-9-]{5,20}[a-z0-9]") {
        let text = std::fs::read_to_string(repo().join("examples/training_kfp/training.ipynb")).unwrap();
        let notebook = Notebook::parse("training.ipynb", &text).unwrap();
        let options = Options { parameters: vec![("PROJECT_ID".into(), project.clone())], ..Options::default() };
        let first = compile(&notebook, &options).unwrap().artifacts;
        let second = compile(&notebook, &options).unwrap().artifacts;
        prop_assert_eq!(&first, &second);
        let job = &first.files["scripts/pipeline_spec/pipeline_job.json"];
        let root = format!("gs://{project}-bucket/pipeline_root");
        prop_assert!(job.contains(&root));
    }
}

/// In the compiled IR every task's dependencies are tasks of the same DAG, and the DAG has no
/// cycle: a topological order exists.
#[test]
fn dependencies_form_a_dag() {
    for example in ["training_custom", "training_kfp"] {
        let text =
            std::fs::read_to_string(repo().join("examples").join(example).join("training.ipynb"))
                .unwrap();
        let notebook = Notebook::parse("training.ipynb", &text).unwrap();
        let compiled = compile(&notebook, &Options::default()).unwrap();
        let job: serde_json::Value = serde_json::from_str(
            &compiled.artifacts.files["scripts/pipeline_spec/pipeline_job.json"],
        )
        .unwrap();
        let tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
            .as_object()
            .unwrap();
        let mut done: Vec<&str> = Vec::new();
        while done.len() < tasks.len() {
            let ready = tasks.iter().find(|(name, task)| {
                !done.contains(&name.as_str())
                    && task["dependentTasks"]
                        .as_array()
                        .is_none_or(|deps| deps.iter().all(|d| done.contains(&d.as_str().unwrap())))
            });
            let (name, _) = ready.expect("a dependency cycle or a dangling dependency");
            done.push(name);
        }
    }
}
