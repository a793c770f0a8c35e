//! The types that flow along pipeline edges, as KFP's IR names them.

use std::fmt;

/// A parameter's type (`parameterType` in the IR).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ParamType {
    String,
    Integer,
    Double,
    Boolean,
    List,
    Struct,
    /// `dsl.PipelineTaskFinalStatus`: how the tasks of an exit handler ended, which kfp gives
    /// the exit task.
    TaskFinalStatus,
}

impl ParamType {
    /// The IR enum name.
    pub(crate) fn ir_name(self) -> &'static str {
        match self {
            ParamType::String => "STRING",
            ParamType::Integer => "NUMBER_INTEGER",
            ParamType::Double => "NUMBER_DOUBLE",
            ParamType::Boolean => "BOOLEAN",
            ParamType::List => "LIST",
            ParamType::Struct => "STRUCT",
            ParamType::TaskFinalStatus => "TASK_FINAL_STATUS",
        }
    }

    /// The type of an IR `parameterType`.
    pub(crate) fn from_ir(name: &str) -> Option<Self> {
        [
            ParamType::String,
            ParamType::Integer,
            ParamType::Double,
            ParamType::Boolean,
            ParamType::List,
            ParamType::Struct,
            ParamType::TaskFinalStatus,
        ]
        .into_iter()
        .find(|t| t.ir_name() == name)
    }

    /// The Python annotation that declares it.
    pub(crate) fn python(self) -> &'static str {
        match self {
            ParamType::String => "str",
            ParamType::Integer => "int",
            ParamType::Double => "float",
            ParamType::Boolean => "bool",
            ParamType::List => "list",
            ParamType::Struct => "dict",
            ParamType::TaskFinalStatus => "dsl.PipelineTaskFinalStatus",
        }
    }

    /// The type kfp gives a literal value (Python's `type(value)`); `None` for `None`.
    pub(crate) fn of_value(value: &serde_json::Value) -> Option<Self> {
        use serde_json::Value;
        Some(match value {
            Value::String(_) => ParamType::String,
            Value::Bool(_) => ParamType::Boolean,
            Value::Number(n) if n.is_f64() => ParamType::Double,
            Value::Number(_) => ParamType::Integer,
            Value::Array(_) => ParamType::List,
            Value::Object(_) => ParamType::Struct,
            Value::Null => return None,
        })
    }

    /// From a Python builtin type name.
    pub(crate) fn from_python(name: &str) -> Option<Self> {
        Some(match name {
            "str" => ParamType::String,
            "int" => ParamType::Integer,
            "float" => ParamType::Double,
            "bool" => ParamType::Boolean,
            "list" | "List" => ParamType::List,
            "dict" | "Dict" => ParamType::Struct,
            _ => return None,
        })
    }

    /// Whether a JSON value is acceptable for this type. Integers are acceptable doubles, as in
    /// Python (`learning_rate: float = 1`).
    /// Whether a constant passed to a component input of this type is accepted. Stricter than
    /// [`Self::accepts`] as kfp is: an integer literal does not fit a `float` input (kfp raises
    /// `InconsistentTypeException`; `2.0` does).
    pub(crate) fn accepts_argument(self, value: &serde_json::Value) -> bool {
        if holds_none(value) {
            return false;
        }
        match (self, value) {
            (ParamType::Double, serde_json::Value::Number(n)) => n.is_f64(),
            _ => self.accepts(value),
        }
    }

    pub(crate) fn accepts(self, value: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (self, value) {
            (ParamType::String, Value::String(_))
            | (ParamType::Boolean, Value::Bool(_))
            | (ParamType::List, Value::Array(_))
            | (ParamType::Struct, Value::Object(_))
            | (ParamType::Double, Value::Number(_)) => true,
            (ParamType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            _ => false,
        }
    }
}

/// Whether a list or dict holds `None` somewhere. kfp refuses that in a default or a
/// constant argument ("Value must be one of the following types: str, int, float, bool, dict,
/// and list").
pub(crate) fn holds_none(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter().any(|v| v.is_null() || holds_none(v)),
        Value::Object(map) => map.values().any(|v| v.is_null() || holds_none(v)),
        _ => false,
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.python(), self.ir_name())
    }
}

/// KFP's system artifact types, and Google Cloud Pipeline Components' own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ArtifactType {
    Artifact,
    Dataset,
    Model,
    Metrics,
    ClassificationMetrics,
    SlicedClassificationMetrics,
    Html,
    Markdown,
    Google(GoogleArtifact),
}

/// The artifact types of `google_cloud_pipeline_components.types.artifact_types` (schema
/// `google.<name>`, version 0.0.1), as `data/gcpc/catalogue.json` lists them (a test compares).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum GoogleArtifact {
    BqmlModel,
    BqTable,
    ClassificationMetrics,
    ForecastingMetrics,
    RegressionMetrics,
    UnmanagedContainerModel,
    VertexBatchPredictionJob,
    VertexDataset,
    VertexEndpoint,
    VertexModel,
}

