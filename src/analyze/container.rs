//! `@dsl.container_component` functions: kfp calls the function once, at compile time, with a
//! placeholder for each parameter, and records the `dsl.ContainerSpec(image, command, args)`
//! it returns. We read that one `return` statically, as kfp would have evaluated it: each
//! element of `command` and `args` is a string, a parameter's placeholder (`name`,
//! `model.path`, `model.uri`, `model.metadata`), an f-string of those, kfp's pipeline
//! placeholders (`dsl.PIPELINE_JOB_NAME_PLACEHOLDER`), or `dsl.ConcatPlaceholder` /
//! `dsl.IfPresentPlaceholder`. What kfp refuses, we refuse with its reason and a location.

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{CommandLine, ContainerSpec, Elements, Input, IoType, Output};
use crate::python::ast::{Expr, FStringPart, FunctionDef, Keyword, Stmt};

use super::annotation::Declared;
use super::value::{Env, Kind};

/// kfp's pipeline placeholders, by their name in `kfp.dsl`.
const PIPELINE_PLACEHOLDERS: &[(&str, &str)] = &[
    ("PIPELINE_JOB_NAME_PLACEHOLDER", "{{$.pipeline_job_name}}"),
    (
        "PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER",
        "{{$.pipeline_job_resource_name}}",
    ),
    ("PIPELINE_JOB_ID_PLACEHOLDER", "{{$.pipeline_job_uuid}}"),
    ("PIPELINE_TASK_NAME_PLACEHOLDER", "{{$.pipeline_task_name}}"),
    ("PIPELINE_TASK_ID_PLACEHOLDER", "{{$.pipeline_task_uuid}}"),
    (
        "PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER",
        "{{$.outputs.output_file}}",
    ),
    ("PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER", "{{$}}"),
    ("PIPELINE_ROOT_PLACEHOLDER", "{{$.pipeline_root}}"),
    (
        "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER",
        "{{$.pipeline_job_create_time_utc}}",
    ),
    (
        "PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER",
        "{{$.pipeline_job_schedule_time_utc}}",
    ),
    ("WORKSPACE_PATH_PLACEHOLDER", "{{$.workspace_path}}"),
];

/// What kfp accepts as a container component's parameter annotation besides what a Python
/// component takes: artifacts wrapped in `Input[...]`/`Output[...]`, `OutputPath` only for
/// parameters. Reports and returns false otherwise.
pub(super) fn check_annotation(
    annotation: &Expr,
    declared: Declared,
    diagnostics: &mut Diagnostics,
) -> bool {
    let Expr::Call { func, .. } = annotation else {
        return true;
    };
    let marker = func.dotted_name().unwrap_or_default();
    let marker = marker.rsplit('.').next().unwrap_or_default();
    let refused = match (marker, declared) {
        ("InputPath", _) => Some("use `Input[T]` and its `.path`"),
        ("OutputPath", Declared::OutputArtifact(_)) => Some("use `Output[T]` and its `.path`"),
        _ => None,
    };
    if let Some(hint) = refused {
        diagnostics.push(
            Diagnostic::error(
                annotation.span(),
                format!("a container component cannot declare an artifact as `{marker}(...)`: kfp wraps its artifacts in `Input[...]` or `Output[...]`"),
            )
            .with_hint(hint),
        );
        return false;
    }
    true
}

/// kfp's rule for the return annotation: `dsl.ContainerSpec` or none.
pub(super) fn check_returns(returns: &Expr, diagnostics: &mut Diagnostics) -> bool {
    let is_spec = returns
        .dotted_name()
        .is_some_and(|name| name == "ContainerSpec" || name.ends_with(".ContainerSpec"));
    if !is_spec {
        diagnostics.push(
            Diagnostic::error(
                returns.span(),
                "a container component returns a `dsl.ContainerSpec`; its outputs are parameters annotated `dsl.OutputPath(T)` or `dsl.Output[T]`",
            )
            .with_hint("annotate it `-> dsl.ContainerSpec`, or leave the annotation out"),
        );
    }
    is_spec
}

