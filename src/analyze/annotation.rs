//! Kubeflow type annotations (`str`, `List[int]`, `Input[Dataset]`, `OutputPath("Model")`,
//! `NamedTuple(...)`) to the model's types.

use crate::diagnostic::{Diagnostic, Span};
use crate::model::{ArtifactType, ParamType};
use crate::python::ast::Expr;

/// What a component parameter's annotation declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Declared {
    Param(ParamType),
    InputArtifact(ArtifactType),
    /// `Input[List[Dataset]]`.
    InputArtifactList(ArtifactType),
    OutputArtifact(ArtifactType),
    OutputParam(ParamType),
}

const SUPPORTED: &str = "supported types are `str`, `int`, `float`, `bool`, `list`, `dict` (or `List[...]`, `Dict[...]`), `Input[T]`, `Output[T]`, `InputPath(...)` and `OutputPath(...)`, `Input[List[T]]` (what `dsl.Collected` gathers), `dsl.PipelineTaskFinalStatus` (for an exit task), with T one of `Artifact`, `Dataset`, `Model`, `Metrics`, `ClassificationMetrics`, `SlicedClassificationMetrics`, `HTML`, `Markdown`";

/// The last segment of a dotted name: `typing.List` is `List`, `dsl.Input` is `Input`.
fn last_segment(expr: &Expr) -> Option<String> {
    let name = expr.dotted_name()?;
    Some(name.rsplit('.').next().unwrap_or(&name).to_owned())
}

fn param_type(expr: &Expr) -> Option<ParamType> {
    match expr {
        Expr::Name(..) | Expr::Attribute { .. } => ParamType::from_python(&last_segment(expr)?),
        Expr::Subscript { value, index, .. } => match last_segment(value)?.as_str() {
            "List" | "list" => Some(ParamType::List),
            "Dict" | "dict" => Some(ParamType::Struct),
            "Optional" => param_type(index),
            _ => None,
        },
        _ => None,
    }
}

/// What kfp reads from a list annotation for the items of a loop over it: `List[int]` has
/// integer items, `List[Dict[str, float]]` dict items whose fields are floats. `None` where
/// the annotation does not say (`list`, `List`), which kfp types as a string.
pub(crate) fn list_item_types(expr: &Expr) -> (Option<ParamType>, Option<ParamType>) {
    let Expr::Subscript { value, index, .. } = expr else {
        return (None, None);
    };
    match last_segment(value).as_deref() {
        Some("List" | "list") => {}
        Some("Optional") => return list_item_types(index),
        _ => return (None, None),
    }
    let item = param_type(index);
    let field = match index.as_ref() {
        Expr::Subscript {
            value: dict,
            index: pair,
            ..
        } if matches!(last_segment(dict).as_deref(), Some("Dict" | "dict")) => {
            match pair.as_ref() {
                Expr::Tuple(types, _) if types.len() == 2 => param_type(&types[1]),
                _ => None,
            }
        }
        _ => None,
    };
    (item, field)
}

fn artifact_type(expr: &Expr) -> Option<ArtifactType> {
    ArtifactType::from_python(&last_segment(expr)?)
}

fn unsupported(expr: &Expr, source: &str) -> Diagnostic {
    Diagnostic::error(
        expr.span(),
        format!("type `{source}` is not supported here"),
    )
    .with_hint(SUPPORTED)
}

