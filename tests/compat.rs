//! Notebooks written for AutoMLOps 1.0 to 1.3 compile unchanged: options calls, `None` for the
//! default, names derived from `naming_prefix`, redefined components, the chosen options call.

use automlops::compile::{Options, compile};

use crate::common::{fixture_notebook, rendered_errors, repo};

/// The compiled text of one generated file.
#[track_caller]
fn file<'a>(compiled: &'a automlops::compile::Compiled, path: &str) -> &'a str {
    compiled
        .artifacts
        .files
        .get(path)
        .unwrap_or_else(|| panic!("{path} was not generated"))
}

#[track_caller]
fn compiled_fixture(kind: &str, name: &str, options: &Options) -> automlops::compile::Compiled {
    let notebook = fixture_notebook(&repo().join("tests/fixtures").join(kind).join(name));
    compile(&notebook, options).unwrap_or_else(|e| panic!("{name} should compile: {e:?}"))
}

/// AutoMLOps 1.2+ derives every name from `naming_prefix` (its default is 24 characters long)
/// and keeps the runner account `vertex-pipelines@PROJECT`; `None` options are the defaults.
#[test]
fn names_follow_naming_prefix_as_automlops_derives_them() {
    let compiled = compiled_fixture(
        "warnings",
        "automlops_1_3_generate_every_option.py",
        &Options::default(),
    );
    let tfvars = file(&compiled, "terraform/terraform.tfvars");
    for expected in [
        r#""automlops-default-prefix-artifact-registry""#,
        r#""my-project-automlops-default-prefix-bucket""#,
        r#"pipeline_runner_sa_id = "vertex-pipelines""#,
    ] {
        assert!(tfvars.contains(expected), "{expected} not in:\n{tfvars}");
    }
    let job = file(&compiled, "scripts/pipeline_spec/pipeline_job.json");
    assert!(job.contains(
        "us-central1-docker.pkg.dev/my-project/automlops-default-prefix-artifact-registry/automlops-default-prefix/components/component_base:latest"
    ));
    // The last call compiles: `launchAll`, whose `base_image=None` is the default.
    let dockerfile = file(&compiled, "components/component_base/Dockerfile");
    assert!(dockerfile.contains("FROM python:3.12-slim"), "{dockerfile}");
}

/// `--options-call CELL` compiles another call's options: here `generate`'s `base_image`.
#[test]
fn options_call_picks_the_call_of_a_cell() {
    let options = Options {
        options_call: Some(5),
        ..Options::default()
    };
    let compiled = compiled_fixture(
        "warnings",
        "automlops_1_3_generate_every_option.py",
        &options,
    );
    let dockerfile = file(&compiled, "components/component_base/Dockerfile");
    assert!(dockerfile.contains("FROM python:3.9-slim"), "{dockerfile}");

    let notebook = fixture_notebook(
        &repo().join("tests/fixtures/warnings/automlops_1_3_generate_every_option.py"),
    );
    let rendered = rendered_errors(
        &notebook,
        &Options {
            options_call: Some(2),
            ..Options::default()
        },
    );
    assert!(
        rendered.contains("cell 2 calls neither") && rendered.contains("cell 5, 7"),
        "{rendered}"
    );
}

/// After `clear_cache()`, the pipeline compiles with the definitions bound when it is defined.
#[test]
fn redefined_components_compile_as_python_binds_them() {
    let compiled = compiled_fixture(
        "warnings",
        "components_redefined_after_clear_cache.py",
        &Options::default(),
    );
    let job = file(&compiled, "scripts/pipeline_spec/pipeline_job.json");
    assert!(job.contains("\"name\": \"second-pipeline\""));
    // The second `make_data`, which writes a Dataset the first did not have.
    assert!(job.contains("system.Dataset"));
    let source = file(&compiled, "components/component_base/src/make_data.py");
    assert!(source.contains("pd.DataFrame"), "{source}");
}

/// `@dsl.pipeline(pipeline_root=...)`: compiled as kfp's `defaultPipelineRoot`, and every way
/// of submitting writes there; the runner account may write to that bucket.
#[test]
fn pipeline_root_is_where_every_submission_writes() {
    let compiled = compiled_fixture(
        "pipelines",
        "pipeline_root_of_its_own.py",
        &Options::default(),
    );
    let root = "gs://shared-ml-artifacts/churn/runs";
    let job: serde_json::Value =
        serde_json::from_str(file(&compiled, "scripts/pipeline_spec/pipeline_job.json")).unwrap();
    assert_eq!(job["pipelineSpec"]["defaultPipelineRoot"], root);
    assert_eq!(job["runtimeConfig"]["gcsOutputDirectory"], root);
    assert!(
        file(&compiled, "configs/defaults.yaml")
            .contains(&format!("pipeline_storage_path: {root}"))
    );
    let main_tf = file(&compiled, "terraform/main.tf");
    assert!(
        main_tf.contains(&format!("PIPELINE_ROOT      = \"{root}\"")),
        "{main_tf}"
    );
    assert!(main_tf.contains(
        "resource \"google_storage_bucket_iam_member\" \"runner_pipeline_root_objects\""
    ));
    assert!(file(&compiled, "pipelines/pipeline.py").contains(&format!("pipeline_root='{root}'")));
}