/// The `dsl.ContainerSpec(...)` the function returns, read with its parameters as kfp's
/// placeholders.
pub(super) fn spec(
    def: &FunctionDef,
    inputs: &[Input],
    outputs: &[Output],
    env: &Env,
    source_of: &dyn Fn(Span) -> String,
    diagnostics: &mut Diagnostics,
) -> Option<ContainerSpec> {
    let reader = Reader {
        inputs,
        outputs,
        env,
        source_of,
    };
    let mut returned = None;
    for stmt in &def.body {
        match stmt {
            // The docstring.
            Stmt::Expr(Expr::Str(..)) if returned.is_none() => {}
            Stmt::Return(Some(value), _) if returned.is_none() => returned = Some(value),
            other => {
                diagnostics.push(
                    Diagnostic::error(other.span(), "not supported yet: a container component whose body does more than `return dsl.ContainerSpec(...)`")
                        .with_hint("compute values in module-level constants, and return the spec in one statement"),
                );
                return None;
            }
        }
    }
    let Some(returned) = returned else {
        diagnostics.push(
            Diagnostic::error(
                def.name_span,
                format!(
                    "container component `{}` returns nothing; kfp needs the `dsl.ContainerSpec(image=..., command=[...], args=[...])` it runs",
                    def.name
                ),
            )
            .with_hint("end the function with `return dsl.ContainerSpec(...)`"),
        );
        return None;
    };
    match reader.container_spec(returned) {
        Ok(spec) => Some(spec),
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            None
        }
    }
}

struct Reader<'a> {
    inputs: &'a [Input],
    outputs: &'a [Output],
    env: &'a Env,
    source_of: &'a dyn Fn(Span) -> String,
}

/// The arguments of a call by parameter name: keywords, and positionals in `order`.
fn arguments<'e>(
    args: &'e [Expr],
    keywords: &'e [Keyword],
    order: &[&str],
    callee: &str,
) -> Result<Vec<(String, &'e Expr)>, Diagnostic> {
    if args.len() > order.len() {
        return Err(Diagnostic::error(
            args[order.len()].span(),
            format!(
                "`{callee}` takes at most {} positional arguments",
                order.len()
            ),
        ));
    }
    let mut found: Vec<(String, &Expr)> = order
        .iter()
        .zip(args)
        .map(|(name, arg)| ((*name).to_owned(), arg))
        .collect();
    for keyword in keywords {
        let Some(name) = &keyword.name else {
            return Err(Diagnostic::error(
                keyword.span,
                format!("not supported yet: `**` arguments of `{callee}`"),
            )
            .with_hint("name each argument"));
        };
        if !order.contains(&name.as_str()) {
            return Err(Diagnostic::error(
                keyword.span,
                format!("`{callee}` has no argument `{name}`"),
            )
            .with_optional_hint(
                super::suggest::did_you_mean(name, order.iter().copied())
                    .map(|s| format!("did you mean `{s}`?")),
            ));
        }
        if found.iter().any(|(n, _)| n == name) {
            return Err(Diagnostic::error(
                keyword.span,
                format!("`{callee}` gets `{name}` twice"),
            ));
        }
        found.push((name.clone(), &keyword.value));
    }
    Ok(found)
}

fn get<'e>(found: &[(String, &'e Expr)], name: &str) -> Option<&'e Expr> {
    found.iter().find(|(n, _)| n == name).map(|(_, e)| *e)
}

