//! The real binary: exit statuses, what lands on disk, and what does not.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{percent_to_ipynb, repo};

fn automlops(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_automlops"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn example(name: &str) -> String {
    repo()
        .join("examples")
        .join(name)
        .join("training.ipynb")
        .to_string_lossy()
        .into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn compile_writes_the_tree_and_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let output = automlops(
        &[
            "compile",
            &example("training_custom"),
            "-o",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    for file in [
        "scripts/pipeline_spec/pipeline_job.json",
        "pipelines/runtime_parameters/pipeline_parameter_values.json",
        "pipelines/pipeline.py",
        "components/create_dataset/component.yaml",
        "components/component_base/Dockerfile",
        "components/component_base/requirements.txt",
        "components/component_base/src/train_model.py",
        "configs/defaults.yaml",
        "images/.gitkeep",
    ] {
        assert!(out.join(file).is_file(), "{file} is missing");
    }
    assert!(stderr(&output).contains("compiled"), "{}", stderr(&output));
    // No staging directory is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("out")]);
}

#[test]
fn default_output_is_automlops_beside_the_notebook() {
    let tmp = tempfile::tempdir().unwrap();
    let notebook = tmp.path().join("nb").join("training.ipynb");
    std::fs::create_dir_all(notebook.parent().unwrap()).unwrap();
    std::fs::copy(example("training_kfp"), &notebook).unwrap();
    let output = automlops(&["compile", notebook.to_str().unwrap()], tmp.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        tmp.path()
            .join("nb/AutoMLOps/scripts/pipeline_spec/pipeline_job.json")
            .is_file()
    );
    // Warnings are printed with their cell.
    assert!(
        stderr(&output).contains("warning: Cloud Source Repositories is closed to new customers")
    );
    assert!(stderr(&output).contains("training.ipynb, cell 10, line 1"));
}

#[test]
fn a_bad_notebook_exits_1_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let notebook = tmp.path().join("bad.ipynb");
    let text = std::fs::read_to_string(example("training_custom"))
        .unwrap()
        .replace(
            r#"\"component_name\": \"train_model\""#,
            r#"\"component_name\": \"trian_model\""#,
        );
    std::fs::write(&notebook, text).unwrap();
    let out = tmp.path().join("out");
    let output = automlops(
        &[
            "compile",
            notebook.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("component `trian_model` is not defined"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("did you mean `train_model`?"));
    assert!(stderr(&output).contains("nothing was written"));
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn unreadable_input_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let output = automlops(&["compile", "missing.ipynb"], tmp.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read `missing.ipynb`"),
        "{}",
        stderr(&output)
    );
    std::fs::write(tmp.path().join("broken.ipynb"), "{\"cells\": [").unwrap();
    let output = automlops(&["compile", "broken.ipynb"], tmp.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not valid notebook JSON (line 1"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn help_documents_every_option() {
    let output = automlops(&["compile", "--help"], &repo());
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--project-id",
        "--pipeline-params",
        "--af-registry-location",
        "--af-registry-name",
        "--gs-bucket-location",
        "--gs-bucket-name",
        "--csr-name",
        "--schedule",
        "--schedule-location",
        "--parameter-values-path",
        "--pipeline-job-spec-path",
        "--pipeline-runner-sa",
        "--use-kfp-spec",
        "--run-local",
        "--cb-trigger-location",
        "--cb-trigger-name",
        "--cloud-run-location",
        "--cloud-run-name",
        "--csr-branch-name",
        "--schedule-name",
        "--output",
        "--parameter",
        "--use-ci",
        "--schedule-pattern",
        "--timings",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    assert!(help.contains("[default: vertex-mlops-af]"));
    // The syntax is detected, not `false` by default.
    assert!(!help.contains("[default: false]"), "{help}");
}

/// `--use-ci` is AutoMLOps 1.2's `use_ci`: `--run-local` inverted, and refused when both
/// are given and disagree.
#[test]
fn use_ci_is_run_local_inverted() {
    let tmp = tempfile::tempdir().unwrap();
    let ci = automlops(
        &[
            "compile",
            &example("training_custom"),
            "-o",
            "ci",
            "--use-ci",
            "true",
        ],
        tmp.path(),
    );
    assert!(ci.status.success(), "{}", stderr(&ci));
    let defaults = std::fs::read_to_string(tmp.path().join("ci/configs/defaults.yaml")).unwrap();
    assert!(defaults.contains("run_local: false"), "{defaults}");
    let local = automlops(
        &[
            "compile",
            &example("training_custom"),
            "-o",
            "local",
            "--use-ci",
            "false",
            "--schedule",
            "No Schedule Specified",
        ],
        tmp.path(),
    );
    assert!(local.status.success(), "{}", stderr(&local));
    let defaults = std::fs::read_to_string(tmp.path().join("local/configs/defaults.yaml")).unwrap();
    assert!(defaults.contains("run_local: true"), "{defaults}");
    let both = automlops(
        &[
            "compile",
            &example("training_custom"),
            "--use-ci",
            "true",
            "--run-local",
            "true",
        ],
        tmp.path(),
    );
    assert_eq!(both.status.code(), Some(2));
    assert!(stderr(&both).contains("disagree"), "{}", stderr(&both));
}

#[test]
fn flags_and_parameters_override_the_notebook() {
    let tmp = tempfile::tempdir().unwrap();
    let params = tmp.path().join("params.json");
    std::fs::write(
        &params,
        r#"{"bq_table": "other.ds.t", "model_directory": "gs://b/m", "data_path": "gs://b/d", "project_id": "x", "region": "europe-west4"}"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let output = automlops(
        &[
            "compile",
            &example("training_custom"),
            "-o",
            out.to_str().unwrap(),
            "--af-registry-name",
            "my-registry",
            "--pipeline-params",
            params.to_str().unwrap(),
            "-p",
            "PROJECT_ID=another-project",
            "--schedule-pattern",
            "0 3 * * *",
        ],
        tmp.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let job = std::fs::read_to_string(out.join("scripts/pipeline_spec/pipeline_job.json")).unwrap();
    // -p changes the constant the notebook's project_id= reads; the flag changes the registry.
    assert!(job.contains("us-central1-docker.pkg.dev/another-project/my-registry/components/component_base:latest"), "{job}");
    assert!(job.contains("\"region\": \"europe-west4\""));
    let defaults = std::fs::read_to_string(out.join("configs/defaults.yaml")).unwrap();
    assert!(
        defaults.contains("cloud_schedule_pattern: 0 3 * * *"),
        "{defaults}"
    );
}

#[test]
fn recompiling_keeps_files_automlops_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let args = [
        "compile",
        &example("training_custom"),
        "-o",
        out.to_str().unwrap(),
    ];
    assert!(automlops(&args, tmp.path()).status.success());
    std::fs::write(out.join("NOTES.md"), "mine").unwrap();
    std::fs::write(out.join("pipelines/pipeline.py"), "stale").unwrap();
    assert!(automlops(&args, tmp.path()).status.success());
    assert_eq!(
        std::fs::read_to_string(out.join("NOTES.md")).unwrap(),
        "mine"
    );
    assert_ne!(
        std::fs::read_to_string(out.join("pipelines/pipeline.py")).unwrap(),
        "stale"
    );
}

#[test]
fn a_bad_run_local_flag_is_a_usage_error() {
    let output = automlops(
        &[
            "compile",
            &example("training_custom"),
            "--run-local",
            "maybe",
        ],
        &repo(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("maybe"));
}

#[test]
fn percent_fixtures_convert_to_notebooks() {
    let json = percent_to_ipynb("# %% [markdown]\n# Title\n# %%\nx = 1\n\n");
    assert!(json.contains("\"cell_type\": \"markdown\""));
    assert!(json.contains("\"source\": \"x = 1\""));
}

#[test]
fn an_output_that_cannot_be_written_fails_before_writing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // A file where the output needs the `scripts/` directory.
    std::fs::write(out.join("scripts"), "mine").unwrap();
    let output = automlops(
        &[
            "compile",
            &example("training_custom"),
            "-o",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("a file stands where the output needs a directory"),
        "{}",
        stderr(&output)
    );
    // Besides the user's file, only the lock every compile takes (ignored by the generated
    // .gitignore).
    let mut entries: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        vec![
            std::ffi::OsString::from(".automlops.lock"),
            std::ffi::OsString::from("scripts")
        ]
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "no staging directory is left"
    );
}

#[test]
fn recompiling_removes_files_the_previous_compile_wrote_and_this_one_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let source = std::fs::read_to_string(example("training_custom")).unwrap();
    let renamed = source.replace("deploy_model", "publish_model");
    let notebook = tmp.path().join("training.ipynb");
    std::fs::write(&notebook, &source).unwrap();
    let args = [
        "compile",
        notebook.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    assert!(automlops(&args, tmp.path()).status.success());
    std::fs::write(out.join("NOTES.md"), "mine").unwrap();
    std::fs::write(&notebook, renamed).unwrap();
    let output = automlops(&args, tmp.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!out.join("components/deploy_model").exists());
    assert!(
        !out.join("components/component_base/src/deploy_model.py")
            .exists()
    );
    assert!(
        out.join("components/publish_model/component.yaml")
            .is_file()
    );
    assert_eq!(
        std::fs::read_to_string(out.join("NOTES.md")).unwrap(),
        "mine"
    );
}

/// `scripts/build_pipeline_spec.sh` recompiles with the flags, `--pipeline-params` and `-p`
/// overrides of the compile that wrote the directory: the tree it writes is the same.
#[cfg(unix)]
#[test]
fn the_recompile_script_reproduces_the_compile_with_its_options() {
    let tmp = tempfile::tempdir().unwrap();
    let notebook = tmp.path().join("training.ipynb");
    std::fs::copy(example("training_custom"), &notebook).unwrap();
    let params = tmp.path().join("params.json");
    std::fs::write(&params, r#"{"bq_table": "other.ds.table", "model_directory": "gs://b/m", "data_path": "gs://b/d.csv", "project_id": "p", "region": "europe-west4"}"#).unwrap();
    let out = tmp.path().join("AutoMLOps");
    let first = automlops(
        &[
            "compile",
            notebook.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--naming-prefix",
            "team-a",
            "--gs-bucket-location",
            "europe-west1",
            "--pipeline-params",
            params.to_str().unwrap(),
            "-p",
            "PROJECT_ID=other-proj",
            "-p",
            "MODEL_DIRECTORY=gs://x/it's $(quoted)",
        ],
        tmp.path(),
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let before = crate::common::read_tree(&out);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_automlops")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let rerun = Command::new("bash")
        .arg(out.join("scripts/build_pipeline_spec.sh"))
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert_eq!(crate::common::read_tree(&out), before);
    assert!(before["terraform/terraform.tfvars"].contains("team-a"));
    assert!(before["terraform/terraform.tfvars"].contains("other-proj"));
}

/// A file automlops would write but did not write before (no manifest lists it), such as the
/// user's own README.md in a directory compiled into for the first time, stops the compile
/// before anything is written.
#[test]
fn files_automlops_did_not_write_are_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(".gitignore"), "secret.env\n").unwrap();
    let args = [
        "compile",
        &example("training_custom"),
        "-o",
        out.to_str().unwrap(),
    ];
    let output = automlops(&args, tmp.path());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(".gitignore"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("was not written by automlops"));
    assert_eq!(
        std::fs::read_to_string(out.join(".gitignore")).unwrap(),
        "secret.env\n"
    );
    assert!(!out.join("cloudbuild.yaml").exists());
    // Moved away, the compile goes through; a recompile replaces its own files.
    std::fs::remove_file(out.join(".gitignore")).unwrap();
    assert!(automlops(&args, tmp.path()).status.success());
    assert!(automlops(&args, tmp.path()).status.success());
}

/// `examples/training_kfp` compiled into `out/` of a fresh temporary directory.
fn compiled_training_kfp() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let first = automlops(
        &[
            "compile",
            &example("training_kfp"),
            "-o",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(first.status.success(), "{}", stderr(&first));
    (tmp, out)
}

/// `compile --check` writes nothing: 0 when the directory is what the notebook compiles to,
/// 1 with the changed, missing and stale files listed otherwise. Cloud Build runs it on the
/// notebook's copy in the output.
#[test]
fn check_reports_drift_and_writes_nothing() {
    let (tmp, out) = compiled_training_kfp();
    let out_arg = out.to_str().unwrap();
    let copy = out.join("notebook/training.ipynb");
    let copy_arg = copy.to_str().unwrap();
    let clean = automlops(&["compile", copy_arg, "-o", out_arg, "--check"], tmp.path());
    assert!(clean.status.success(), "{}", stderr(&clean));
    assert!(
        stderr(&clean).contains("is up to date"),
        "{}",
        stderr(&clean)
    );

    std::fs::write(out.join("README.md"), "edited by hand\n").unwrap();
    std::fs::remove_file(out.join("pipelines/pipeline.py")).unwrap();
    // A file the last compile wrote (it is in the manifest) that this compile would not write.
    std::fs::write(out.join("components/old.yaml"), "old\n").unwrap();
    let manifest = out.join(".automlops-files");
    let mut listed = std::fs::read_to_string(&manifest).unwrap();
    listed.push_str("components/old.yaml\n");
    std::fs::write(&manifest, &listed).unwrap();
    let before = crate::common::read_tree(&out);
    let drifted = automlops(&["compile", copy_arg, "-o", out_arg, "--check"], tmp.path());
    assert_eq!(drifted.status.code(), Some(1), "{}", stderr(&drifted));
    let text = stderr(&drifted);
    for line in [
        "changed: README.md",
        "missing: pipelines/pipeline.py",
        // The manifest no longer lists what this compile writes.
        "changed: .automlops-files",
        "stale:   components/old.yaml",
        "4 files differ",
    ] {
        assert!(text.contains(line), "{line} not in:\n{text}");
    }
    assert_eq!(
        crate::common::read_tree(&out),
        before,
        "--check wrote something"
    );
}

/// What `--check` compares besides the bytes: a script that lost its executable bit, and a
/// link in the place of a file (never read: a pipe would hang, `/dev/zero` never ends).
#[cfg(unix)]
#[test]
fn check_sees_modes_and_links() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, out) = compiled_training_kfp();
    let out_arg = out.to_str().unwrap();
    let notebook = example("training_kfp");
    let script = out.join("scripts/run_all.sh");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let readme = out.join("README.md");
    let copy = tmp.path().join("README.copy");
    std::fs::rename(&readme, &copy).unwrap();
    std::os::unix::fs::symlink(&copy, &readme).unwrap();
    let checked = automlops(
        &["compile", &notebook, "-o", out_arg, "--check"],
        tmp.path(),
    );
    assert_eq!(checked.status.code(), Some(1), "{}", stderr(&checked));
    let text = stderr(&checked);
    assert!(text.contains("changed: scripts/run_all.sh"), "{text}");
    assert!(text.contains("changed: README.md"), "{text}");
}

/// A directory of the output that is a symbolic link would take files outside it: the
/// compile refuses before writing anything.
#[cfg(unix)]
#[test]
fn a_linked_directory_inside_the_output_is_refused() {
    let (tmp, out) = compiled_training_kfp();
    let out_arg = out.to_str().unwrap();
    let notebook = example("training_kfp");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::rename(out.join("scripts"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("scripts")).unwrap();
    std::fs::write(elsewhere.join("run_all.sh"), "mine\n").unwrap();
    let second = automlops(&["compile", &notebook, "-o", out_arg], tmp.path());
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("symbolic link"),
        "{}",
        stderr(&second)
    );
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("run_all.sh")).unwrap(),
        "mine\n"
    );
}

/// A second notebook compiled into the directory of a first (both beside each other, into the
/// default `AutoMLOps/`) stops instead of replacing its output; `--replace` replaces it.
#[test]
fn another_notebooks_output_is_not_replaced_without_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("training.ipynb");
    let second = tmp.path().join("batch.ipynb");
    std::fs::copy(example("training_kfp"), &first).unwrap();
    std::fs::copy(example("training_custom"), &second).unwrap();
    let compile = |notebook: &Path, extra: &[&str]| {
        let mut args = vec!["compile", notebook.to_str().unwrap()];
        args.extend_from_slice(extra);
        automlops(&args, tmp.path())
    };
    assert!(compile(&first, &[]).status.success());
    let manifest = tmp.path().join("AutoMLOps/.automlops-files");
    let before = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        before.starts_with("# notebook: training.ipynb\n"),
        "{before}"
    );

    let refused = compile(&second, &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains(
            "it holds the output of `training.ipynb`, which compiling `batch.ipynb` would replace"
        ),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("--replace"));
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), before);

    // The same notebook recompiles as ever; another one with --replace takes the directory.
    assert!(compile(&first, &[]).status.success());
    assert!(compile(&second, &["--replace"]).status.success());
    assert!(
        std::fs::read_to_string(&manifest)
            .unwrap()
            .starts_with("# notebook: batch.ipynb\n")
    );
}

