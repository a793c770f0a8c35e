//! What `pipelines/run_local.py` reports, one JSON object per line (its module docstring is
//! the contract), and the run those reports add up to.

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// One line of the driver's stdout.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Event {
    Plan {
        pipeline: String,
        tasks: Vec<PlannedTask>,
        #[serde(default)]
        parameters: Map<String, Value>,
    },
    Started {
        task: String,
        iteration: Vec<u64>,
        #[serde(default)]
        inputs: Value,
        log: String,
    },
    Succeeded(Ended),
    Cached(Ended),
    Failed {
        task: String,
        iteration: Vec<u64>,
        seconds: f64,
        log: String,
    },
    Skipped {
        task: String,
        iteration: Vec<u64>,
        reason: String,
    },
    Warning {
        message: String,
        #[serde(default)]
        iteration: Vec<u64>,
    },
    Finished {
        state: String,
    },
    Error {
        problems: Vec<String>,
    },
    Interrupted,
    Crashed {
        message: String,
    },
}

#[derive(Debug, Deserialize)]
pub(crate) struct PlannedTask {
    pub(crate) task: String,
    pub(crate) display_name: String,
    #[serde(default)]
    pub(crate) groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Ended {
    pub(crate) task: String,
    pub(crate) iteration: Vec<u64>,
    pub(crate) seconds: f64,
    #[serde(default)]
    pub(crate) outputs: Map<String, Value>,
    #[serde(default)]
    pub(crate) artifacts: Map<String, Value>,
}

/// A task's state in a run, as `--summary-json` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Running,
    Succeeded,
    Cached,
    Skipped,
    Failed,
    /// Running when the run was stopped (Ctrl-C).
    Stopped,
    /// Never started before the run was stopped.
    NotRun,
}

impl State {
    pub(crate) fn word(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Cached => "cached",
            State::Skipped => "skipped",
            State::Failed => "failed",
            State::Stopped => "stopped",
            State::NotRun => "not run",
        }
    }
}

/// One task of the run (one loop iteration of it, inside loops).
#[derive(Debug)]
pub(crate) struct TaskRun {
    pub(crate) task: String,
    pub(crate) display_name: String,
    pub(crate) iteration: Vec<u64>,
    pub(crate) state: State,
    pub(crate) seconds: Option<f64>,
    pub(crate) inputs: Value,
    pub(crate) outputs: Map<String, Value>,
    pub(crate) artifacts: Map<String, Value>,
    pub(crate) log: Option<String>,
    pub(crate) reason: Option<String>,
}

impl TaskRun {
    /// A task that has just started: nothing known of it yet.
    fn new(task: String, display_name: String, iteration: Vec<u64>) -> Self {
        Self {
            task,
            display_name,
            iteration,
            state: State::Running,
            seconds: None,
            inputs: Value::Object(Map::new()),
            outputs: Map::new(),
            artifacts: Map::new(),
            log: None,
            reason: None,
        }
    }
}

/// The run so far.
#[derive(Debug, Default)]
pub(crate) struct Run {
    pub(crate) pipeline: String,
    pub(crate) parameters: Map<String, Value>,
    pub(crate) planned: Vec<PlannedTask>,
    pub(crate) tasks: Vec<TaskRun>,
    pub(crate) warnings: Vec<String>,
    pub(crate) finished: Option<String>,
    pub(crate) refused: Vec<String>,
    pub(crate) interrupted: bool,
    pub(crate) crashed: Option<String>,
}

impl Run {
    fn display_name(&self, task: &str) -> String {
        self.planned
            .iter()
            .find(|p| p.task == task)
            .map_or_else(|| task.to_owned(), |p| p.display_name.clone())
    }

    /// The record of `task` in `iteration`, made when it is the first event of it.
    fn entry(&mut self, task: &str, iteration: &[u64]) -> &mut TaskRun {
        let found = self
            .tasks
            .iter()
            .rposition(|t| t.task == task && t.iteration == iteration);
        let index = if let Some(index) = found {
            index
        } else {
            let display_name = self.display_name(task);
            self.tasks.push(TaskRun::new(
                task.to_owned(),
                display_name,
                iteration.to_vec(),
            ));
            self.tasks.len() - 1
        };
        &mut self.tasks[index]
    }

    /// Takes in one event.
    pub(crate) fn apply(&mut self, event: Event) {
        match event {
            Event::Plan {
                pipeline,
                tasks,
                parameters,
            } => {
                self.pipeline = pipeline;
                self.planned = tasks;
                self.parameters = parameters;
            }
            Event::Started {
                task,
                iteration,
                inputs,
                log,
            } => {
                let entry = self.entry(&task, &iteration);
                entry.state = State::Running;
                entry.inputs = inputs;
                entry.log = Some(log);
            }
            Event::Succeeded(ended) => self.end(ended, State::Succeeded),
            Event::Cached(ended) => self.end(ended, State::Cached),
            Event::Failed {
                task,
                iteration,
                seconds,
                log,
            } => {
                let entry = self.entry(&task, &iteration);
                entry.state = State::Failed;
                entry.seconds = Some(seconds);
                entry.log = Some(log);
            }
            Event::Skipped {
                task,
                iteration,
                reason,
            } => {
                let entry = self.entry(&task, &iteration);
                entry.state = State::Skipped;
                entry.reason = Some(reason);
            }
            Event::Warning { message, .. } => self.warnings.push(message),
            Event::Finished { state } => self.finished = Some(state),
            Event::Error { problems } => self.refused = problems,
            Event::Interrupted => self.interrupted = true,
            Event::Crashed { message } => self.crashed = Some(message),
        }
    }

