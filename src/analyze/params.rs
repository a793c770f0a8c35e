//! Checks `pipeline_params` against the pipeline's parameters and turns it into the runtime
//! parameter values. Values only known at run time are left out, with a warning.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{ParamType, Pipeline, RunTimeValue};

use super::suggest::did_you_mean;
use super::value::{Kind, Unknown, Value};

/// The compiled values, and the values computed afresh at each submission.
pub(crate) type Values = (
    BTreeMap<String, serde_json::Value>,
    BTreeMap<String, RunTimeValue>,
);

pub(crate) fn parameter_values(
    pipeline: &Pipeline,
    params: Option<&Value>,
    diagnostics: &mut Diagnostics,
) -> Values {
    let mut values = BTreeMap::new();
    let mut run_time = BTreeMap::new();
    let entries = match params.map(|p| &p.kind) {
        Some(Kind::Dict(entries)) => entries.as_slice(),
        _ => &[],
    };
    for (key, key_span, value) in entries {
        let Some(param) = pipeline.params.iter().find(|p| &p.name == key) else {
            let hint = did_you_mean(key, pipeline.params.iter().map(|p| p.name.as_str()));
            diagnostics.push(
                Diagnostic::error(
                    key_span.or(params.and_then(|p| p.span)),
                    format!(
                        "`pipeline_params` sets `{key}`, which pipeline `{}` does not declare",
                        pipeline.name
                    ),
                )
                .with_hint(hint.map_or_else(
                    || "remove it, or declare it as a pipeline parameter".to_owned(),
                    |s| format!("did you mean `{s}`?"),
                )),
            );
            continue;
        };
        if let (Some(parts), Kind::Unknown(Unknown::Dynamic { what, .. })) =
            (value.run_time_parts(), &value.kind)
        {
            let mut computed = RunTimeValue {
                source: what.clone(),
                parts: parts.to_vec(),
                as_number: false,
            };
            computed.as_number = param.ty == ParamType::Double && computed.is_bare_time();
            let fits = param.ty == ParamType::String || computed.as_number;
            if fits {
                run_time.insert(key.clone(), computed);
            } else {
                let (what_kind, hint) = if computed.is_bare_time() {
                    (
                        "a number",
                        "declare the parameter `float` (or `str`), or give it a value known when compiling",
                    )
                } else {
                    (
                        "text",
                        "declare the parameter `str`, or give it a value known when compiling",
                    )
                };
                diagnostics.push(Diagnostic::error(
                    value.span.or(*key_span),
                    format!(
                        "pipeline parameter `{key}` is of type {}, but `pipeline_params` gives it `{what}`, {what_kind} computed at each submission",
                        param.ty
                    ),
                ).with_hint(hint));
            }
            continue;
        }
        if let Some((unknown, span)) = value.first_unknown() {
            match unknown {
                Unknown::Dynamic { what, via, .. } => {
                    let (read, fix) = match via {
                        Some((name, _)) => (
                            format!("`{name}` is `{what}`"),
                            format!("`-p {name}=VALUE` when compiling"),
                        ),
                        None => (format!("`{what}`"), "a literal".to_owned()),
                    };
                    diagnostics.push(
                        Diagnostic::warning(span, format!("the value of pipeline parameter `{key}` is computed when the notebook runs ({read}); it is left out of the compiled values"))
                            .with_hint(format!("give `{key}` when the pipeline runs (`--param {key}=...` of pipeline_runner), or fix it with {fix}")),
                    );
                }
                Unknown::Unsupported { .. } | Unknown::Undefined { .. } => diagnostics.extend(
                    value.unknown_error(&format!("the value of pipeline parameter `{key}`")),
                ),
            }
            continue;
        }
        let json = value.to_json();
        match json {
            Some(json) if param.ty.accepts(&json) => {
                values.insert(key.clone(), json);
            }
            _ => diagnostics.push(Diagnostic::error(
                value.span.or(*key_span),
                format!(
                    "pipeline parameter `{key}` is of type {}, but `pipeline_params` gives it {}",
                    param.ty,
                    value.describe()
                ),
            )),
        }
    }
    // `pipeline_params` that is no dict is reported on its own; its parameters are not
    // reported missing too.
    let unreadable = params.is_some_and(|p| !matches!(p.kind, Kind::Dict(_)));
    for param in pipeline.params.iter().filter(|_| !unreadable) {
        let given = entries.iter().any(|(key, _, _)| key == &param.name);
        if !given && !param.optional {
            diagnostics.push(
                Diagnostic::warning(params.and_then(|p| p.span), format!("pipeline parameter `{}` has no value: it is not in `pipeline_params` and has no default", param.name))
                    .with_hint("add it to `pipeline_params`, or give it when the pipeline runs"),
            );
        }
    }
    (values, run_time)
}

/// Cloud Scheduler posts the compiled values: a parameter with neither a compiled value nor a
/// default makes every scheduled run fail (the runner refuses it with a 400).
pub(crate) fn check_scheduled_values(
    pipeline: &Pipeline,
    (values, run_time): &Values,
    span: Option<crate::diagnostic::Span>,
    diagnostics: &mut Diagnostics,
) {
    let missing: Vec<String> = pipeline
        .params
        .iter()
        .filter(|p| !p.optional && !values.contains_key(&p.name) && !run_time.contains_key(&p.name))
        .map(|p| format!("`{}`", p.name))
        .collect();
    if !missing.is_empty() {
        diagnostics.push(
            Diagnostic::warning(span, format!("every scheduled run will be refused: the schedule sends the compiled parameter values, which lack {}", missing.join(", ")))
                .with_hint("give them values known when compiling (a literal, `-p NAME=VALUE` or `--pipeline-params`), or defaults in the pipeline"),
        );
    }
}