impl GoogleArtifact {
    pub(crate) const ALL: [GoogleArtifact; 10] = [
        GoogleArtifact::BqmlModel,
        GoogleArtifact::BqTable,
        GoogleArtifact::ClassificationMetrics,
        GoogleArtifact::ForecastingMetrics,
        GoogleArtifact::RegressionMetrics,
        GoogleArtifact::UnmanagedContainerModel,
        GoogleArtifact::VertexBatchPredictionJob,
        GoogleArtifact::VertexDataset,
        GoogleArtifact::VertexEndpoint,
        GoogleArtifact::VertexModel,
    ];

    /// The Python class name in `google_cloud_pipeline_components.types.artifact_types`.
    pub(crate) fn python(self) -> &'static str {
        match self {
            GoogleArtifact::BqmlModel => "BQMLModel",
            GoogleArtifact::BqTable => "BQTable",
            GoogleArtifact::ClassificationMetrics => "ClassificationMetrics",
            GoogleArtifact::ForecastingMetrics => "ForecastingMetrics",
            GoogleArtifact::RegressionMetrics => "RegressionMetrics",
            GoogleArtifact::UnmanagedContainerModel => "UnmanagedContainerModel",
            GoogleArtifact::VertexBatchPredictionJob => "VertexBatchPredictionJob",
            GoogleArtifact::VertexDataset => "VertexDataset",
            GoogleArtifact::VertexEndpoint => "VertexEndpoint",
            GoogleArtifact::VertexModel => "VertexModel",
        }
    }
}

impl ArtifactType {
    pub(crate) const ALL: [ArtifactType; 8] = [
        ArtifactType::Artifact,
        ArtifactType::Dataset,
        ArtifactType::Model,
        ArtifactType::Metrics,
        ArtifactType::ClassificationMetrics,
        ArtifactType::SlicedClassificationMetrics,
        ArtifactType::Html,
        ArtifactType::Markdown,
    ];

    /// The Python class name in `kfp.dsl`.
    pub(crate) fn python(self) -> &'static str {
        match self {
            ArtifactType::Artifact => "Artifact",
            ArtifactType::Dataset => "Dataset",
            ArtifactType::Model => "Model",
            ArtifactType::Metrics => "Metrics",
            ArtifactType::ClassificationMetrics => "ClassificationMetrics",
            ArtifactType::SlicedClassificationMetrics => "SlicedClassificationMetrics",
            ArtifactType::Html => "HTML",
            ArtifactType::Markdown => "Markdown",
            ArtifactType::Google(google) => google.python(),
        }
    }

    /// `schemaTitle` in the IR.
    pub(crate) fn schema_title(self) -> String {
        match self {
            ArtifactType::Google(google) => format!("google.{}", google.python()),
            _ => format!("system.{}", self.python()),
        }
    }

    /// The type of a `schemaTitle`.
    pub(crate) fn from_schema_title(title: &str) -> Option<Self> {
        if let Some(name) = title.strip_prefix("google.") {
            return GoogleArtifact::ALL
                .into_iter()
                .find(|g| g.python() == name)
                .map(ArtifactType::Google);
        }
        let name = title.strip_prefix("system.")?;
        Self::ALL.into_iter().find(|t| t.python() == name)
    }

    /// kfp's own class of that name, else Google's (`ClassificationMetrics` is kfp's).
    pub(crate) fn from_python(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.python() == name)
            .or_else(|| Self::google().find(|t| t.python() == name))
    }

    /// Google Cloud Pipeline Components' artifact types.
    pub(crate) fn google() -> impl Iterator<Item = ArtifactType> {
        GoogleArtifact::ALL.into_iter().map(ArtifactType::Google)
    }

    /// KFP's rule: equal types, or either side is the generic `Artifact`.
    pub(crate) fn compatible(self, other: ArtifactType) -> bool {
        self == other || self == ArtifactType::Artifact || other == ArtifactType::Artifact
    }
}

/// What travels on an edge: a parameter or an artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum IoType {
    Parameter(ParamType),
    Artifact(ArtifactType),
    /// `Input[List[Dataset]]`: the artifacts a loop's task made, one per iteration
    /// (`dsl.Collected`).
    ArtifactList(ArtifactType),
}

impl fmt::Display for IoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IoType::Parameter(t) => write!(f, "a parameter of type {t}"),
            IoType::Artifact(t) => write!(f, "an artifact of type {}", t.python()),
            IoType::ArtifactList(t) => write!(f, "a list of artifacts of type {}", t.python()),
        }
    }
}
