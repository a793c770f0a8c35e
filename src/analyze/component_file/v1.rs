//! KFP v1 component files (`name:`, `inputs:`, `outputs:`, `implementation: container:`), as
//! kfp 2 reads them (`ComponentSpec.from_v1_component_spec`): input and output names made
//! identifiers, v1 type names mapped to parameter or artifact types (anything else is a
//! generic artifact), defaults cast to the type, and v1 placeholders (`{inputValue: x}`,
//! `{outputPath: y}`, `{concat: [...]}`, `{if: {cond: {isPresent: x}, ...}}`) made kfp 2's.
//!
//! Where kfp 2 writes a task that cannot work (a value placeholder of an input it types as
//! an artifact) or fails to load the file, we refuse with the reason.

use serde_json::Value as Json;

use crate::diagnostic::Span;
use crate::model::{
    ArtifactType, CommandLine, Component, ContainerSpec, Elements, Input, IoType, LoadedFile,
    Output, ParamType,
};

/// Why a v1 file does not compile.
pub(super) enum Refusal {
    /// kfp 2 compiles it, we cannot yet: the user can convert the file with kfp 2.
    NotSupported(String),
    /// The file is wrong (kfp 2 fails on it, or writes a task that cannot run).
    Invalid(String),
}

use Refusal::{Invalid, NotSupported};

/// kfp's `PARAMETER_TYPES_MAPPING`, by lower-case v1 type name.
fn parameter_type(name: &str) -> Option<ParamType> {
    Some(match name.to_lowercase().as_str() {
        "integer" | "int" => ParamType::Integer,
        "double" | "float" => ParamType::Double,
        "string" | "str" | "text" => ParamType::String,
        "bool" | "boolean" => ParamType::Boolean,
        "dict" | "jsonobject" => ParamType::Struct,
        "list" | "jsonarray" => ParamType::List,
        _ => return None,
    })
}

/// The v1 type name kfp casts defaults to `ty` by.
fn v1_name(ty: ParamType) -> &'static str {
    match ty {
        ParamType::Integer => "Integer",
        ParamType::Double => "Float",
        ParamType::Boolean => "Boolean",
        ParamType::List => "JsonArray",
        ParamType::Struct => "JsonObject",
        ParamType::String | ParamType::TaskFinalStatus => "String",
    }
}

/// kfp's `get_canonical_name_for_outer_generic`: `typing.List[str]` is `List`.
fn outer_generic(name: &str) -> &str {
    let name = name.strip_prefix("typing.").unwrap_or(name);
    let lower = name.to_lowercase();
    if lower.starts_with("list") || lower.starts_with("dict") {
        name.split('[').next().unwrap_or(name)
    } else {
        name
    }
}

/// kfp's `sanitize_input_name`: lower case, runs of anything but `[_0-9a-z]` become `_`,
/// leading and trailing `_` go.
fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.to_lowercase().chars() {
        if c == '_' || c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out.trim_matches('_').to_owned()
}

/// The type of a v1 input or output, as kfp 2 maps it.
fn io_type(declared: Option<&Json>) -> Result<IoType, Refusal> {
    let Some(Json::String(name)) = declared else {
        // No type, or a structured type (`{GCSPath: {...}}`): a generic artifact.
        return Ok(IoType::Artifact(ArtifactType::Artifact));
    };
    let name = outer_generic(name);
    if name == "PipelineTaskFinalStatus" {
        return Ok(IoType::Parameter(ParamType::TaskFinalStatus));
    }
    if let Some(ty) = parameter_type(name) {
        return Ok(IoType::Parameter(ty));
    }
    if let Some(google) = name.strip_prefix("google.")
        && !google.is_empty()
        && google.chars().all(|c| c.is_ascii_alphabetic())
    {
        return ArtifactType::from_schema_title(name)
            .map(IoType::Artifact)
            .ok_or_else(|| NotSupported(format!("has the artifact type `{name}`")));
    }
    let lower = name.to_lowercase();
    Ok(IoType::Artifact(
        ArtifactType::ALL
            .into_iter()
            .find(|t| t.python().to_lowercase() == lower)
            .unwrap_or(ArtifactType::Artifact),
    ))
}

