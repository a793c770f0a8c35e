//! Pipelines checked against kfp, most of them control flow: each notebook in
//! `tests/fixtures/pipelines/` compiles, and the part of its IR that control flow shapes (the
//! root, and every group's DAG component) is snapshotted. CI compiles the same notebooks and checks each whole `pipeline_job.json` with
//! the validator and against kfp 2.17.3's compile of the generated `pipelines/pipeline.py`
//! (`.ci/conformance.py --notebooks`), so these snapshots are kfp's output, not ours alone.

use automlops::compile::Options;

use crate::common::{expectation, fixture_notebook, fixture_options, fixtures};

/// The pipeline spec without executors and without the components of plain tasks.
fn control_flow_part(job: &str) -> serde_json::Value {
    let job: serde_json::Value = serde_json::from_str(job).unwrap();
    let spec = &job["pipelineSpec"];
    let groups: serde_json::Map<String, serde_json::Value> = spec["components"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, component)| component.get("dag").is_some())
        .map(|(name, component)| (name.clone(), component.clone()))
        .collect();
    serde_json::json!({ "groups": groups, "root": spec["root"] })
}

#[test]
fn control_flow_pipelines_compile_as_kfp_compiles_them() {
    let paths = fixtures("pipelines");
    assert!(paths.len() >= 8, "the control-flow pipelines are missing");
    for path in paths {
        let notebook = fixture_notebook(&path);
        let compiled = automlops::compile::compile(&notebook, &fixture_options(&path))
            .unwrap_or_else(|e| panic!("{} failed: {e:?}", path.display()));
        let job = &compiled.artifacts.files["scripts/pipeline_spec/pipeline_job.json"];
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::with_settings!({ description => expectation(&path), omit_expression => true }, {
            insta::assert_snapshot!(name, serde_json::to_string_pretty(&control_flow_part(job)).unwrap());
        });
    }
}

/// kfp's `dsl` members are recognised however the notebook reaches the module: the blocks and
/// `Collected` through `kfp.dsl`, `v2.dsl` or `kfp.v2.dsl` compile as through `dsl`.
#[test]
fn dsl_members_are_recognised_through_every_module_path() {
    let path = crate::common::repo().join("tests/fixtures/pipelines/collected_outputs.py");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("dsl.Collected(") && text.contains("dsl.ParallelFor("));
    let compile = |text: &str| {
        let notebook = automlops::notebook::Notebook::parse(
            "collected_outputs.ipynb",
            &crate::common::percent_to_ipynb(text),
        )
        .unwrap();
        let compiled = automlops::compile::compile(&notebook, &Options::default())
            .unwrap_or_else(|e| panic!("{e:?}"));
        compiled.artifacts.files["scripts/pipeline_spec/pipeline_job.json"].clone()
    };
    let expected = compile(&text);
    for module in ["kfp.dsl", "v2.dsl", "kfp.v2.dsl"] {
        let other = text
            .replacen(
                "from kfp import dsl",
                "import kfp\nfrom kfp import dsl, v2",
                1,
            )
            .replace("dsl.Collected(", &format!("{module}.Collected("))
            .replace("dsl.ParallelFor(", &format!("{module}.ParallelFor("));
        assert_eq!(compile(&other), expected, "through {module}");
    }
}

/// Every `component.yaml` reads back (through a YAML parser) as its component's part of the
/// compiled job: the same interface, defaults included, and the same executor. Only the
/// inputs' descriptions differ, which kfp keeps in the component's own file alone. CI also
/// loads each file with kfp, a YAML 1.1 reader.
#[test]
fn component_files_read_back_as_the_compiled_components() {
    fn without_descriptions(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove("description");
                map.values_mut().for_each(without_descriptions);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(without_descriptions),
            _ => {}
        }
    }
    let mut checked = 0;
    for path in fixtures("pipelines") {
        let compiled =
            automlops::compile::compile(&fixture_notebook(&path), &fixture_options(&path))
                .unwrap_or_else(|e| panic!("{} failed: {e:?}", path.display()));
        let files = &compiled.artifacts.files;
        let job: serde_json::Value =
            serde_json::from_str(&files["scripts/pipeline_spec/pipeline_job.json"]).unwrap();
        let spec = &job["pipelineSpec"];
        for (name, text) in files.iter().filter(|(n, _)| n.ends_with("/component.yaml")) {
            let mut read: serde_json::Value = serde_norway::from_str(text)
                .unwrap_or_else(|e| panic!("{name} of {}: {e}", path.display()));
            // A KFP v1 file the notebook loads is copied as it is (`component_files.py`); kfp
            // reads it, and conformance checks the job against kfp's compile of the notebook.
            if read.get("implementation").is_some() {
                continue;
            }
            for (key, component) in read["components"].as_object_mut().unwrap() {
                // A component run as a custom job is GCPC's CustomTrainingJobOp in the job
                // (`custom_training_job_specs.py`), checked against kfp by conformance.
                if spec["components"][key]["inputDefinitions"]["parameters"]
                    .get("worker_pool_specs")
                    .is_some()
                {
                    continue;
                }
                without_descriptions(component);
                assert_eq!(component, &spec["components"][key], "{key} in {name}");
            }
            for (key, executor) in read["deploymentSpec"]["executors"].as_object().unwrap() {
                if spec["deploymentSpec"]["executors"][key]
                    .get("container")
                    .is_some_and(|c| {
                        c["command"][3]
                            == "google_cloud_pipeline_components.container.v1.custom_job.launcher"
                    })
                {
                    continue;
                }
                // Resources and environment variables after the component's own are the
                // task's settings.
                let mut in_job = spec["deploymentSpec"]["executors"][key].clone();
                let own_env = executor["container"]["env"].as_array().map_or(0, Vec::len);
                if let Some(container) = in_job["container"].as_object_mut() {
                    container.remove("resources");
                    if let Some(env) = container.get_mut("env").and_then(|e| e.as_array_mut()) {
                        env.truncate(own_env);
                    }
                    if container
                        .get("env")
                        .is_some_and(|e| e == &serde_json::json!([]))
                    {
                        container.remove("env");
                    }
                }
                assert_eq!(executor, &in_job, "{key} in {name}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} components checked");
}