/// A notebook that loads component files compiles from the folder it is in, and its copy in
/// the output (which CI recompiles with `--check`) finds copies of those files beside it.
#[test]
fn component_files_are_read_beside_the_notebook_and_copied_beside_its_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = repo().join("tests/fixtures/pipelines");
    let dir = tmp.path().join("project");
    std::fs::create_dir(&dir).unwrap();
    for file in [
        "download_component.yaml",
        "train_component.yaml",
        "v1_split_component.yaml",
    ] {
        std::fs::copy(fixtures.join(file), dir.join(file)).unwrap();
    }
    let text = std::fs::read_to_string(fixtures.join("component_files.py")).unwrap();
    std::fs::write(dir.join("components.ipynb"), percent_to_ipynb(&text)).unwrap();
    // Run from elsewhere: the files are found beside the notebook, not in the working directory.
    let compiled = automlops(
        &[
            "compile",
            "project/components.ipynb",
            "-o",
            "out",
            "--run-local",
            "false",
        ],
        tmp.path(),
    );
    assert!(compiled.status.success(), "{}", stderr(&compiled));
    let out = tmp.path().join("out");
    assert_eq!(
        std::fs::read(out.join("notebook/download_component.yaml")).unwrap(),
        std::fs::read(dir.join("download_component.yaml")).unwrap()
    );
    let check = automlops(
        &[
            "compile",
            "out/notebook/components.ipynb",
            "-o",
            "out",
            "--run-local",
            "false",
            "--check",
        ],
        tmp.path(),
    );
    assert!(check.status.success(), "{}", stderr(&check));
    // Without the file, the load is a located error and nothing is written.
    std::fs::remove_file(dir.join("train_component.yaml")).unwrap();
    let missing = automlops(
        &["compile", "project/components.ipynb", "-o", "out2"],
        tmp.path(),
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("component file `train_component.yaml`: cannot read it"),
        "{}",
        stderr(&missing)
    );
    assert!(!tmp.path().join("out2").exists());
}

