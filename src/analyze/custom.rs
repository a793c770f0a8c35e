//! The custom syntax of `AutoMLOps` 1.0 (`use_kfp_spec=False`): `%%define_component` cells that
//! open with `AutoMLOps.makeComponent(...)`, and one `AutoMLOps.makePipeline(...)` call whose
//! steps run in list order.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{
    Argument, Component, ComponentName, ComponentSource, Input, IoType, ParamType, Pipeline,
    PipelineParam,
};
use crate::python::ModuleLevelOnly;

use super::read::{self, Args};
use super::scan::{CustomComponentSite, ImportSite, MakePipelineSite};
use super::suggest::did_you_mean;
use super::value::{Kind, Value};
use super::wiring::{Call, Failed, Wiring, WrittenArgument, list_names};

/// A `{"name": ..., "type": ..., "description": ...}` entry of a `params` list.
struct ParamSpec {
    name: String,
    ty: ParamType,
    description: Option<String>,
}

fn params(value: &Value, owner: &str, diagnostics: &mut Diagnostics) -> Vec<ParamSpec> {
    let Some(items) = read::list(value, &format!("`params` of {owner}"), diagnostics) else {
        return Vec::new();
    };
    let mut specs: Vec<ParamSpec> = Vec::new();
    for item in items {
        let Some(entries) = read::dict(item, "each parameter", diagnostics) else {
            continue;
        };
        for (key, span, _) in entries {
            if !matches!(key.as_str(), "name" | "type" | "description") {
                diagnostics.push(
                    Diagnostic::warning(*span, format!("parameter key `{key}` is not used; parameters take `name`, `type` and `description`")),
                );
            }
        }
        let name = if let Some(name) = read::entry(entries, "name") {
            read::string(name, "a parameter's `name`", diagnostics)
        } else {
            diagnostics.push(Diagnostic::error(item.span, "this parameter has no `name`"));
            None
        };
        let ty = match read::entry(entries, "type") {
            Some(Value {
                kind: Kind::Type(t),
                ..
            }) => ParamType::from_python(t),
            Some(other) => {
                diagnostics.push(type_error(other));
                None
            }
            None => {
                diagnostics.push(
                    Diagnostic::error(item.span, "this parameter has no `type`")
                        .with_hint("add `\"type\": str` (or int, float, bool, list, dict)"),
                );
                None
            }
        };
        let description = read::entry(entries, "description")
            .and_then(|d| read::string(d, "a parameter's `description`", diagnostics));
        let (Some(name), Some(ty)) = (name, ty) else {
            continue;
        };
        let span = read::entry(entries, "name").and_then(|v| v.span);
        if !read::is_identifier(&name) {
            diagnostics.push(Diagnostic::error(
                span,
                format!("parameter name `{name}` is not a valid Python identifier"),
            ));
            continue;
        }
        if specs.iter().any(|s| s.name == name) {
            diagnostics.push(Diagnostic::error(
                span,
                format!("parameter `{name}` is declared twice in {owner}"),
            ));
            continue;
        }
        specs.push(ParamSpec {
            name,
            ty,
            description,
        });
    }
    specs
}

/// The error for a `type` that is not one of the six parameter types.
fn type_error(value: &Value) -> Diagnostic {
    const TYPES: &str = "use one of `str`, `int`, `float`, `bool`, `list` or `dict`";
    match &value.kind {
        Kind::Str(name) => Diagnostic::error(
            value.span,
            format!("a parameter's `type` must be a type, not the string `\"{name}\"`"),
        )
        .with_hint(format!(
            "write the type itself, without quotes: `\"type\": {name}`"
        )),
        Kind::Unknown(super::value::Unknown::Undefined { name, .. }) => Diagnostic::error(
            value.span,
            format!("type `{name}` is not supported for parameters"),
        )
        .with_hint(TYPES),
        _ => read::mismatch(value, "a parameter's `type`", "a type").with_hint(TYPES),
    }
}

