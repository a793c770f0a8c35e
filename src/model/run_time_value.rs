//! A parameter value that is computed afresh at every submission: a timestamp, a date, the
//! time or a UUID, alone or joined with known text (`f"gs://b/models/{datetime.now()}"`).
//!
//! AutoMLOps evaluated such values once, when the notebook ran, so every scheduled run wrote
//! to the same "timestamped" folder. Here the compiled values file carries the template, and
//! each submission (the runner service, so the schedule too, and `pipeline_runner.py`)
//! evaluates it: see `evaluate_run_time_values` in `templates/runner/pipeline_runner.py`.

use serde::Serialize;

/// One piece of the value, as Python's `str()` writes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Part {
    Text(String),
    /// `datetime.now()`, or `datetime.now().strftime(FORMAT)`: local time where it is
    /// submitted (UTC on Cloud Run).
    Now(Option<String>),
    /// `date.today()`, or `date.today().strftime(FORMAT)`.
    Today(Option<String>),
    /// `time.time()`: seconds since the epoch.
    Time,
    /// `uuid.uuid4()`.
    Uuid4,
}

/// The template of a value computed at submission, with the notebook's expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunTimeValue {
    /// The notebook's expression, for whoever reads the values file.
    pub(crate) source: String,
    pub(crate) parts: Vec<Part>,
}

/// How the values file writes it: an object no parameter value takes, since only string
/// (and, for a bare `time.time()`, float) parameters get one.
#[derive(Serialize)]
struct Written<'a> {
    #[serde(rename = "$run_time")]
    source: &'a str,
    template: &'a [Part],
}

impl RunTimeValue {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(Written {
            source: &self.source,
            template: &self.parts,
        })
        .unwrap_or_default()
    }

    /// Whether it is a bare `time.time()`, a number rather than text.
    pub(crate) fn is_number(&self) -> bool {
        self.parts == [Part::Time]
    }
}