/// Reads a component parameter's annotation. `source` is the annotation's text, for messages.
pub(crate) fn parameter(expr: &Expr, source: &str) -> Result<Declared, Diagnostic> {
    if let Some(ty) = param_type(expr) {
        return Ok(Declared::Param(ty));
    }
    if last_segment(expr).as_deref() == Some("PipelineTaskFinalStatus") {
        return Ok(Declared::Param(ParamType::TaskFinalStatus));
    }
    match expr {
        Expr::Subscript { value, index, .. } => {
            let artifact = artifact_type(index);
            match (last_segment(value).as_deref(), artifact) {
                (Some("Input"), Some(t)) => Ok(Declared::InputArtifact(t)),
                (Some("Input"), None) => match index.as_ref() {
                    Expr::Subscript {
                        value: list,
                        index: item,
                        ..
                    } if matches!(last_segment(list).as_deref(), Some("List" | "list")) => {
                        artifact_type(item)
                            .map(Declared::InputArtifactList)
                            .ok_or_else(|| unsupported(expr, source))
                    }
                    _ => Err(unsupported(expr, source)),
                },
                (Some("Output"), Some(t)) => Ok(Declared::OutputArtifact(t)),
                _ => Err(unsupported(expr, source)),
            }
        }
        Expr::Call { func, args, .. } => {
            let kind = last_segment(func);
            let inner = args.first();
            let declared_param = inner.and_then(param_type);
            let declared_artifact = match inner {
                None => Some(ArtifactType::Artifact),
                // KFP types a path of an unknown type name as a generic artifact.
                Some(Expr::Str(name, _)) => {
                    Some(ArtifactType::from_python(name).unwrap_or(ArtifactType::Artifact))
                }
                Some(other) => artifact_type(other),
            };
            match (kind.as_deref(), declared_param, declared_artifact) {
                (Some("InputPath"), Some(t), _) => Ok(Declared::Param(t)),
                (Some("InputPath"), None, Some(t)) => Ok(Declared::InputArtifact(t)),
                (Some("OutputPath"), Some(t), _) => Ok(Declared::OutputParam(t)),
                (Some("OutputPath"), None, Some(t)) => Ok(Declared::OutputArtifact(t)),
                _ => Err(unsupported(expr, source)),
            }
        }
        _ => Err(unsupported(expr, source)),
    }
}

/// Reads a return annotation: no outputs, one output named `Output`, or a `NamedTuple`.
pub(crate) fn returns(
    expr: &Expr,
    source: &str,
) -> Result<Vec<(String, ParamType, Span)>, Diagnostic> {
    if matches!(expr, Expr::None(_)) {
        return Ok(Vec::new());
    }
    if let Some(ty) = param_type(expr) {
        return Ok(vec![("Output".to_owned(), ty, expr.span())]);
    }
    let Expr::Call { func, args, .. } = expr else {
        return Err(unsupported(expr, source)
            .with_hint("a component returns one parameter type or a `NamedTuple`"));
    };
    if last_segment(func).as_deref() != Some("NamedTuple") {
        return Err(unsupported(expr, source));
    }
    let Some(Expr::List(fields, _) | Expr::Tuple(fields, _)) = args.get(1) else {
        return Err(Diagnostic::error(
            expr.span(),
            "`NamedTuple` needs a list of `(name, type)` fields",
        )
        .with_hint(
            "write `NamedTuple(\"Outputs\", [(\"accuracy\", float), (\"model_uri\", str)])`",
        ));
    };
    let mut outputs = Vec::new();
    for field in fields {
        let (Expr::Tuple(pair, _) | Expr::List(pair, _)) = field else {
            return Err(Diagnostic::error(
                field.span(),
                "each `NamedTuple` field must be a `(name, type)` pair",
            ));
        };
        match (pair.first(), pair.get(1).and_then(param_type)) {
            (Some(Expr::Str(name, span)), Some(ty)) if pair.len() == 2 => {
                // Python's own rules (collections.namedtuple), checked when the cell runs.
                let problem = if !is_field_name(name) {
                    Some("is not a Python identifier")
                } else if name.is_ascii() && !super::read::is_identifier(name) {
                    Some("is a Python keyword")
                } else if name.starts_with('_') {
                    Some("starts with an underscore")
                } else if outputs.iter().any(|(other, _, _)| other == name) {
                    Some("is given twice")
                } else {
                    None
                };
                if let Some(problem) = problem {
                    let shown: String = name.chars().take(40).collect();
                    return Err(Diagnostic::error(
                        *span,
                        format!("the `NamedTuple` field name `{shown}` {problem}: Python refuses it when the cell runs"),
                    )
                    .with_hint("name each output with letters, digits and underscores, starting with a letter, once"));
                }
                outputs.push((name.clone(), ty, *span));
            }
            _ => {
                return Err(Diagnostic::error(field.span(), "each `NamedTuple` field must be a `(\"name\", type)` pair of a string and a parameter type")
                    .with_hint("parameter types are `str`, `int`, `float`, `bool`, `list` and `dict`"));
            }
        }
    }
    Ok(outputs)
}

/// Whether a name has the shape of a Python identifier (Unicode letters too); keywords are
/// checked apart.
fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}