/// The file system root and `.git` are never an output directory.
#[test]
fn the_root_and_git_directories_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join(".git")).unwrap();
    for (out, why) in [
        ("/", "the file system root"),
        (".git/out", "inside a `.git` directory"),
        ("a/../.git", "inside a `.git` directory"),
    ] {
        let output = automlops(
            &["compile", &example("training_kfp"), "-o", out],
            tmp.path(),
        );
        assert_eq!(output.status.code(), Some(2), "{out}: {}", stderr(&output));
        assert!(stderr(&output).contains(why), "{out}: {}", stderr(&output));
    }
    assert!(!Path::new("/.automlops-files").exists());
    assert_eq!(
        std::fs::read_dir(tmp.path().join(".git")).unwrap().count(),
        0
    );
}

/// What a compile killed while writing leaves is settled by the next compile: a staging whose
/// journal is written is finished (the killed compile's tree), one without a journal is
/// discarded (the old tree); `--check` says a compile was interrupted; staging directories of
/// older versions' dead processes go.
#[test]
fn an_interrupted_compile_is_finished_or_discarded_by_the_next() {
    let (tmp, out) = compiled_training_kfp();
    let out_arg = out.to_str().unwrap();
    let before = crate::common::read_tree(&out);
    let readme = before["README.md"].clone();

    // Killed while staging: no journal. The old tree stands, the staging goes.
    std::fs::create_dir_all(out.join(".automlops-staging/components")).unwrap();
    std::fs::write(out.join(".automlops-staging/README.md"), "half").unwrap();
    let copy = out.join("notebook/training.ipynb");
    let check = automlops(
        &["compile", copy.to_str().unwrap(), "-o", out_arg, "--check"],
        tmp.path(),
    );
    assert_eq!(check.status.code(), Some(1));
    assert!(stderr(&check).contains("interrupted"), "{}", stderr(&check));
    let again = automlops(
        &["compile", &example("training_kfp"), "-o", out_arg],
        tmp.path(),
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!out.join(".automlops-staging").exists());
    assert_eq!(crate::common::read_tree(&out), before);

    // Killed while moving: the journal is complete, README.md is moved already, a stale file
    // is still to be removed. The next compile finishes it before its own.
    std::fs::create_dir_all(out.join(".automlops-staging/scripts")).unwrap();
    std::fs::write(out.join(".automlops-staging/scripts/run_all.sh"), "new\n").unwrap();
    std::fs::write(out.join("README.md"), "moved already\n").unwrap();
    std::fs::write(out.join("components/gone.yaml"), "old\n").unwrap();
    std::fs::write(
        out.join(".automlops-staging/.journal"),
        "M README.md\nM scripts/run_all.sh\nR components/gone.yaml\nR ../outside\nM /etc/passwd\n",
    )
    .unwrap();
    let recovered = automlops(
        &["compile", &example("training_kfp"), "-o", out_arg],
        tmp.path(),
    );
    assert!(recovered.status.success(), "{}", stderr(&recovered));
    assert!(!out.join(".automlops-staging").exists());
    assert!(!out.join("components/gone.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("README.md")).unwrap(),
        readme
    );
    assert_eq!(crate::common::read_tree(&out), before);

    // An older version's staging beside the output, of a process that has ended.
    let legacy = tmp.path().join(".out.automlops-999999999");
    std::fs::create_dir_all(legacy.join("scripts")).unwrap();
    let cleaned = automlops(
        &["compile", &example("training_kfp"), "-o", out_arg],
        tmp.path(),
    );
    assert!(cleaned.status.success(), "{}", stderr(&cleaned));
    assert!(!legacy.exists());
}

/// Compiles killed at random moments, each followed by a compile: the tree is always the
/// compiled one, with no staging left.
#[cfg(unix)]
#[test]
fn compiles_killed_while_writing_leave_a_consistent_tree_after_the_next() {
    use std::fmt::Write as _;
    let tmp = tempfile::tempdir().unwrap();
    let (mut components, mut calls) = (String::new(), String::new());
    for i in 0..300 {
        let _ = write!(
            components,
            "# %%\n@dsl.component\ndef step_{i}(x: int):\n    print(x)\n"
        );
        let _ = writeln!(calls, "    step_{i}(x=x)");
    }
    let text = format!(
        "# %%\nfrom kfp import dsl\n{components}# %%\n@dsl.pipeline(name=\"many\")\ndef pipeline(x: int = 1):\n{calls}# %%\nfrom google_cloud_automlops import AutoMLOps\nAutoMLOps.generate(project_id=\"my-project\", use_kfp_spec=True)\n"
    );
    let notebook = tmp.path().join("many.ipynb");
    std::fs::write(&notebook, percent_to_ipynb(&text)).unwrap();
    let out = tmp.path().join("out");
    let args = [
        "compile",
        notebook.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    let first = automlops(&args, tmp.path());
    assert!(first.status.success(), "{}", stderr(&first));
    let expected = crate::common::read_tree(&out);
    for round in 0..8u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_automlops"))
            .args(args)
            .current_dir(tmp.path())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(round * 3));
        let _ = child.kill();
        let _ = child.wait();
        let next = automlops(&args, tmp.path());
        assert!(next.status.success(), "{}", stderr(&next));
        assert!(!out.join(".automlops-staging").exists());
        assert_eq!(crate::common::read_tree(&out), expected, "round {round}");
    }
}

