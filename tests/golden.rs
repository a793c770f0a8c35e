//! Each `examples/<name>/` holds a notebook and the `expected/` output tree; compiling the
//! notebook in-process must give exactly that tree. `UPDATE_EXPECT=1 cargo test` rewrites the
//! trees; review the diff in git. `.ci/run` checks every tree with kfp and Vertex's validator.

use std::path::Path;

use automlops::compile::{Options, compile};
use automlops::notebook::Notebook;

use crate::common::{read_tree, repo};

/// Options for an example, from `examples/<name>/flags.json` (`{"flags": {...}, "parameters": [[k, v]]}`).
fn options(dir: &Path) -> Options {
    let Ok(text) = std::fs::read_to_string(dir.join("flags.json")) else {
        return Options::default();
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut options = Options::default();
    if let Some(flags) = json["flags"].as_object() {
        for (name, value) in flags {
            options
                .flags
                .insert(name.clone(), value.as_str().unwrap().to_owned());
        }
    }
    if let Some(parameters) = json["parameters"].as_array() {
        for pair in parameters {
            options.parameters.push((
                pair[0].as_str().unwrap().to_owned(),
                pair[1].as_str().unwrap().to_owned(),
            ));
        }
    }
    options
}

fn notebook_in(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .unwrap_or_else(|| panic!("no notebook in {}", dir.display()))
}

#[test]
fn examples_compile_to_their_expected_trees() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut examples = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        examples += 1;
        let path = notebook_in(&dir);
        let notebook = Notebook::read(&path).unwrap();
        let compiled = compile(&notebook, &options(&dir))
            .unwrap_or_else(|e| panic!("{} does not compile: {e:?}", path.display()));
        let expected_dir = dir.join("expected");
        if update {
            let _ = std::fs::remove_dir_all(&expected_dir);
            for (relative, contents) in &compiled.artifacts.files {
                let target = expected_dir.join(relative);
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::write(target, contents).unwrap();
            }
            continue;
        }
        let expected = read_tree(&expected_dir);
        for (relative, contents) in &compiled.artifacts.files {
            match expected.get(relative) {
                None => failures.push(format!("{}: {relative} is generated but not expected", dir.display())),
                Some(want) if want != contents => failures.push(format!(
                    "{}: {relative} differs from expected/ (run UPDATE_EXPECT=1 cargo test and review the diff)",
                    dir.display()
                )),
                Some(_) => {}
            }
        }
        for relative in expected.keys() {
            if !compiled.artifacts.files.contains_key(relative) {
                failures.push(format!(
                    "{}: {relative} is expected but not generated",
                    dir.display()
                ));
            }
        }
    }
    assert!(examples >= 2, "the examples are missing");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn compiling_twice_is_byte_identical() {
    for example in ["training_custom", "training_kfp"] {
        let path = repo().join("examples").join(example).join("training.ipynb");
        let notebook = Notebook::read(&path).unwrap();
        let first = compile(&notebook, &Options::default()).unwrap().artifacts;
        let second = compile(&notebook, &Options::default()).unwrap().artifacts;
        assert_eq!(first, second);
    }
}

#[test]
fn outputs_hold_no_absolute_paths() {
    let path = repo()
        .join("examples/training_kfp/training.ipynb")
        .canonicalize()
        .unwrap();
    let notebook = Notebook::read(&path).unwrap();
    let compiled = compile(&notebook, &Options::default()).unwrap();
    let parent = path.parent().unwrap().to_string_lossy().into_owned();
    for (relative, contents) in &compiled.artifacts.files {
        assert!(!contents.contains(&parent), "{relative} contains {parent}");
    }
}

/// With CI, the output holds a copy of the notebook (cells only) that Cloud Build recompiles
/// with `--check`: compiling the copy must give the very same tree, copy included.
#[test]
fn the_notebook_copy_compiles_to_the_same_tree() {
    let mut copies = 0;
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let dir = entry.unwrap().path();
        let copy_dir = dir.join("expected/notebook");
        if !copy_dir.is_dir() {
            continue;
        }
        copies += 1;
        let copy = notebook_in(&copy_dir);
        let compiled = compile(&Notebook::read(&copy).unwrap(), &options(&dir))
            .unwrap_or_else(|e| panic!("{} does not compile: {e:?}", copy.display()));
        let expected = read_tree(&dir.join("expected"));
        assert_eq!(
            compiled.artifacts.files.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{}",
            dir.display()
        );
        for (relative, contents) in &compiled.artifacts.files {
            assert!(
                &expected[relative] == contents,
                "{}: {relative} differs when compiled from the copy",
                dir.display()
            );
        }
    }
    assert!(copies >= 3, "the CI examples lost their notebook copies");
}

/// Cloud Build reads `$NAME` in a step as a substitution: the compile options repeated in the
/// check step keep a `$` as data.
#[test]
fn the_check_step_keeps_dollar_signs_in_options_literal() {
    let dir = repo().join("examples/training_kfp");
    let text = std::fs::read_to_string(notebook_in(&dir)).unwrap();
    // The notebook's name is repeated too (its copy is `notebook/<name>`).
    let notebook = Notebook::parse("$SHORT_SHA.ipynb", &text).unwrap();
    let mut options = options(&dir);
    options
        .parameters
        .push(("BQ_TABLE".to_owned(), "data.$PROJECT_ID-beans".to_owned()));
    let compiled = compile(&notebook, &options).unwrap();
    let build = &compiled.artifacts.files["cloudbuild.yaml"];
    assert!(
        build.contains("BQ_TABLE=data.$$PROJECT_ID-beans"),
        "{build}"
    );
    assert!(!build.contains("data.$PROJECT_ID"), "{build}");
    assert!(build.contains("- notebook/$$SHORT_SHA.ipynb\n"), "{build}");
}