    fn end(&mut self, ended: Ended, state: State) {
        let entry = self.entry(&ended.task, &ended.iteration);
        entry.state = state;
        entry.seconds = Some(ended.seconds);
        entry.outputs = ended.outputs;
        entry.artifacts = ended.artifacts;
    }

    /// After the driver exits: tasks still running were stopped, and planned tasks that never
    /// started were skipped (by a condition above them, an empty loop or a failure upstream)
    /// or, when the run was stopped, never run.
    pub(crate) fn close(&mut self, stopped: bool) {
        for task in &mut self.tasks {
            if task.state == State::Running {
                task.state = State::Stopped;
            }
        }
        let never: Vec<(String, String)> = self
            .planned
            .iter()
            .filter(|p| !self.tasks.iter().any(|t| t.task == p.task))
            .map(|p| (p.task.clone(), p.display_name.clone()))
            .collect();
        for (task, display_name) in never {
            let mut never_ran = TaskRun::new(task, display_name, Vec::new());
            never_ran.state = if stopped {
                State::NotRun
            } else {
                State::Skipped
            };
            never_ran.reason = Some(if stopped {
                "the run was stopped first".to_owned()
            } else {
                "never reached".to_owned()
            });
            self.tasks.push(never_ran);
        }
    }

    /// Whether every task that ran succeeded (or was served from the cache).
    pub(crate) fn succeeded(&self) -> bool {
        self.finished.as_deref() == Some("succeeded")
            && !self.interrupted
            && self
                .tasks
                .iter()
                .all(|t| matches!(t.state, State::Succeeded | State::Cached | State::Skipped))
    }

    /// `--summary-json`: the run's outcome for machines.
    pub(crate) fn summary(&self, run_id: &str, run_dir: &str, state: &str) -> Value {
        let tasks: Vec<Value> = self
            .tasks
            .iter()
            .map(|t| {
                let groups = self
                    .planned
                    .iter()
                    .find(|p| p.task == t.task)
                    .map(|p| p.groups.clone())
                    .unwrap_or_default();
                json!({
                    "name": t.task,
                    "display_name": t.display_name,
                    "groups": groups,
                    "state": t.state.word().replace(' ', "_"),
                    "duration_seconds": t.seconds,
                    "loop_iteration": t.iteration,
                    "inputs": t.inputs,
                    "outputs": t.outputs,
                    "artifacts": t.artifacts,
                    "log": t.log,
                    "reason": t.reason,
                })
            })
            .collect();
        json!({
            "pipeline": self.pipeline,
            "run_id": run_id,
            "run_dir": run_dir,
            "state": state,
            "parameters": self.parameters,
            "warnings": self.warnings,
            "error": self.crashed,
            "refused": self.refused,
            "tasks": tasks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(run: &mut Run, line: &str) {
        run.apply(serde_json::from_str(line).unwrap());
    }

    #[test]
    fn events_add_up_to_a_run_and_unreached_tasks_are_skipped() {
        let mut run = Run::default();
        apply(
            &mut run,
            r#"{"event": "plan", "pipeline": "p", "parameters": {"rows": 3}, "tasks": [
                {"task": "a", "display_name": "A", "groups": []},
                {"task": "b", "display_name": "b", "groups": ["for-loop-1"]},
                {"task": "c", "display_name": "c", "groups": ["condition-2"]}]}"#,
        );
        apply(
            &mut run,
            r#"{"event": "started", "task": "a", "iteration": [], "inputs": {"rows": 3}, "log": "l/a.log"}"#,
        );
        apply(
            &mut run,
            r#"{"event": "cached", "task": "a", "iteration": [], "seconds": 0.0, "outputs": {"n": 3}, "artifacts": {}}"#,
        );
        apply(
            &mut run,
            r#"{"event": "started", "task": "b", "iteration": [1], "inputs": {}, "log": "l/b-1.log"}"#,
        );
        apply(
            &mut run,
            r#"{"event": "started", "task": "b", "iteration": [0], "inputs": {}, "log": "l/b-0.log"}"#,
        );
        apply(
            &mut run,
            r#"{"event": "succeeded", "task": "b", "iteration": [0], "seconds": 1.5}"#,
        );
        apply(
            &mut run,
            r#"{"event": "failed", "task": "b", "iteration": [1], "seconds": 0.5, "log": "l/b-1.log"}"#,
        );
        apply(&mut run, r#"{"event": "finished", "state": "failed"}"#);
        run.close(false);
        let states: Vec<(&str, Vec<u64>, State)> = run
            .tasks
            .iter()
            .map(|t| (t.task.as_str(), t.iteration.clone(), t.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("a", vec![], State::Cached),
                ("b", vec![1], State::Failed),
                ("b", vec![0], State::Succeeded),
                ("c", vec![], State::Skipped),
            ]
        );
        assert!(!run.succeeded());
        let summary = run.summary("r", "d", "failed");
        assert_eq!(summary["tasks"][0]["display_name"], "A");
        assert_eq!(summary["tasks"][0]["outputs"]["n"], 3);
        assert_eq!(summary["tasks"][3]["reason"], "never reached");
    }

    #[test]
    fn a_stopped_run_says_what_was_running_and_what_never_ran() {
        let mut run = Run::default();
        apply(
            &mut run,
            r#"{"event": "plan", "pipeline": "p", "tasks": [{"task": "a", "display_name": "a"}, {"task": "b", "display_name": "b"}]}"#,
        );
        apply(
            &mut run,
            r#"{"event": "started", "task": "a", "iteration": [], "log": "l"}"#,
        );
        apply(&mut run, r#"{"event": "interrupted"}"#);
        run.close(true);
        assert_eq!(run.tasks[0].state, State::Stopped);
        assert_eq!(run.tasks[1].state, State::NotRun);
        assert_eq!(
            run.summary("r", "d", "stopped")["tasks"][1]["state"],
            "not_run"
        );
    }
}