/// Two compiles into one directory at once take turns: both succeed, and the tree is one
/// compile's, whole.
#[test]
fn concurrent_compiles_into_one_directory_take_turns() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let args = [
        "compile".to_owned(),
        example("training_kfp"),
        "-o".to_owned(),
        out.to_str().unwrap().to_owned(),
    ];
    for _ in 0..5 {
        let children: Vec<_> = (0..2)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_automlops"))
                    .args(&args)
                    .current_dir(tmp.path())
                    .output()
            })
            .collect();
        for child in children {
            let output = child.unwrap();
            assert!(output.status.success(), "{}", stderr(&output));
        }
    }
    let (_tmp2, reference) = compiled_training_kfp();
    assert_eq!(
        crate::common::read_tree(&out),
        crate::common::read_tree(&reference)
    );
}

/// A `--pipeline-params` file that gives a value twice is refused, with where.
#[test]
fn a_parameters_file_with_a_key_given_twice_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("params.json"), "{\"x\": 1,\n \"x\": 2}\n").unwrap();
    let output = automlops(
        &[
            "compile",
            &example("training_kfp"),
            "-o",
            "out",
            "--pipeline-params",
            "params.json",
        ],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the key `x` is given twice at line 2"),
        "{}",
        stderr(&output)
    );
    assert!(!tmp.path().join("out").exists());
}