impl Reader<'_> {
    /// What a dotted name in the function names through the notebook's imports:
    /// `dsl.ContainerSpec` is `kfp.dsl.ContainerSpec`.
    fn kfp_name(&self, expr: &Expr) -> Option<String> {
        let dotted = expr.dotted_name()?;
        let origin = self.env.import_origin(&dotted)?;
        let last = origin.rsplit('.').next()?.to_owned();
        let module = origin.strip_suffix(&last)?.trim_end_matches('.');
        (module == "kfp.dsl" || module.starts_with("kfp.dsl.") || module == "kfp.v2.dsl")
            .then_some(last)
    }

    fn container_spec(&self, expr: &Expr) -> Result<ContainerSpec, Diagnostic> {
        let Expr::Call {
            func,
            args,
            keywords,
            span,
        } = expr
        else {
            return Err(self.not_a_spec(expr));
        };
        if self.kfp_name(func).as_deref() != Some("ContainerSpec") {
            return Err(self.not_a_spec(expr));
        }
        let found = arguments(
            args,
            keywords,
            &["image", "command", "args"],
            "dsl.ContainerSpec",
        )?;
        let Some(image) = get(&found, "image") else {
            return Err(
                Diagnostic::error(*span, "`dsl.ContainerSpec` needs an `image`")
                    .with_hint("e.g. `image=\"python:3.12-slim\"`"),
            );
        };
        let image = self.image(image)?;
        let command = get(&found, "command")
            .map(|e| self.list(e, "command"))
            .transpose()?
            .unwrap_or_default();
        let args = get(&found, "args")
            .map(|e| self.list(e, "args"))
            .transpose()?
            .unwrap_or_default();
        Ok(ContainerSpec {
            image,
            command,
            args,
            env: Vec::new(),
            file: None,
        })
    }

    fn not_a_spec(&self, expr: &Expr) -> Diagnostic {
        Diagnostic::error(
            expr.span(),
            format!(
                "a container component must return `dsl.ContainerSpec(...)`, not `{}`",
                super::value::shorten(&(self.source_of)(expr.span()))
            ),
        )
        .with_hint("return `dsl.ContainerSpec(image=..., command=[...], args=[...])`")
    }

    fn image(&self, expr: &Expr) -> Result<String, Diagnostic> {
        if let Some(name) = self.parameter_named(expr) {
            return Err(Diagnostic::error(
                expr.span(),
                format!("not supported yet: the image of a container component from its parameter `{name}`"),
            )
            .with_hint("give the image as a string, or a module-level constant"));
        }
        let value = self.env.eval(expr, self.source_of);
        let Kind::Str(image) = &value.kind else {
            return Err(super::read::mismatch(&value, "the image", "a string"));
        };
        super::image_ref::check(image, Some(expr.span()))?;
        Ok(image.clone())
    }

    /// The name of the function's parameter `expr` is, if it is one.
    fn parameter_named<'e>(&self, expr: &'e Expr) -> Option<&'e str> {
        let Expr::Name(name, _) = expr else {
            return None;
        };
        let known = self.inputs.iter().any(|i| &i.name == name)
            || self.outputs.iter().any(|o| &o.name == name);
        known.then_some(name.as_str())
    }

    fn list(&self, expr: &Expr, what: &str) -> Result<Vec<CommandLine>, Diagnostic> {
        match expr {
            Expr::List(items, _) => items.iter().map(|item| self.element(item)).collect(),
            Expr::None(_) => Ok(Vec::new()),
            _ => {
                // A module-level constant list of strings.
                let value = self.env.eval(expr, self.source_of);
                let Kind::List(items) = &value.kind else {
                    return Err(super::read::mismatch(
                        &value,
                        &format!("`{what}`"),
                        "a list",
                    ));
                };
                items
                    .iter()
                    .map(|item| match &item.kind {
                        Kind::Str(s) => Ok(CommandLine::Text(s.clone())),
                        _ => Err(super::read::mismatch(
                            item,
                            &format!("each element of `{what}`"),
                            "a string",
                        )),
                    })
                    .collect()
            }
        }
    }

    /// One element of `command` or `args`.
    fn element(&self, expr: &Expr) -> Result<CommandLine, Diagnostic> {
        if let Expr::Call {
            func,
            args,
            keywords,
            span,
        } = expr
        {
            match self.kfp_name(func).as_deref() {
                Some("ConcatPlaceholder") => {
                    let found = arguments(args, keywords, &["items"], "dsl.ConcatPlaceholder")?;
                    let Some(Expr::List(items, _)) = get(&found, "items") else {
                        return Err(Diagnostic::error(
                            *span,
                            "`dsl.ConcatPlaceholder` takes a list of elements, written in the call",
                        ));
                    };
                    let mut parts = Vec::new();
                    for item in items {
                        let part = self.element(item)?;
                        if part.has_list_branch() {
                            return Err(Diagnostic::error(item.span(), "kfp cannot use an `IfPresentPlaceholder` whose `then` or `else_` is a list inside a `ConcatPlaceholder`")
                                .with_hint("give `then` and `else_` one element each"));
                        }
                        parts.push(part);
                    }
                    return Ok(CommandLine::Concat(parts));
                }
                Some("IfPresentPlaceholder") => {
                    let found = arguments(
                        args,
                        keywords,
                        &["input_name", "then", "else_"],
                        "dsl.IfPresentPlaceholder",
                    )?;
                    let Some(name) = get(&found, "input_name") else {
                        return Err(Diagnostic::error(
                            *span,
                            "`dsl.IfPresentPlaceholder` needs `input_name`",
                        ));
                    };
                    let value = self.env.eval(name, self.source_of);
                    let Kind::Str(input) = &value.kind else {
                        return Err(super::read::mismatch(&value, "`input_name`", "a string"));
                    };
                    if !self.inputs.iter().any(|i| &i.name == input) {
                        return Err(Diagnostic::error(
                            name.span(),
                            format!(
                                "`input_name` names `{input}`, which is no input of the component"
                            ),
                        )
                        .with_optional_hint(
                            super::suggest::did_you_mean(
                                input,
                                self.inputs.iter().map(|i| i.name.as_str()),
                            )
                            .map(|s| format!("did you mean `{s}`?")),
                        ));
                    }
                    let Some(then) = get(&found, "then") else {
                        return Err(Diagnostic::error(
                            *span,
                            "`dsl.IfPresentPlaceholder` needs `then`",
                        ));
                    };
                    let otherwise = get(&found, "else_")
                        .filter(|e| !matches!(e, Expr::None(_)))
                        .map(|e| self.branch(e))
                        .transpose()?;
                    return Ok(CommandLine::IfPresent {
                        input: input.clone(),
                        then: self.branch(then)?,
                        otherwise,
                    });
                }
                _ => {}
            }
        }
        self.text(expr).map(CommandLine::Text)
    }

    fn branch(&self, expr: &Expr) -> Result<Elements, Diagnostic> {
        match expr {
            Expr::List(items, _) => Ok(Elements::List(
                items
                    .iter()
                    .map(|item| self.element(item))
                    .collect::<Result<_, _>>()?,
            )),
            _ => Ok(Elements::One(Box::new(self.element(expr)?))),
        }
    }

    /// An element that is text: a string, a placeholder, or an f-string of them.
    fn text(&self, expr: &Expr) -> Result<String, Diagnostic> {
        match expr {
            Expr::Str(s, _) => return Ok(s.clone()),
            Expr::FString(parts, _) => {
                let mut text = String::new();
                for part in parts {
                    match part {
                        FStringPart::Literal(s) => text.push_str(s),
                        FStringPart::Expr { expr, plain: true } => {
                            text.push_str(&self.formatted(expr)?);
                        }
                        FStringPart::Expr { expr, .. } => {
                            return Err(Diagnostic::error(
                                expr.span(),
                                "not supported yet: a conversion or format spec (`!r`, `:>8`) in a container component's command line",
                            ));
                        }
                    }
                }
                return Ok(text);
            }
            _ => {}
        }
        if let Some(placeholder) = self.placeholder(expr)? {
            return Ok(placeholder);
        }
        let value = self.env.eval(expr, self.source_of);
        match &value.kind {
            Kind::Str(s) => Ok(s.clone()),
            Kind::Unknown(_) => Err(super::read::mismatch(
                &value,
                "an element of the command line",
                "a string",
            )),
            _ => Err(Diagnostic::error(
                expr.span(),
                format!(
                    "kfp takes strings and placeholders in a command line, not {}",
                    value.describe()
                ),
            )
            .with_hint(match expr {
                Expr::Int(i, _) => format!("write it as a string: `\"{i}\"`"),
                _ => format!(
                    "write it as a string: `f\"{{{}}}\"`",
                    (self.source_of)(expr.span())
                ),
            })),
        }
    }

    /// A value inside an f-string: placeholders and constants as Python formats them.
    fn formatted(&self, expr: &Expr) -> Result<String, Diagnostic> {
        if let Some(placeholder) = self.placeholder(expr)? {
            return Ok(placeholder);
        }
        if let Expr::Call { func, .. } = expr
            && let Some(name @ ("ConcatPlaceholder" | "IfPresentPlaceholder")) =
                self.kfp_name(func).as_deref()
        {
            return Err(Diagnostic::error(
                expr.span(),
                format!("kfp cannot use a `{name}` in an f-string"),
            )
            .with_hint(
                "make it an element of its own, or put the f-string's text in the placeholder",
            ));
        }
        let value = self.env.eval(expr, self.source_of);
        match &value.kind {
            Kind::Str(s) => Ok(s.clone()),
            Kind::Int(i) => Ok(i.to_string()),
            Kind::Bool(b) => Ok(if *b { "True" } else { "False" }.to_owned()),
            _ => Err(super::read::mismatch(
                &value,
                "a value in the f-string",
                "a string or an integer",
            )),
        }
    }

    /// kfp's placeholder for a parameter, an artifact's attribute or a pipeline value;
    /// `None` when `expr` is none of them.
    fn placeholder(&self, expr: &Expr) -> Result<Option<String>, Diagnostic> {
        match expr {
            Expr::Name(name, span) => {
                if let Some(input) = self.inputs.iter().find(|i| &i.name == name) {
                    return match input.ty {
                        IoType::Parameter(_) => {
                            Ok(Some(format!("{{{{$.inputs.parameters['{name}']}}}}")))
                        }
                        IoType::ArtifactList(_) => {
                            Ok(Some(format!("{{{{$.inputs.artifacts['{name}']}}}}")))
                        }
                        IoType::Artifact(_) => Err(bare_artifact(name, *span)),
                    };
                }
                if let Some(output) = self.outputs.iter().find(|o| &o.name == name) {
                    return match output.ty {
                        IoType::Parameter(_) => Ok(Some(format!(
                            "{{{{$.outputs.parameters['{name}'].output_file}}}}"
                        ))),
                        IoType::ArtifactList(_) => {
                            Ok(Some(format!("{{{{$.outputs.artifacts['{name}']}}}}")))
                        }
                        IoType::Artifact(_) => Err(bare_artifact(name, *span)),
                    };
                }
                Ok(None)
            }
            Expr::Attribute { value, attr, span } => {
                if let Some(found) = self.kfp_name(expr)
                    && let Some((_, text)) = PIPELINE_PLACEHOLDERS.iter().find(|(n, _)| *n == found)
                {
                    return Ok(Some((*text).to_owned()));
                }
                let Expr::Name(name, _) = value.as_ref() else {
                    return Ok(None);
                };
                let Some(side) = self.artifact_side(name) else {
                    return Ok(None);
                };
                if !matches!(attr.as_str(), "path" | "uri" | "metadata") {
                    return Err(Diagnostic::error(
                        *span,
                        format!(
                            "a container component reads an artifact's `.path`, `.uri` or `.metadata`, not `.{attr}`"
                        ),
                    ));
                }
                Ok(Some(format!("{{{{$.{side}.artifacts['{name}'].{attr}}}}}")))
            }
            Expr::Subscript { value, index, span } => {
                let Expr::Attribute {
                    value: artifact,
                    attr,
                    ..
                } = value.as_ref()
                else {
                    return Ok(None);
                };
                let Expr::Name(name, _) = artifact.as_ref() else {
                    return Ok(None);
                };
                let Some(side) = self.artifact_side(name).filter(|_| attr == "metadata") else {
                    return Ok(None);
                };
                let Expr::Str(key, _) = index.as_ref() else {
                    return Err(Diagnostic::error(
                        *span,
                        "an artifact's metadata is read with a string key: `model.metadata['key']`",
                    ));
                };
                Ok(Some(format!(
                    "{{{{$.{side}.artifacts['{name}'].metadata['{key}']}}}}"
                )))
            }
            _ => Ok(None),
        }
    }

    /// `inputs` or `outputs` for an artifact parameter of the function.
    fn artifact_side(&self, name: &str) -> Option<&'static str> {
        let artifact = |ty: &IoType| matches!(ty, IoType::Artifact(_));
        if self
            .inputs
            .iter()
            .any(|i| i.name == name && artifact(&i.ty))
        {
            Some("inputs")
        } else if self
            .outputs
            .iter()
            .any(|o| o.name == name && artifact(&o.ty))
        {
            Some("outputs")
        } else {
            None
        }
    }
}

fn bare_artifact(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        span,
        format!("kfp cannot pass the artifact `{name}` itself on a command line"),
    )
    .with_hint(format!(
        "pass `{name}.path` (a local file) or `{name}.uri` (where it is stored)"
    ))
}