/// kfp's `deserialize_v1_component_yaml_default`: the default cast by the type name as
/// written, lower-cased (so `typing.Dict[str, str]` casts nothing, and its default stays a
/// string, as kfp leaves it), with Python's `int()`, `float()`, `str()`, `strtobool` and
/// `json.loads` (whose failure keeps the text).
fn default_of(declared: Option<&Json>, default: &Json, input: &str) -> Result<Json, Refusal> {
    let Some(Json::String(declared)) = declared else {
        return Ok(default.clone());
    };
    let bad = || {
        Invalid(format!(
            "gives input `{input}` the default {default}, which kfp cannot read as `{declared}`"
        ))
    };
    Ok(match (declared.to_lowercase().as_str(), default) {
        ("integer" | "int", Json::Number(n)) => match n.as_i64() {
            Some(_) => default.clone(),
            // Python's int() of a float truncates.
            None => Json::from(
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .ok_or_else(bad)?
                    .trunc() as i64,
            ),
        },
        ("integer" | "int", Json::Bool(b)) => Json::from(i64::from(*b)),
        ("integer" | "int", Json::String(s)) => Json::from(
            s.trim()
                .replace('_', "")
                .parse::<i64>()
                .map_err(|_| bad())?,
        ),
        ("double" | "float", Json::Number(n)) => Json::from(n.as_f64().ok_or_else(bad)?),
        ("double" | "float", Json::Bool(b)) => Json::from(f64::from(u8::from(*b))),
        ("double" | "float", Json::String(s)) => {
            let f: f64 = s.trim().parse().map_err(|_| bad())?;
            serde_json::Number::from_f64(f)
                .map(Json::Number)
                .ok_or_else(bad)?
        }
        ("string" | "str" | "text", Json::String(_)) => default.clone(),
        ("string" | "str" | "text", Json::Bool(b)) => {
            Json::String(if *b { "True" } else { "False" }.to_owned())
        }
        ("string" | "str" | "text", Json::Number(n)) if n.is_i64() || n.is_u64() => {
            Json::String(n.to_string())
        }
        ("string" | "str" | "text", _) => {
            return Err(NotSupported(format!(
                "which gives the string input `{input}` the default {default}, not a string (quote it)"
            )));
        }
        ("bool" | "boolean", Json::String(s)) => match s.to_lowercase().as_str() {
            "y" | "yes" | "t" | "true" | "on" | "1" => Json::Bool(true),
            "n" | "no" | "f" | "false" | "off" | "0" => Json::Bool(false),
            _ => return Err(bad()),
        },
        ("dict" | "list" | "jsonobject" | "jsonarray", Json::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| default.clone())
        }
        _ => default.clone(),
    })
}

struct Io {
    /// Each input: its name in the file, its kfp name, its type.
    inputs: Vec<(String, String, IoType)>,
    outputs: Vec<(String, String, IoType)>,
}