/// A `--pipeline-params` file is checked with the parameters' JSON Schema: each wrong value
/// and unknown name is named by its JSON path, and nothing is written. The values file a
/// compile writes (which names its schema in `$schema`) is itself a valid parameters file.
#[test]
fn a_parameters_file_is_checked_with_the_parameters_schema() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("params.json"),
        r#"{"bq_table": 5, "data_pth": "gs://b/d", "region": null}"#,
    )
    .unwrap();
    let compile = |params: &str, out: &str| {
        automlops(
            &[
                "compile",
                &example("training_custom"),
                "-o",
                out,
                "--pipeline-params",
                params,
            ],
            tmp.path(),
        )
    };
    let output = compile("params.json", "out");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    let errors: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("error: --pipeline-params: "))
        .collect();
    assert_eq!(errors.len(), 3, "{text}");
    assert!(
        errors.contains(&"$.bq_table: expected a string, got an integer: 5"),
        "{text}"
    );
    assert!(
        errors.contains(&"$.region: expected a string, got null"),
        "{text}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with(
            "$.data_pth: not a parameter of this pipeline (did you mean \"data_path\"?)"
        )),
        "{text}"
    );
    assert!(!text.contains("every scheduled run"), "{text}");
    assert!(!tmp.path().join("out").exists());

    // The compiled values file, `$schema` and all, compiles back to the same values.
    let first = automlops(
        &["compile", &example("training_custom"), "-o", "first"],
        tmp.path(),
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let values = "first/pipelines/runtime_parameters/pipeline_parameter_values.json";
    let again = compile(values, "again");
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join(values)).unwrap(),
        std::fs::read_to_string(
            tmp.path()
                .join("again/pipelines/runtime_parameters/pipeline_parameter_values.json")
        )
        .unwrap()
    );
}