pub(crate) fn components(
    sites: &[CustomComponentSite],
    imports: &[ImportSite],
    env: &super::value::Env,
    failed: &mut Failed,
    diagnostics: &mut Diagnostics,
) -> Vec<Component> {
    let mut components: Vec<Component> = Vec::new();
    let mut defined: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for site in sites {
        let errors_before = diagnostics.error_count();
        let args = Args {
            given: &site.args,
            span: site.call_span,
            callee: "AutoMLOps.makeComponent",
        };
        args.warn_unknown(&["name", "description", "params"], diagnostics);
        let name = args
            .required("name", diagnostics)
            .and_then(|v| read::string(v, "the component `name`", diagnostics));
        let description = args
            .get("description")
            .and_then(|v| read::string(v, "the component `description`", diagnostics));
        let specs = args
            .get("params")
            .map(|v| params(v, "the component", diagnostics))
            .unwrap_or_default();
        let Some(name) = name else {
            failed.unreadable_definitions = true;
            continue;
        };
        if diagnostics.error_count() > errors_before {
            failed.names.insert(name);
            continue;
        }
        let name_span = args.get("name").and_then(|v| v.span);
        if !read::is_identifier(&name) {
            diagnostics.push(
                Diagnostic::error(name_span, format!("component name `{name}` is not a valid Python identifier"))
                    .with_hint("the name becomes a Python function and a file name: use letters, digits and `_`"),
            );
            failed.names.insert(name);
            continue;
        }
        if super::requirements::shadows_module(&name) {
            diagnostics.push(shadowing(&name, name_span));
            failed.names.insert(name);
            continue;
        }
        if let Some(too_long) = super::naming::component_name_too_long(&name, name_span) {
            diagnostics.push(too_long);
            failed.names.insert(name);
            continue;
        }
        if let Some(first) = defined.get(&name).map(|&i| &components[i]) {
            diagnostics.push(duplicate_component(&name, name_span, first.defined_at));
            continue;
        }
        if let Some((span, what)) = site.facts.module_level_only {
            // The code becomes the body of a plain function (see `emit::sources`).
            let (message, hint) = match what {
                ModuleLevelOnly::Yield => (
                    "`yield` would make the component a generator, whose code never runs: a component's code becomes the body of a plain function",
                    "compute the values and use them directly",
                ),
                ModuleLevelOnly::Await => (
                    "`await` needs an `async` function, and a component's code becomes the body of a plain one",
                    "run the coroutine with `asyncio.run(...)`",
                ),
                ModuleLevelOnly::StarImport => (
                    "`from ... import *` is only allowed at the top of a module, and a component's code becomes the body of a function",
                    "import the names you use explicitly, in the component's code or in a `%%define_imports` cell",
                ),
                ModuleLevelOnly::FutureImport => (
                    "a `__future__` import must open a module, and a component's code becomes the body of a function",
                    "leave it out of the component's code",
                ),
            };
            diagnostics.push(Diagnostic::error(span, message).with_hint(hint));
            failed.names.insert(name);
            continue;
        }
        // Only the `%%define_imports` lines the body uses, as AutoMLOps pruned them with autoflake.
        let param_names: BTreeSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        // Setup statements are kept whole, and the imports they need with them.
        let setup: Vec<&ImportSite> = imports.iter().filter(|i| !i.is_import).collect();
        let reads = |binding: &String| {
            !param_names.contains(binding.as_str())
                && (site.facts.used_names.contains_key(binding)
                    || setup
                        .iter()
                        .any(|s| s.facts.used_names.contains_key(binding)))
        };
        let used: Vec<&ImportSite> = imports
            .iter()
            .filter(|import| !import.is_import || import.bindings.iter().any(reads))
            .collect();
        let mut imported_modules: Vec<(String, Span)> = used
            .iter()
            .flat_map(|i| i.facts.imported_modules.iter().cloned())
            .collect();
        imported_modules.extend(site.facts.imported_modules.iter().cloned());
        let available: Vec<&str> = imports
            .iter()
            .flat_map(|i| i.bindings.iter().map(String::as_str))
            .collect();
        let params: Vec<&str> = param_names.iter().copied().collect();
        super::free_names::check(
            &name,
            &site.facts,
            &params,
            &available,
            false,
            env,
            diagnostics,
        );
        defined.insert(name.clone(), components.len());
        components.push(Component {
            name: ComponentName::new(name),
            description,
            inputs: specs
                .into_iter()
                .map(|s| Input {
                    name: s.name,
                    ty: IoType::Parameter(s.ty),
                    default: None,
                    optional: false,
                    description: s.description,
                })
                .collect(),
            outputs: Vec::new(),
            source: ComponentSource::Body {
                imports: used.iter().map(|i| i.text.clone()).collect(),
                body: site.body.clone(),
            },
            packages: Vec::new(),
            imported_modules,
            defined_at: name_span.unwrap_or(site.call_span),
            custom_job: None,
        });
    }
    components
}

/// A component whose file would shadow a module of the image.
pub(crate) fn shadowing(name: &str, span: Option<Span>) -> Diagnostic {
    Diagnostic::error(span, format!("component name `{name}` would shadow the Python module `{name}` in the component image"))
        .with_hint(format!("its code is saved as src/{name}.py, which every component's `import {name}` would find first; rename it, e.g. `{name}_step`"))
}

pub(crate) fn duplicate_component(name: &str, span: Option<Span>, first: Span) -> Diagnostic {
    Diagnostic::error(span, format!("component `{name}` is defined twice")).with_hint(format!(
        "the first definition is in cell {}; rename or remove one of them",
        first.cell + 1
    ))
}

