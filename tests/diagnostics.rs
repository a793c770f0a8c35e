//! The catalogue of bad notebooks: each fixture in `tests/fixtures/errors/` must fail with the
//! located, rendered errors in its snapshot, and nothing may be produced.

use automlops::compile::Options;

use crate::common::{
    expectation, fixture_notebook, fixture_options, fixtures, rendered_errors, repo,
};

#[test]
fn every_bad_notebook_gets_located_errors() {
    let paths = fixtures("errors");
    assert!(paths.len() >= 20, "the catalogue is missing fixtures");
    for path in paths {
        let notebook = fixture_notebook(&path);
        let rendered = rendered_errors(&notebook, &fixture_options(&path));
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expect = expectation(&path);
        insta::with_settings!({ description => expect, omit_expression => true }, {
            insta::assert_snapshot!(name, rendered);
        });
    }
}

/// Notebooks in `tests/fixtures/warnings/` compile, and their warnings are snapshotted.
#[test]
fn warnings_are_located_and_do_not_stop_the_compile() {
    let paths = fixtures("warnings");
    assert!(!paths.is_empty());
    for path in paths {
        let notebook = fixture_notebook(&path);
        let compiled = automlops::compile::compile(&notebook, &fixture_options(&path))
            .unwrap_or_else(|e| panic!("{} should compile: {e:?}", path.display()));
        assert!(
            !compiled.warnings.is_empty(),
            "{} has no warning",
            path.display()
        );
        let rendered: String = compiled
            .warnings
            .iter()
            .map(|d| automlops::render::render(&notebook, d, false))
            .collect();
        let name = format!("warnings_{}", path.file_stem().unwrap().to_string_lossy());
        let expect = expectation(&path);
        insta::with_settings!({ description => expect, omit_expression => true }, {
            insta::assert_snapshot!(name, rendered);
        });
    }
}

/// Compiles a notebook of these code cells with the default options; it must compile.
#[track_caller]
fn compile_cells(name: &str, cells: &[&str]) -> automlops::compile::Compiled {
    let notebook = automlops::notebook::Notebook::from_code_cells(name, cells);
    automlops::compile::compile(&notebook, &Options::default()).unwrap()
}

/// The compiled `pipeline_job.json`, parsed.
fn pipeline_job(compiled: &automlops::compile::Compiled) -> serde_json::Value {
    serde_json::from_str(&compiled.artifacts.files["scripts/pipeline_spec/pipeline_job.json"])
        .unwrap()
}

/// AutoMLOps 1.0 took its arguments positionally too: `go(project_id, pipeline_params)`,
/// `makeComponent(name, description, params)`, `makePipeline(name, description, params, pipeline)`.
#[test]
fn positional_arguments_of_automlops_1_0_are_read() {
    let compiled = compile_cells(
        "positional.ipynb",
        &[
            "%%define_component\nAutoMLOps.makeComponent(\"hello\", \"Says hello.\", [{\"name\": \"who\", \"type\": str}])\nprint(who)",
            "AutoMLOps.makePipeline(\"hello-pipeline\", \"Hello.\", [{\"name\": \"who\", \"type\": str}], [{\"component_name\": \"hello\", \"param_mapping\": [(\"who\", \"who\")]}])",
            "AutoMLOps.go(\"positional-proj\", {\"who\": \"world\"})",
        ],
    );
    let job = &compiled.artifacts.files["scripts/pipeline_spec/pipeline_job.json"];
    assert!(job.contains("positional-proj"));
    assert!(job.contains("\"who\": \"world\""));
}

