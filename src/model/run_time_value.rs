//! A parameter value that is computed afresh at every submission: a timestamp, a date, the
//! time or a UUID, alone or joined with known text (`f"gs://b/models/{datetime.now()}"`).
//!
//! AutoMLOps evaluated such values once, when the notebook ran, so every scheduled run wrote
//! to the same "timestamped" folder. Here the compiled values file carries the template, and
//! each submission (the runner service, so the schedule too, and `pipeline_runner.py`)
//! evaluates it: see `evaluate_run_time_values` in `templates/runner/pipeline_runner.py`.

/// What a piece computes, as the notebook's call does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// `datetime.now()`: local time where it is submitted (UTC on Cloud Run).
    Now,
    /// `date.today()`.
    Today,
    /// `time.time()`: seconds since the epoch.
    Time,
    /// `uuid.uuid4()`.
    Uuid4,
}

impl Source {
    fn key(self) -> &'static str {
        match self {
            Source::Now => "now",
            Source::Today => "today",
            Source::Time => "time",
            Source::Uuid4 => "uuid4",
        }
    }
}

/// One piece of the value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Part {
    Text(String),
    /// A call, as Python's `str()` writes its result, or `.strftime(format)` when given.
    /// `call` names the call in the notebook (`c4:120`): pieces of one call share one value
    /// per submission, as the notebook's constant held one value.
    Computed {
        source: Source,
        format: Option<String>,
        call: String,
    },
}

/// The template of a value computed at submission, with the notebook's expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunTimeValue {
    /// The notebook's expression, for whoever reads the values file.
    pub(crate) source: String,
    pub(crate) parts: Vec<Part>,
    /// A bare `time.time()` for a `float` parameter: a number, not text.
    pub(crate) as_number: bool,
}

impl RunTimeValue {
    /// As the values file writes it: `{"$run_time": <expression>, "template": [...]}`, an
    /// object no parameter value takes, since only `str` (and `float`) parameters get one.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let template: Vec<serde_json::Value> = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => serde_json::json!({ "text": text }),
                Part::Computed {
                    source,
                    format,
                    call,
                } => {
                    let mut piece = serde_json::Map::new();
                    piece.insert(
                        source.key().to_owned(),
                        format
                            .as_ref()
                            .map_or(serde_json::Value::Null, |f| f.clone().into()),
                    );
                    piece.insert("call".to_owned(), call.clone().into());
                    serde_json::Value::Object(piece)
                }
            })
            .collect();
        let mut written = serde_json::Map::new();
        written.insert("$run_time".to_owned(), self.source.clone().into());
        if self.as_number {
            written.insert("as_number".to_owned(), true.into());
        }
        written.insert("template".to_owned(), template.into());
        serde_json::Value::Object(written)
    }

    /// Whether it is a bare `time.time()`, which a `float` parameter takes as a number.
    pub(crate) fn is_bare_time(&self) -> bool {
        matches!(
            self.parts.as_slice(),
            [Part::Computed {
                source: Source::Time,
                format: None,
                ..
            }]
        )
    }
}