pub(crate) fn pipeline(
    site: &MakePipelineSite,
    components: &[Component],
    failed: &Failed,
    diagnostics: &mut Diagnostics,
) -> Option<Pipeline> {
    let args = Args {
        given: &site.args,
        span: site.span,
        callee: "AutoMLOps.makePipeline",
    };
    args.warn_unknown(&["name", "description", "params", "pipeline"], diagnostics);
    let name = args
        .required("name", diagnostics)
        .and_then(|v| read::string(v, "the pipeline `name`", diagnostics));
    // An empty description is none, as kfp takes it.
    let description = args
        .get("description")
        .and_then(|v| read::string(v, "the pipeline `description`", diagnostics))
        .filter(|text| !text.is_empty());
    let specs = args
        .get("params")
        .map(|v| params(v, "the pipeline", diagnostics))
        .unwrap_or_default();
    let steps = args.required("pipeline", diagnostics);
    let name = name?;
    super::kfp::check_pipeline_name(&name, args.get("name").and_then(|v| v.span), diagnostics);
    let params: Vec<PipelineParam> = specs
        .iter()
        .map(|s| PipelineParam {
            name: s.name.clone(),
            ty: s.ty,
            default: None,
            optional: false,
            items: (None, None),
            // Written into pipeline.py's docstring, where kfp reads it back so.
            description: s
                .description
                .as_deref()
                .and_then(super::docstring::arg_description),
        })
        .collect();
    let by_name: std::collections::HashMap<&str, usize> = components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let mut wiring = Wiring::new(components, &params);
    let mut previous: Option<usize> = None;
    for step in steps
        .and_then(|v| read::list(v, "`pipeline`", diagnostics))
        .unwrap_or_default()
    {
        let Some(entries) = read::dict(step, "each step of `pipeline`", diagnostics) else {
            continue;
        };
        let Some(component_value) = read::entry(entries, "component_name") else {
            diagnostics.push(Diagnostic::error(
                step.span,
                "this step has no `component_name`",
            ));
            continue;
        };
        let Some(component_name) = read::string(component_value, "`component_name`", diagnostics)
        else {
            continue;
        };
        let Some(&component) = by_name.get(component_name.as_str()) else {
            if failed.covers(&component_name) {
                previous = None;
                continue;
            }
            let hint = did_you_mean(&component_name, components.iter().map(|c| c.name.as_str()));
            diagnostics.push(
                Diagnostic::error(
                    component_value.span,
                    format!("component `{component_name}` is not defined"),
                )
                .with_hint(hint.map_or_else(
                    || {
                        format!(
                            "the defined components are {}",
                            list_names(components.iter().map(|c| c.name.as_str()))
                        )
                    },
                    |s| format!("did you mean `{s}`?"),
                )),
            );
            continue;
        };
        let mut written = Vec::new();
        let mut attempted = Vec::new();
        let mut complete = true;
        let mapping = read::entry(entries, "param_mapping");
        for pair in mapping
            .and_then(|m| read::list(m, "`param_mapping`", diagnostics))
            .unwrap_or_default()
        {
            let items = match &pair.kind {
                Kind::List(items) if items.len() == 2 => items,
                _ => {
                    complete = false;
                    diagnostics.push(
                        Diagnostic::error(pair.span, "each `param_mapping` entry must be a pair (component_param, pipeline_param)")
                            .with_hint("write `(\"component_param\", \"pipeline_param\")`"),
                    );
                    continue;
                }
            };
            let input = read::string(&items[0], "a component parameter name", diagnostics);
            let param = read::string(&items[1], "a pipeline parameter name", diagnostics);
            let Some(input) = input else {
                complete = false;
                continue;
            };
            attempted.push(input.clone());
            let Some(param) = param else {
                continue;
            };
            let value_span = items[1].span.or(pair.span).unwrap_or(site.span);
            if !params.iter().any(|p| p.name == param) {
                let hint = did_you_mean(&param, params.iter().map(|p| p.name.as_str()));
                diagnostics.push(
                    Diagnostic::error(value_span, format!("pipeline parameter `{param}` is not declared in `params`"))
                        .with_hint(hint.map_or_else(|| format!("add `{{\"name\": \"{param}\", \"type\": str}}` to the pipeline's `params`"), |s| format!("did you mean `{s}`?"))),
                );
                continue;
            }
            written.push(WrittenArgument {
                input,
                input_span: items[0].span.or(pair.span).unwrap_or(site.span),
                value: Argument::PipelineParam(param),
                value_span,
            });
        }
        let variable = format!("{component_name}_task");
        let call_span = step.span.unwrap_or(site.span);
        let task = wiring.add_task(
            Call {
                component,
                variable,
                written,
                attempted,
                complete,
                after: previous.into_iter().collect(),
                span: call_span,
            },
            diagnostics,
        );
        previous = Some(task);
    }
    let (tasks, groups, body) = wiring.finish();
    if tasks.is_empty() && !diagnostics.has_errors() {
        diagnostics.push(Diagnostic::error(site.span, "the pipeline has no steps"));
    }
    Some(Pipeline {
        name,
        description,
        root: None,
        params,
        tasks,
        groups,
        body,
    })
}