/// `datetime.now()` and its kin in `pipeline_params` are compiled as templates that every
/// submission evaluates (AutoMLOps froze them when the notebook ran); they stay out of the job.
#[test]
fn run_time_values_are_templates_in_the_values_file() {
    let compiled = compiled_fixture("warnings", "run_time_values.py", &Options::default());
    let values: serde_json::Value = serde_json::from_str(file(
        &compiled,
        "pipelines/runtime_parameters/pipeline_parameter_values.json",
    ))
    .unwrap();
    assert_eq!(
        values,
        serde_json::json!({
            "$schema": "pipeline_parameter_values.schema.json",
            "model_dir": {
                "$run_time": "f\"gs://{PROJECT_ID}-bucket/trained_models/{datetime.datetime.now()}\"",
                "template": [{"text": "gs://my-project-bucket/trained_models/"}, {"now": null, "call": "c4:80"}],
            },
            // STAMP holds one call (cell 1): every parameter that reads it gets its value.
            "run_name": {
                "$run_time": "\"run-\" + STAMP + \"-\" + str(date.today())",
                "template": [
                    {"text": "run-"},
                    {"now": "%Y%m%d-%H%M%S", "call": "c1:152"},
                    {"text": "-"},
                    {"today": null, "call": "c4:150"},
                ],
            },
            "run_id": {"$run_time": "str(uuid.uuid4())", "template": [{"uuid4": null, "call": "c4:183"}]},
            "started": {"$run_time": "time.time()", "as_number": true, "template": [{"time": null, "call": "c4:213"}]},
        })
    );
    let job: serde_json::Value =
        serde_json::from_str(file(&compiled, "scripts/pipeline_spec/pipeline_job.json")).unwrap();
    assert_eq!(
        job["runtimeConfig"]["parameterValues"],
        serde_json::json!({})
    );
    // The runner image carries the values file, to evaluate them for runs without a body.
    assert!(file(&compiled, "cloud_run/run_pipeline/Dockerfile")
        .contains(r#"COPY ["pipelines/runtime_parameters/pipeline_parameter_values.json", "/app/pipeline_parameter_values.json"]"#));
}

/// `--experiment` wins over `vertex_experiment_tracking_name`, whose value is then not read.
#[test]
fn the_experiment_flag_wins_over_the_notebook() {
    let mut options = Options::default();
    options
        .flags
        .insert("experiment".to_owned(), "fixed-exp".to_owned());
    let compiled = compiled_fixture("errors", "experiment_name_invalid.py", &options);
    assert!(file(&compiled, "configs/defaults.yaml").contains("experiment: fixed-exp"));
}

/// A component run as a custom job as an account of its own: the runner, which starts it
/// through GCPC's launcher, may act as that account, and only as that one.
#[test]
fn a_custom_jobs_own_account_is_granted_to_the_runner() {
    let compiled = compiled_fixture(
        "pipelines",
        "custom_training_job_specs.py",
        &Options::default(),
    );
    let main_tf = file(&compiled, "terraform/main.tf");
    let block = main_tf
        .split("\n\n")
        .find(|b| b.contains("\"runner_acts_as_custom_job_custom_train_model\""))
        .unwrap_or_else(|| panic!("no grant in:\n{main_tf}"));
    assert!(block.contains(
        "service_account_id = \"projects/-/serviceAccounts/gpu-trainer@my-project.iam.gserviceaccount.com\""
    ));
    assert!(block.contains("role               = \"roles/iam.serviceAccountUser\""));
}

/// AutoMLOps 1.3 names the GitHub repository with `source_repo_name="owner/repo"`.
#[test]
fn source_repo_name_names_the_github_repository() {
    let notebook = automlops::notebook::Notebook::from_code_cells(
        "github.ipynb",
        &[
            "from google_cloud_automlops import AutoMLOps",
            "@AutoMLOps.component\ndef say(who: str):\n    print(who)",
            "@AutoMLOps.pipeline\ndef pipeline(who: str):\n    say(who=who)",
            "AutoMLOps.generate(project_id=\"my-project\", pipeline_params={\"who\": \"w\"}, use_ci=True, source_repo_type=\"github\", source_repo_name=\"my-org/beans\", github_connection=\"projects/my-project/locations/us-central1/connections/gh\")",
        ],
    );
    let compiled = compile(&notebook, &Options::default()).unwrap();
    let tfvars = file(&compiled, "terraform/terraform.tfvars");
    assert!(
        tfvars.contains("\"my-org\"") && tfvars.contains("\"beans\""),
        "{tfvars}"
    );
}

/// Resources set on the task of a component run as a custom job would be lost: refused.
#[test]
fn resources_on_a_custom_job_task_are_refused() {
    let notebook = automlops::notebook::Notebook::from_code_cells(
        "custom_job_resources.ipynb",
        &[
            "from google_cloud_automlops import AutoMLOps",
            "@AutoMLOps.component\ndef train(n: int):\n    print(n)",
            "@AutoMLOps.pipeline\ndef pipeline(n: int):\n    train(n=n).set_cpu_limit(\"4\")",
            "AutoMLOps.generate(project_id=\"my-project\", pipeline_params={\"n\": 1}, custom_training_job_specs=[{\"component_spec\": \"train\", \"machine_type\": \"n1-standard-8\"}])",
        ],
    );
    let rendered = rendered_errors(&notebook, &Options::default());
    assert!(
        rendered.contains("not supported yet: `.set_cpu_limit(...)` on `train`, which runs as a Vertex AI CustomJob"),
        "{rendered}"
    );
}