/// `N += 1`, `CONFIG["lr"] = 0.5`, `LAYERS.append(3)` and `params.update(...)` at the top level
/// of a cell change the values the compile uses, as running the notebook would.
#[test]
fn top_level_mutations_are_applied() {
    let notebook = crate::common::fixture_notebook(
        &repo().join("tests/fixtures/warnings/constants_changed_outside_assignments.py"),
    );
    let compiled = automlops::compile::compile(&notebook, &Options::default()).unwrap();
    let values: serde_json::Value = serde_json::from_str(
        &compiled.artifacts.files["pipelines/runtime_parameters/pipeline_parameter_values.json"],
    )
    .unwrap();
    assert_eq!(
        values,
        serde_json::json!({"$schema": "pipeline_parameter_values.schema.json", "layers": [1, 2, 3], "lr": 0.5, "n": 12, "project": "dev-proj"})
    );
}

/// AutoMLOps 1.0 copied the whole `%%define_imports` cell into components, setup code included.
#[test]
fn define_imports_setup_code_reaches_the_components() {
    let notebook = crate::common::fixture_notebook(
        &repo().join("tests/fixtures/warnings/define_imports_setup_code.py"),
    );
    let compiled = automlops::compile::compile(&notebook, &Options::default()).unwrap();
    let source = &compiled.artifacts.files["components/component_base/src/draw.py"];
    for line in [
        "import random",
        "SEED = 42",
        "random.seed(SEED)",
        "    import ujson as json",
        "warnings.filterwarnings(\"ignore\")",
    ] {
        assert!(source.contains(line), "{line} missing from\n{source}");
    }
    for ipython in ["!pi", "%ma", "!ls", "files"] {
        assert!(!source.contains(ipython), "{ipython} in\n{source}");
    }
}

/// kfp writes retry durations in seconds, a backoff factor of 0 as its default 2, and leaves out
/// a retry count of 0; Vertex AI refuses a duration in other units.
#[test]
fn retry_settings_are_written_as_kfp_writes_them() {
    let compiled = compile_cells(
        "retry.ipynb",
        &[
            "from kfp import dsl",
            "@dsl.component\ndef train(data: str):\n    print(data)",
            "@dsl.pipeline(name=\"retry-pipeline\")\ndef pipeline(data: str):\n    train(data=data).set_retry(0, backoff_duration=\"2 hours\", backoff_factor=0, backoff_max_duration=\"1d\")",
            "AutoMLOps.go(project_id=\"my-project\", pipeline_params={\"data\": \"gs://b/d\"}, use_kfp_spec=True)",
        ],
    );
    let job = pipeline_job(&compiled);
    assert_eq!(
        job["pipelineSpec"]["root"]["dag"]["tasks"]["train"]["retryPolicy"],
        serde_json::json!({"backoffDuration": "7200s", "backoffFactor": 2.0, "backoffMaxDuration": "86400s"})
    );
}

/// Task settings as kfp 2.17.3 writes them: a variable set again keeps its place, an empty
/// display name falls back to the task's name, an accelerator count without a type is
/// written without one, and a cache key reaches the caching options.
#[test]
fn task_settings_follow_kfp_in_corner_cases() {
    let compiled = compile_cells(
        "settings.ipynb",
        &[
            "from kfp import dsl",
            "@dsl.component\ndef train(data: str):\n    print(data)",
            "@dsl.pipeline(name=\"settings-pipeline\")\ndef pipeline(data: str):\n    t = train(data=data)\n    t.set_env_variable(\"A\", \"1\").set_env_variable(\"B\", \"2\").set_env_variable(\"A\", \"3\")\n    t.set_display_name(\"\").set_accelerator_limit(2).set_caching_options(True, cache_key='v2')",
            "AutoMLOps.go(project_id=\"my-project\", pipeline_params={\"data\": \"gs://b/d\"}, use_kfp_spec=True)",
        ],
    );
    let job = pipeline_job(&compiled);
    let spec = &job["pipelineSpec"];
    let task = &spec["root"]["dag"]["tasks"]["train"];
    assert_eq!(task["taskInfo"]["name"], "train");
    assert_eq!(
        task["cachingOptions"],
        serde_json::json!({"cacheKey": "v2", "enableCache": true})
    );
    let container = &spec["deploymentSpec"]["executors"]["exec-train"]["container"];
    assert_eq!(
        container["env"],
        serde_json::json!([{"name": "A", "value": "3"}, {"name": "B", "value": "2"}])
    );
    assert_eq!(
        container["resources"]["accelerator"],
        serde_json::json!({"count": "2", "resourceCount": "2"})
    );
    let pipeline_py = &compiled.artifacts.files["pipelines/pipeline.py"];
    assert!(
        pipeline_py.contains(".set_caching_options(True, cache_key='v2')"),
        "{pipeline_py}"
    );
    assert!(pipeline_py.contains(".set_accelerator_limit(2)"));
}