pub(super) fn component(
    document: &Json,
    defined_at: Span,
    file: Option<LoadedFile>,
) -> Result<Component, Refusal> {
    let raw_name = document["name"]
        .as_str()
        .ok_or_else(|| Invalid("has no `name`".to_owned()))?;
    let Some(container) = document["implementation"]["container"].as_object() else {
        return Err(NotSupported(
            "whose implementation is not a container".to_owned(),
        ));
    };
    if let Some(other) = container
        .keys()
        .find(|k| !matches!(k.as_str(), "image" | "command" | "args" | "env"))
    {
        return Err(NotSupported(format!(
            "which sets the container's `{other}`"
        )));
    }
    let image = container
        .get("image")
        .and_then(Json::as_str)
        .ok_or_else(|| Invalid("has a container without an image".to_owned()))?;

    let mut io = Io {
        inputs: Vec::new(),
        outputs: Vec::new(),
    };
    let mut inputs = Vec::new();
    for spec in list(&document["inputs"], "inputs")? {
        let raw = spec["name"]
            .as_str()
            .ok_or_else(|| Invalid("has an input without a `name`".to_owned()))?;
        let name = sanitize(raw);
        if name.is_empty() || io.inputs.iter().any(|(_, n, _)| *n == name) {
            return Err(Invalid(format!(
                "has an input `{raw}` that kfp cannot name apart from the others"
            )));
        }
        let ty = io_type(spec.get("type"))?;
        let given = spec.get("default").filter(|d| !d.is_null());
        let mut optional = spec["optional"].as_bool().unwrap_or(false) || given.is_some();
        let default = match ty {
            IoType::Parameter(ParamType::TaskFinalStatus) => {
                optional = true;
                None
            }
            IoType::Parameter(t) => match given {
                Some(given) => {
                    let default = default_of(spec.get("type"), given, raw)?;
                    if !t.accepts(&default) {
                        return Err(Invalid(format!(
                            "gives the {} input `{raw}` the default {default}, which kfp 2 writes as it is (it casts defaults by the type name as written, and `{}` casts nothing), and Vertex AI refuses: write the type as `{}`",
                            t.python(),
                            spec["type"].as_str().unwrap_or_default(),
                            v1_name(t),
                        )));
                    }
                    Some(default)
                }
                None => None,
            },
            _ => None,
        };
        io.inputs.push((raw.to_owned(), name.clone(), ty));
        inputs.push(Input {
            name,
            ty,
            default,
            optional,
            description: None,
        });
    }
    let mut outputs = Vec::new();
    for spec in list(&document["outputs"], "outputs")? {
        let raw = spec["name"]
            .as_str()
            .ok_or_else(|| Invalid("has an output without a `name`".to_owned()))?;
        let name = sanitize(raw);
        if name.is_empty() || io.outputs.iter().any(|(_, n, _)| *n == name) {
            return Err(Invalid(format!(
                "has an output `{raw}` that kfp cannot name apart from the others"
            )));
        }
        let ty = io_type(spec.get("type"))?;
        io.outputs.push((raw.to_owned(), name.clone(), ty));
        outputs.push(Output { name, ty });
    }
    let line = |key: &str| -> Result<Vec<CommandLine>, Refusal> {
        match container.get(key) {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::Array(items)) => items.iter().map(|item| io.element(item)).collect(),
            Some(_) => Err(Invalid(format!("has a `{key}` that is not a list"))),
        }
    };
    let mut env = Vec::new();
    match container.get("env") {
        None | Some(Json::Null) => {}
        Some(Json::Object(vars)) => {
            for (name, value) in vars {
                let Some(value) = value.as_str() else {
                    return Err(Invalid(format!(
                        "sets the environment variable `{name}` to {value}: kfp 2 takes only strings there"
                    )));
                };
                env.push((name.clone(), value.to_owned()));
            }
        }
        Some(_) => return Err(Invalid("has an `env` that is not a mapping".to_owned())),
    }
    let spec = ContainerSpec {
        image: image.to_owned(),
        command: line("command")?,
        args: line("args")?,
        env,
        file,
    };
    super::container_component(raw_name, inputs, outputs, spec, defined_at).map_err(Invalid)
}

/// The items of `inputs:` or `outputs:` (absent is none).
fn list<'a>(value: &'a Json, what: &str) -> Result<&'a [Json], Refusal> {
    match value {
        Json::Null => Ok(&[]),
        Json::Array(items) => Ok(items),
        _ => Err(Invalid(format!("has `{what}` that is not a list"))),
    }
}

