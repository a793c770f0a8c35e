//! `automlops run`: pipelines run on this machine with kfp.local, and what the runs did (which
//! tasks ran, in which loop iteration, with which inputs and outputs) read back from
//! `--summary-json`. The first test to need it makes the Python environment (kfp from PyPI)
//! under `target/automlops-run-cache`; later runs reuse it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{percent_to_ipynb, repo};

fn cache_dir() -> PathBuf {
    repo().join("target").join("automlops-run-cache")
}

fn automlops(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_automlops"))
        .args(args)
        .env("AUTOMLOPS_CACHE_DIR", cache_dir())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The fixture `tests/fixtures/run/NAME.py` (or any percent-format `.py`) as a notebook in `dir`.
fn notebook(fixture: &Path, dir: &Path) -> PathBuf {
    let path = dir.join(fixture.with_extension("ipynb").file_name().unwrap());
    std::fs::write(
        &path,
        percent_to_ipynb(&std::fs::read_to_string(fixture).unwrap()),
    )
    .unwrap();
    path
}

struct Ran {
    status: Option<i32>,
    stderr: String,
    summary: Value,
}

/// Runs `target` (a notebook or a compiled directory) with `extra` arguments.
fn run(target: &Path, out: &Path, summary: &Path, extra: &[&str]) -> Ran {
    let mut args = vec![
        "run",
        target.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--summary-json",
        summary.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = automlops(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let Ok(summary) = std::fs::read_to_string(summary) else {
        panic!("no summary; stderr:\n{stderr}")
    };
    let summary = serde_json::from_str(&summary).unwrap();
    Ran {
        status: output.status.code(),
        stderr,
        summary,
    }
}

/// The tasks of a summary named `name`, each as (loop iteration, state, inputs, outputs).
fn tasks<'a>(summary: &'a Value, name: &str) -> Vec<(Vec<u64>, &'a str, &'a Value, &'a Value)> {
    let mut found: Vec<_> = summary["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["name"] == name)
        .map(|t| {
            (
                t["loop_iteration"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_u64().unwrap())
                    .collect::<Vec<u64>>(),
                t["state"].as_str().unwrap(),
                &t["inputs"],
                &t["outputs"],
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn states(summary: &Value) -> Vec<(String, String)> {
    let mut states: Vec<(String, String)> = summary["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    states.sort();
    states
}

#[test]
fn three_steps_run_then_come_from_the_cache_until_an_input_changes() {
    let dir = tempfile::tempdir().unwrap();
    let nb = notebook(
        &repo().join("tests/fixtures/run/three_steps.py"),
        dir.path(),
    );
    let out = dir.path().join("AutoMLOps");
    let summary = dir.path().join("summary.json");

    let first = run(&nb, &out, &summary, &[]);
    assert_eq!(first.status, Some(0), "{}", first.stderr);
    assert_eq!(first.summary["state"], "succeeded");
    assert_eq!(
        first.summary["parameters"]["rows"], 20,
        "the compiled value"
    );
    let make_data = tasks(&first.summary, "make-data");
    assert_eq!(make_data.len(), 1);
    assert_eq!(make_data[0].1, "succeeded");
    assert_eq!(make_data[0].2["rows"], 20);
    assert_eq!(tasks(&first.summary, "train")[0].3["Output"], 2.0);
    let evaluate = &tasks(&first.summary, "evaluate")[0];
    assert_eq!(evaluate.2["slope"], 2.0, "the upstream output arrives");
    assert_eq!(evaluate.3["Output"], "good", "the model artifact arrives");
    assert!(
        first.stderr.contains("  succeeded  evaluate in "),
        "{}",
        first.stderr
    );

    // Run the compiled tree again: every task is served from kfp.local's cache.
    let second = run(&out, &out, &summary, &[]);
    assert_eq!(second.status, Some(0), "{}", second.stderr);
    assert_eq!(
        states(&second.summary),
        [
            ("evaluate", "cached"),
            ("make-data", "cached"),
            ("train", "cached")
        ]
        .map(|(n, s)| (n.to_owned(), s.to_owned()))
    );
    assert!(
        second.stderr.contains("  cached     train: "),
        "{}",
        second.stderr
    );
    assert_ne!(first.summary["run_dir"], second.summary["run_dir"]);

    // --no-cache runs every task; a changed parameter runs what depends on it.
    let forced = run(&out, &out, &summary, &["--no-cache"]);
    assert!(
        states(&forced.summary)
            .iter()
            .all(|(_, s)| s == "succeeded"),
        "{:?}",
        states(&forced.summary)
    );
    let changed = run(&out, &out, &summary, &["--param", "rows=5"]);
    assert_eq!(changed.status, Some(0), "{}", changed.stderr);
    assert_eq!(tasks(&changed.summary, "make-data")[0].2["rows"], 5);
    assert_eq!(tasks(&changed.summary, "make-data")[0].1, "succeeded");
    assert_eq!(tasks(&changed.summary, "evaluate")[0].3["Output"], "good");
}

#[test]
fn control_flow_runs_the_right_branches_each_loop_item_and_the_exit_task() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("AutoMLOps");
    let summary = dir.path().join("summary.json");
    let ran = run(
        &repo().join("examples/control_flow/control_flow.ipynb"),
        &out,
        &summary,
        &[],
    );
    assert_eq!(ran.status, Some(0), "{}", ran.stderr);
    let s = &ran.summary;
    // ParallelFor over the `learning_rates` parameter [0.01, 0.1], with parallelism 2.
    let loop_over_parameter = tasks(s, "train-model");
    assert_eq!(
        loop_over_parameter
            .iter()
            .map(|t| (t.0.clone(), t.1, t.2["learning_rate"].as_f64().unwrap()))
            .collect::<Vec<_>>(),
        vec![(vec![0], "succeeded", 0.01), (vec![1], "succeeded", 0.1)]
    );
    // ParallelFor over a literal list of dicts, with field access.
    let loop_over_dicts = tasks(s, "train-model-3");
    assert_eq!(
        loop_over_dicts
            .iter()
            .map(|t| t.2["n_estimators"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![10, 50]
    );
    // accuracy 0.9 >= 0.8 and deploy: the first branch, and its nested condition, run.
    assert_eq!(tasks(s, "deploy-model")[0].1, "succeeded");
    assert_eq!(tasks(s, "deploy-model")[0].2["project"], "cf-demo");
    for other_branch in ["log-message-2", "log-message-3"] {
        assert_eq!(tasks(s, other_branch)[0].1, "skipped", "{other_branch}");
    }
    // `rows > 50.5` (an integer against a float) holds in each split of the loop.
    let splits = tasks(s, "log-message-5");
    assert_eq!(
        splits
            .iter()
            .map(|t| (t.1, t.2["message"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        vec![("succeeded", "train"), ("succeeded", "test")]
    );
    // The loop over a task output: [1, 2], compared with the string "2": never equal.
    assert_eq!(
        tasks(s, "list-sizes")[0].3["Output"],
        serde_json::json!([1, 2])
    );
    assert!(tasks(s, "log-message-4").iter().all(|t| t.1 == "skipped"));
    // The exit task and the task after the loop.
    assert_eq!(tasks(s, "log-message")[0].2["message"], "pipeline finished");
    assert_eq!(tasks(s, "log-message-6")[0].1, "succeeded");
    assert_eq!(
        s["warnings"],
        serde_json::json!([]),
        "every condition was evaluated"
    );
}

#[test]
fn collected_outputs_arrive_after_the_loop() {
    let dir = tempfile::tempdir().unwrap();
    let nb = notebook(
        &repo().join("tests/fixtures/pipelines/collected_outputs.py"),
        dir.path(),
    );
    let out = dir.path().join("AutoMLOps");
    let summary = dir.path().join("summary.json");
    let ran = run(&nb, &out, &summary, &["--param", "xs=[1, 2, 3]"]);
    assert_eq!(ran.status, Some(0), "{}", ran.stderr);
    let totals: Vec<(i64, i64)> = ["total", "total-2", "total-3", "total-4"]
        .iter()
        .map(|name| {
            let task = &tasks(&ran.summary, name)[0];
            let nums: i64 = task.2["nums"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_f64().unwrap() as i64)
                .sum();
            (nums, task.3["Output"].as_i64().unwrap())
        })
        .collect();
    // d = 2x over [1, 2, 3]; z = 2y over [1, 2, 3]; e = 2d; then d again inside the conditions.
    assert_eq!(totals, vec![(12, 12), (12, 12), (24, 24), (12, 12)]);
}

#[test]
fn a_component_that_raises_fails_the_run_and_the_exit_task_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let nb = notebook(&repo().join("tests/fixtures/run/failing.py"), dir.path());
    let out = dir.path().join("AutoMLOps");
    let summary = dir.path().join("summary.json");
    let ran = run(&nb, &out, &summary, &[]);
    assert_eq!(ran.status, Some(1), "{}", ran.stderr);
    assert_eq!(ran.summary["state"], "failed");
    assert!(
        ran.stderr.contains("  FAILED     divide after "),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("Traceback (most recent call last)"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("ZeroDivisionError"), "{}", ran.stderr);
    assert_eq!(tasks(&ran.summary, "report")[0].1, "skipped");
    let clean_up = &tasks(&ran.summary, "clean-up")[0];
    assert_eq!(clean_up.1, "succeeded");
    let log = ran.summary["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "clean-up")
        .unwrap()["log"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("pipeline ended: FAILED"),
        "the exit task is told how the pipeline ended"
    );
    assert!(ran.stderr.contains("1 failed"), "{}", ran.stderr);

    let fixed = run(&out, &out, &summary, &["--param", "denominator=4"]);
    assert_eq!(fixed.status, Some(0), "{}", fixed.stderr);
    assert_eq!(tasks(&fixed.summary, "report")[0].2["value"], 0.25);
}

#[test]
fn parameters_that_do_not_fit_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let nb = notebook(
        &repo().join("tests/fixtures/run/three_steps.py"),
        dir.path(),
    );
    let out = dir.path().join("AutoMLOps");
    let output = automlops(&[
        "run",
        nb.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--param",
        "rows=ten",
        "--param",
        "rowz=3",
        // Never reached: the parameters are checked first.
        "--python",
        "/nonexistent/python3",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: $.rows: expected an integer, got a string: \"ten\"\n"),
        "{stderr}"
    );
    assert!(stderr.contains("error: $.rowz: "), "{stderr}");
    assert!(stderr.contains("nothing ran"), "{stderr}");
    assert!(!out.join(".automlops").exists(), "no run was started");
}

#[test]
fn a_python_that_cannot_run_and_a_missing_docker_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let nb = notebook(
        &repo().join("tests/fixtures/run/three_steps.py"),
        dir.path(),
    );
    let out = dir.path().join("AutoMLOps");
    let output = automlops(&[
        "run",
        nb.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--python",
        "/nonexistent/python3",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: `--python /nonexistent/python3` cannot be run"),
        "{stderr}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_automlops"))
        .args(["run", out.to_str().unwrap(), "--runner", "docker"])
        .env("AUTOMLOPS_CACHE_DIR", cache_dir())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: --runner docker needs "), "{stderr}");
    assert!(stderr.contains("leave out --runner"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_run_and_says_what_was_left() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;

    let dir = tempfile::tempdir().unwrap();
    let nb = notebook(&repo().join("tests/fixtures/run/slow.py"), dir.path());
    let out = dir.path().join("AutoMLOps");
    let summary = dir.path().join("summary.json");
    // Its own process group, as a terminal's foreground job: Ctrl-C reaches every process in it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_automlops"))
        .args([
            "run",
            nb.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--summary-json",
            summary.to_str().unwrap(),
        ])
        .env("AUTOMLOPS_CACHE_DIR", cache_dir())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("  started    wait\n") {
        assert_ne!(
            stderr.read_line(&mut seen).unwrap(),
            0,
            "ended before the task started:\n{seen}"
        );
    }
    let group = format!("-{}", child.id());
    assert!(
        Command::new("kill")
            .args(["-INT", "--", &group])
            .status()
            .unwrap()
            .success()
    );
    let started = std::time::Instant::now();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed().as_secs() < 30,
        "stopped at once, not after the task's minute"
    );
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(
        rest.contains("stopped: 1 task(s) were running (wait); 1 never started (wait-2)"),
        "{seen}{rest}"
    );
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(summary["state"], "stopped");
    assert_eq!(
        states(&summary),
        [("wait", "stopped"), ("wait-2", "not_run")].map(|(n, s)| (n.to_owned(), s.to_owned()))
    );
}

/// Runs the fixture pipeline `tests/fixtures/pipelines/NAME.py` and returns its summary.
/// Without the cache: two iterations of one task with the same inputs (`say(message=y)` in
/// nested loops) would otherwise be served one from the other, in whichever order they end.
fn run_fixture(name: &str, dir: &Path) -> Ran {
    let nb = notebook(
        &repo().join(format!("tests/fixtures/pipelines/{name}.py")),
        dir,
    );
    run(
        &nb,
        &dir.join(name),
        &dir.join(format!("{name}.json")),
        &["--no-cache"],
    )
}

fn iterations(summary: &Value, name: &str, state: &str) -> Vec<Vec<u64>> {
    tasks(summary, name)
        .into_iter()
        .filter(|t| t.1 == state)
        .map(|t| t.0)
        .collect()
}

/// What each fixture pipeline does with its compiled parameters, read from its source:
/// which branch of each condition runs, how many times each loop runs and with which item.
#[test]
fn fixture_pipelines_run_the_branches_and_loop_items_their_source_says() {
    let dir = tempfile::tempdir().unwrap();

    // n=3, ok=True, s="v", x=0.5: n == 100 and 3 != n are false, the rest true.
    let ran = run_fixture("condition_operand_types", dir.path());
    assert_eq!(ran.status, Some(0), "{}", ran.stderr);
    let skipped: Vec<String> = states(&ran.summary)
        .into_iter()
        .filter(|(_, s)| s == "skipped")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(skipped, ["say", "say-5"]);
    assert_eq!(
        tasks(&ran.summary, "say-7")[0].2["message"],
        "f",
        "k.output >= 2.5 with k = 3"
    );

    // xs=[1, 2] times ["p", "q"]: four iterations of each task.
    let ran = run_fixture("nested_loops", dir.path());
    assert_eq!(ran.status, Some(0), "{}", ran.stderr);
    let all = vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]];
    for task in ["say", "make", "use"] {
        assert_eq!(iterations(&ran.summary, task, "succeeded"), all, "{task}");
    }
    let messages: Vec<&str> = tasks(&ran.summary, "say")
        .iter()
        .map(|t| t.2["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["p", "q", "p", "q"]);

    // shards=[1, 2, 3], merge_twice=False: three shards merged once; the second merge skipped.
    let ran = run_fixture("collected_artifacts", dir.path());
    assert_eq!(ran.status, Some(0), "{}", ran.stderr);
    let indexes: Vec<i64> = tasks(&ran.summary, "make-shard")
        .iter()
        .map(|t| t.2["index"].as_i64().unwrap())
        .collect();
    assert_eq!(indexes, [1, 2, 3]);
    assert_eq!(tasks(&ran.summary, "merge-shards")[0].3["Output"], 3);
    assert_eq!(tasks(&ran.summary, "merge-shards-2")[0].1, "skipped");
    assert_eq!(tasks(&ran.summary, "make-shard-2")[0].1, "skipped");

    // items() is [{"a": "x"}]: item.a == "x" holds once; the task in the loop that takes
    // first.output gets "first", not the item.
    let ran = run_fixture("loop_over_task_output", dir.path());
    assert_eq!(ran.status, Some(0), "{}", ran.stderr);
    let say = &tasks(&ran.summary, "say-2")[0];
    assert_eq!((say.0.clone(), say.1), (vec![0], "succeeded"));
    assert_eq!(say.2["message"], "first");
    assert_eq!(iterations(&ran.summary, "num", "succeeded"), [vec![0]]);

    // [{"n": 10, "m": 1}, {"n": 20, "m": 2}]: cfg.n == 10 in the first item only.
    let ran = run_fixture("condition_on_literal_item_field", dir.path());
    assert_eq!(ran.status, Some(0), "{}", ran.stderr);
    assert_eq!(iterations(&ran.summary, "say", "succeeded"), [vec![0]]);
    assert_eq!(iterations(&ran.summary, "say", "skipped"), [vec![1]]);
    let ms: Vec<i64> = tasks(&ran.summary, "num")
        .iter()
        .map(|t| t.2["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ms, [1, 2]);
    assert_eq!(ran.summary["warnings"], serde_json::json!([]));

    // The exit task with dsl.PipelineTaskFinalStatus runs after the handler's tasks.
    let ran = run_fixture("exit_task_with_final_status", dir.path());
    assert_eq!(ran.status, Some(0), "{}", ran.stderr);
    assert_eq!(tasks(&ran.summary, "notify")[0].1, "succeeded");

    // What cannot run here is refused before anything runs, saying what instead.
    for (name, says) in [
        (
            "container_components",
            "which the subprocess runner cannot run: use `--runner docker`",
        ),
        (
            "google_cloud_pipeline_components",
            "which calls Vertex AI: it cannot run on this machine",
        ),
    ] {
        let ran = run_fixture(name, dir.path());
        assert_eq!(ran.status, Some(2), "{name}: {}", ran.stderr);
        assert!(ran.stderr.contains(says), "{name}: {}", ran.stderr);
        assert!(ran.stderr.contains("nothing ran"), "{name}: {}", ran.stderr);
        assert_eq!(ran.summary["state"], "refused");
        assert!(ran.summary["refused"][0].as_str().unwrap().contains(says));
        assert_eq!(ran.summary["tasks"], serde_json::json!([]));
    }
}