/// The generated source of a Kubeflow component imports `typing`, so reading it is no
/// `NameError`.
#[test]
fn typing_is_available_to_kubeflow_components() {
    let compiled = compile_cells(
        "typing.ipynb",
        &[
            "from kfp import dsl\nimport typing",
            "@dsl.component\ndef split(data: str) -> typing.NamedTuple('Outputs', [('train', str), ('test', str)]):\n    outputs = typing.NamedTuple('Outputs', [('train', str), ('test', str)])\n    return outputs(data + '/train', data + '/test')",
            "@dsl.pipeline(name=\"typing-pipeline\")\ndef pipeline(data: str):\n    split(data=data)",
            "AutoMLOps.go(project_id=\"my-project\", pipeline_params={\"data\": \"gs://b/d\"}, use_kfp_spec=True)",
        ],
    );
    assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
}

/// A bucket name given by flag is wrong on the command line, not at the notebook's
/// `project_id`: its error has no place in the notebook.
#[test]
fn a_bad_bucket_name_from_a_flag_is_not_located_in_the_notebook() {
    let notebook = automlops::notebook::Notebook::read(
        &repo().join("examples/training_custom/training.ipynb"),
    )
    .unwrap();
    let mut options = Options::default();
    options
        .flags
        .insert("gs_bucket_name".to_owned(), "Bad_Bucket".to_owned());
    let rendered = rendered_errors(&notebook, &options);
    let error = rendered
        .split("error: ")
        .find(|e| e.starts_with("`Bad_Bucket`"))
        .and_then(|e| e.split("\nwarning: ").next())
        .unwrap();
    assert!(!error.contains("-->"), "{error}");
}

/// A schedule's cron fields reach Cloud Scheduler one space apart, however the notebook spaced
/// them (a trailing newline from a multi-line string, tabs).
#[test]
fn a_schedule_is_written_with_single_spaces() {
    let compiled = compile_cells(
        "schedule.ipynb",
        &[
            "from kfp import dsl",
            "@dsl.component\ndef say(m: str) -> str:\n    return m",
            "@dsl.pipeline(name=\"schedule-pipeline\")\ndef pipeline(m: str = \"hi\"):\n    say(m=m)",
            "AutoMLOps.go(project_id=\"my-project\", use_kfp_spec=True, run_local=False, schedule=\" 0 \\t*/12 * * *\\n\")",
        ],
    );
    let defaults = &compiled.artifacts.files["configs/defaults.yaml"];
    assert!(
        defaults.contains("cloud_schedule_pattern: 0 */12 * * *\n"),
        "{defaults}"
    );
    let tfvars = &compiled.artifacts.files["terraform/terraform.tfvars"];
    assert!(tfvars.contains("\"0 */12 * * *\""), "{tfvars}");
}

/// kfp takes `description=""` for none and describes the pipeline with its docstring: the
/// summary, a line break, then the rest (blank lines between them dropped).
#[test]
fn an_empty_pipeline_description_falls_back_to_the_docstring() {
    let notebook = crate::common::fixture_notebook(
        &repo().join("tests/fixtures/pipelines/docstring_describes_the_pipeline.py"),
    );
    let compiled = automlops::compile::compile(&notebook, &Options::default()).unwrap();
    let job = pipeline_job(&compiled);
    assert_eq!(
        job["pipelineSpec"]["pipelineInfo"]["description"],
        "From the docstring.\nMore."
    );
}