impl Io {
    fn input(&self, raw: &Json) -> Result<(&str, IoType), Refusal> {
        let raw = raw
            .as_str()
            .ok_or_else(|| Invalid(format!("names an input with {raw}, not a string")))?;
        let name = sanitize(raw);
        self.inputs
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(_, n, t)| (n.as_str(), *t))
            .ok_or_else(|| {
                Invalid(format!(
                    "has a placeholder of input `{raw}`, which it does not declare"
                ))
            })
    }

    /// One v1 command-line element as kfp 2's.
    fn element(&self, item: &Json) -> Result<CommandLine, Refusal> {
        let map = match item {
            Json::String(text) => return Ok(CommandLine::Text(text.clone())),
            Json::Object(map) if map.len() == 1 => map,
            other => {
                return Err(Invalid(format!(
                    "has the command-line element {other}, which is neither a string nor a placeholder"
                )));
            }
        };
        let Some((key, value)) = map.iter().next() else {
            return Err(Invalid("has an empty placeholder".to_owned()));
        };
        let text = |s: String| Ok(CommandLine::Text(s));
        match key.as_str() {
            "inputValue" => match self.input(value)? {
                (name, IoType::Parameter(_)) => {
                    text(format!("{{{{$.inputs.parameters['{name}']}}}}"))
                }
                (name, _) => Err(Invalid(format!(
                    "reads input `{name}` with `inputValue`, but kfp 2 types it as an artifact, so the task would get no value: give the input a parameter type (`String`, `Integer`...)"
                ))),
            },
            "inputPath" | "inputUri" => {
                let attr = if key == "inputPath" { "path" } else { "uri" };
                match self.input(value)? {
                    (name, IoType::Artifact(_)) => {
                        text(format!("{{{{$.inputs.artifacts['{name}'].{attr}}}}}"))
                    }
                    (name, _) => Err(Invalid(format!(
                        "reads input `{name}` with `{key}`, but kfp 2 types it as a parameter, which has no file: use `inputValue`, or give it an artifact type"
                    ))),
                }
            }
            "outputPath" | "outputUri" => {
                // kfp finds the output by its name as written.
                let raw = value.as_str().unwrap_or_default();
                let Some((_, name, ty)) = self.outputs.iter().find(|(r, _, _)| r == raw) else {
                    return Err(Invalid(format!(
                        "has a placeholder of output {value}, which it does not declare"
                    )));
                };
                match (key.as_str(), ty) {
                    ("outputPath", IoType::Parameter(_)) => text(format!(
                        "{{{{$.outputs.parameters['{name}'].output_file}}}}"
                    )),
                    ("outputPath", _) => {
                        text(format!("{{{{$.outputs.artifacts['{name}'].path}}}}"))
                    }
                    (_, IoType::Artifact(_)) => {
                        text(format!("{{{{$.outputs.artifacts['{name}'].uri}}}}"))
                    }
                    _ => Err(Invalid(format!(
                        "reads output `{name}` with `outputUri`, but kfp 2 types it as a parameter"
                    ))),
                }
            }
            "executorInput" => text("{{$}}".to_owned()),
            "concat" => {
                let Json::Array(items) = value else {
                    return Err(Invalid("has a `concat` that is not a list".to_owned()));
                };
                let mut parts = Vec::new();
                for item in items {
                    let part = self.element(item)?;
                    if part.has_list_branch() {
                        return Err(Invalid("has an `if` whose `then` or `else` is a list inside a `concat`, which kfp 2 refuses".to_owned()));
                    }
                    parts.push(part);
                }
                Ok(CommandLine::Concat(parts))
            }
            "if" => {
                let Some(input) = value["cond"].get("isPresent") else {
                    return Err(NotSupported(
                        "with an `if` whose condition is not `isPresent`".to_owned(),
                    ));
                };
                let (name, _) = self.input(input)?;
                let then = self
                    .branch(&value["then"])?
                    .ok_or_else(|| Invalid("has an `if` without `then`".to_owned()))?;
                let otherwise = match &value["else"] {
                    // kfp 2 converts an `else` that is one placeholder not at all.
                    Json::Object(_) => {
                        return Err(NotSupported(
                            "with an `if` whose `else` is one placeholder, not a list".to_owned(),
                        ));
                    }
                    other => self.branch(other)?,
                };
                Ok(CommandLine::IfPresent {
                    input: name.to_owned(),
                    then,
                    otherwise,
                })
            }
            other => Err(Invalid(format!(
                "has the placeholder `{other}`, which kfp 2 does not read"
            ))),
        }
    }

    /// `then` or `else` of an `if`: one element or a list; `None` when absent.
    fn branch(&self, value: &Json) -> Result<Option<Elements>, Refusal> {
        Ok(match value {
            Json::Null => None,
            Json::Array(items) => Some(Elements::List(
                items
                    .iter()
                    .map(|item| self.element(item))
                    .collect::<Result<_, _>>()?,
            )),
            other => Some(Elements::One(Box::new(self.element(other)?))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{outer_generic, sanitize};

    #[test]
    fn names_and_types_are_kfps() {
        assert_eq!(sanitize("Input data-path"), "input_data_path");
        assert_eq!(sanitize("__Model__"), "model");
        // A run of other characters is one `_`, next to the underscores already there.
        assert_eq!(sanitize("a_ b"), "a__b");
        assert_eq!(sanitize("a _b"), "a__b");
        assert_eq!(outer_generic("typing.List[str]"), "List");
        assert_eq!(outer_generic("Dict[str, int]"), "Dict");
        assert_eq!(outer_generic("GCSPath"), "GCSPath");
    }
}
