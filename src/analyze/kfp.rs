//! The Kubeflow syntax (`use_kfp_spec=True`): `@dsl.component` functions and one
//! `@dsl.pipeline` function whose body calls them.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{
    Argument, Component, ComponentName, ComponentSource, Input, IoType, Output, Pipeline,
    PipelineParam, holds_none, kfp_name,
};
use crate::python::ast::{Expr, Stmt};

use super::annotation::{self, Declared};
use super::control::LoopRef;
use super::custom::duplicate_component;
use super::docstring;
use super::read::{self, Args};
use super::scan::{CONTAINER_COMPONENT_DECORATORS, FunctionSite};
use super::suggest::did_you_mean;
use super::task_settings;
use super::value::{Env, Kind};
use super::wiring::{Call, Failed, Wiring, WrittenArgument, list_names};

pub(crate) fn check_pipeline_name(name: &str, span: Option<Span>, diagnostics: &mut Diagnostics) {
    if !read::is_pipeline_name(name) {
        let fixed = kfp_name(name);
        diagnostics.push(
            Diagnostic::error(span, format!("pipeline name `{name}` is not valid for Vertex AI"))
                .with_hint(if read::is_pipeline_name(&fixed) {
                    format!("use lowercase letters, digits and `-` (at most 128), e.g. `{fixed}`")
                } else {
                    "use lowercase letters, digits and `-` (at most 128), starting with a letter or digit".to_owned()
                }),
        );
    }
}

pub(crate) fn components(
    sites: &[&FunctionSite],
    source_of: &dyn Fn(Span) -> String,
    env: &Env,
    failed: &mut Failed,
    diagnostics: &mut Diagnostics,
) -> Vec<Component> {
    let mut components: Vec<Component> = Vec::new();
    let mut defined: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for site in sites {
        let def = &site.def;
        if super::requirements::shadows_module(&def.name) {
            diagnostics.push(super::custom::shadowing(&def.name, Some(def.name_span)));
            failed.names.insert(def.name.clone());
            continue;
        }
        if let Some(too_long) =
            super::naming::component_name_too_long(&def.name, Some(def.name_span))
        {
            diagnostics.push(too_long);
            failed.names.insert(def.name.clone());
            continue;
        }
        if let Some(first) = defined.get(&def.name).map(|&i| &components[i]) {
            diagnostics.push(duplicate_component(
                &def.name,
                Some(def.name_span),
                first.defined_at,
            ));
            continue;
        }
        let container = CONTAINER_COMPONENT_DECORATORS.contains(&site.decorator.as_str());
        let args = Args {
            given: &site.decorator_args,
            span: def.name_span,
            callee: "@dsl.component",
        };
        for arg in args.given {
            if container {
                diagnostics.push(
                    Diagnostic::error(arg.span, "`@dsl.container_component` takes no arguments")
                        .with_hint(
                            "give the image in the `dsl.ContainerSpec(...)` the function returns",
                        ),
                );
            } else if !matches!(arg.name.as_str(), "base_image" | "packages_to_install") {
                diagnostics.push(
                    Diagnostic::warning(arg.span, format!("`{}` of `@dsl.component` is ignored: every component runs in the shared image `components/component_base`", arg.name)),
                );
            }
        }
        let packages: Vec<String> = args
            .get("packages_to_install")
            .and_then(|v| read::list(v, "`packages_to_install`", diagnostics))
            .unwrap_or_default()
            .iter()
            .filter_map(|p| {
                let package =
                    read::string(p, "each package of `packages_to_install`", diagnostics)?;
                if let Some(why) = super::pep508::problem(&package) {
                    diagnostics.push(
                        Diagnostic::error(
                            p.span,
                            format!(
                                "`{}` in `packages_to_install` is not a requirement: {why}",
                                package.escape_debug()
                            ),
                        )
                        .with_hint(super::pep508::HINT),
                    );
                    return None;
                }
                Some(package)
            })
            .collect();
        if let Some(variadic) = def.variadic {
            diagnostics.push(Diagnostic::error(
                variadic,
                "components cannot take `*args`, `**kwargs` or positional-only parameters",
            ));
        }
        let (description, arg_docs) = def
            .docstring
            .as_deref()
            .map(docstring::parse)
            .unwrap_or_default();
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        let mut ok = true;
        for (param, default) in def.params.iter().zip(&site.defaults) {
            let Some(annotation) = &param.annotation else {
                diagnostics.push(
                    Diagnostic::error(
                        param.span,
                        format!(
                            "parameter `{}` of component `{}` has no type annotation",
                            param.name, def.name
                        ),
                    )
                    .with_hint(annotation_hint(&param.name, default.as_ref())),
                );
                ok = false;
                continue;
            };
            let declared = match annotation::parameter(annotation, &source_of(annotation.span())) {
                Ok(declared) => declared,
                Err(diagnostic) => {
                    diagnostics.push(diagnostic);
                    ok = false;
                    continue;
                }
            };
            let description = arg_docs
                .iter()
                .find(|(n, _)| n == &param.name)
                .map(|(_, d)| d.clone());
            if container && !super::container::check_annotation(annotation, declared, diagnostics) {
                ok = false;
                continue;
            }
            let (ty, is_output) = match declared {
                Declared::Param(t) => (IoType::Parameter(t), false),
                Declared::InputArtifact(t) => (IoType::Artifact(t), false),
                Declared::InputArtifactList(t) => (IoType::ArtifactList(t), false),
                Declared::OutputArtifact(t) => (IoType::Artifact(t), true),
                Declared::OutputParam(t) => (IoType::Parameter(t), true),
            };
            if is_output {
                outputs.push(Output {
                    name: param.name.clone(),
                    ty,
                });
                continue;
            }
            let (default_json, optional) = match default {
                None => (None, false),
                Some(value) if value.kind == Kind::None => (None, true),
                Some(value) => {
                    let what = format!("the default of `{}`", param.name);
                    match (value.to_json(), ty) {
                        (Some(json), IoType::Parameter(_)) if holds_none(&json) => {
                            diagnostics.push(none_inside(value, &what));
                            ok = false;
                            (None, true)
                        }
                        (Some(json), IoType::Parameter(t)) if t.accepts(&json) => {
                            (Some(json), true)
                        }
                        (Some(_), _) => {
                            diagnostics.push(Diagnostic::error(
                                value.span,
                                format!(
                                    "{what} is {}, but the parameter is a {ty}",
                                    value.describe()
                                ),
                            ));
                            ok = false;
                            (None, true)
                        }
                        (None, _) => {
                            diagnostics.push(read::mismatch(value, &what, "a literal"));
                            ok = false;
                            (None, true)
                        }
                    }
                }
            };
            // kfp declares the exit task's status optional: it fills it in itself.
            let optional =
                optional || ty == IoType::Parameter(crate::model::ParamType::TaskFinalStatus);
            inputs.push(Input {
                name: param.name.clone(),
                ty,
                default: default_json,
                optional,
                description,
            });
        }
        if container {
            if let Some(returns) = &def.returns {
                ok &= super::container::check_returns(returns, diagnostics);
            }
        } else if let Some(returns) = &def.returns {
            match annotation::returns(returns, &source_of(returns.span())) {
                Ok(fields) => {
                    for (name, ty, span) in fields {
                        // An output may share an input's name: kfp keeps them apart.
                        if outputs.iter().any(|o| o.name == name) {
                            diagnostics.push(Diagnostic::error(
                                span,
                                format!(
                                    "output `{name}` of component `{}` is declared twice",
                                    def.name
                                ),
                            ));
                            ok = false;
                        }
                        outputs.push(Output {
                            name,
                            ty: IoType::Parameter(ty),
                        });
                    }
                }
                Err(diagnostic) => {
                    diagnostics.push(diagnostic);
                    ok = false;
                }
            }
        }
        if !ok {
            failed.names.insert(def.name.clone());
            continue;
        }
        let source = if container {
            // The function runs when kfp compiles it, never in a container: what it returns
            // is all there is.
            let Some(spec) =
                super::container::spec(def, &inputs, &outputs, env, source_of, diagnostics)
            else {
                failed.names.insert(def.name.clone());
                continue;
            };
            ComponentSource::Container(spec)
        } else {
            super::free_names::check(&def.name, &site.facts, &[], &[], true, env, diagnostics);
            ComponentSource::Function {
                source: site.source.clone(),
            }
        };
        defined.insert(def.name.clone(), components.len());
        components.push(Component {
            name: ComponentName::new(def.name.clone()),
            description,
            inputs,
            outputs,
            source,
            packages,
            imported_modules: site.facts.imported_modules.clone(),
            defined_at: def.name_span,
            custom_job: None,
        });
    }
    components
}

/// Task variables of the pipeline body: name to task index.
type Tasks = HashMap<String, usize>;

/// Components the body calls besides the notebook's own, read before it.
pub(crate) struct Prebuilt<'a> {
    /// The names it calls Google Cloud Pipeline Components and loaded component files by,
    /// with their index.
    pub(crate) callees: &'a [(String, usize)],
    /// Its importer calls.
    pub(crate) importers: &'a super::importer::Importers,
}

pub(crate) fn pipeline(
    site: &FunctionSite,
    components: &[Component],
    prebuilt: &Prebuilt<'_>,
    failed: &Failed,
    env: &Env,
    source_of: &dyn Fn(Span) -> String,
    diagnostics: &mut Diagnostics,
) -> Option<Pipeline> {
    let def = &site.def;
    let args = Args {
        given: &site.decorator_args,
        span: def.name_span,
        callee: "@dsl.pipeline",
    };
    args.warn_unknown(
        &["name", "description", "display_name", "pipeline_root"],
        diagnostics,
    );
    let pipeline_root = args.get("pipeline_root").and_then(|value| {
        let root = read::string(value, "the pipeline's `pipeline_root`", diagnostics)?;
        let bucket = root.strip_prefix("gs://").map(|path| path.split('/').next().unwrap_or(path));
        match bucket {
            Some(bucket) if super::naming::bucket_name_problem(bucket).is_ok() => Some(root.trim_end_matches('/').to_owned()),
            _ => {
                diagnostics.push(
                    Diagnostic::error(value.span, format!("`pipeline_root` must be a Cloud Storage path `gs://BUCKET/PATH`, not `{root}`"))
                        .with_hint("Vertex AI writes the runs' outputs there, e.g. `gs://my-bucket/pipeline_root`"),
                );
                None
            }
        }
    });
    let name = match args.get("name") {
        Some(value) => read::string(value, "the pipeline `name`", diagnostics)?,
        // AutoMLOps 1.1+ names an unnamed pipeline `automlops-pipeline`; kfp uses the function.
        None if site.decorator == "AutoMLOps.pipeline" => "automlops-pipeline".to_owned(),
        None => kfp_name(&def.name),
    };
    check_pipeline_name(
        &name,
        args.get("name")
            .and_then(|v| v.span)
            .or(Some(def.name_span)),
        diagnostics,
    );
    let (doc_description, arg_docs) = def
        .docstring
        .as_deref()
        .map(docstring::parse)
        .unwrap_or_default();
    // kfp takes an empty `description=` for none, and the docstring's instead.
    let description = args
        .get("description")
        .and_then(|value| read::string(value, "the pipeline `description`", diagnostics))
        .filter(|text| !text.is_empty())
        .or(doc_description);
    let mut params = Vec::new();
    for (param, default) in def.params.iter().zip(&site.defaults) {
        let declared = match &param.annotation {
            None => {
                diagnostics.push(
                    Diagnostic::error(
                        param.span,
                        format!("pipeline parameter `{}` has no type annotation", param.name),
                    )
                    .with_hint(annotation_hint(&param.name, default.as_ref())),
                );
                continue;
            }
            Some(annotation) => annotation::parameter(annotation, &source_of(annotation.span())),
        };
        let ty = match declared {
            Ok(Declared::Param(ty)) => ty,
            Ok(_) => {
                diagnostics.push(
                    Diagnostic::error(param.span, format!("pipeline parameter `{}` must be a parameter type, not an artifact", param.name))
                        .with_hint("pipeline parameters are `str`, `int`, `float`, `bool`, `list` or `dict`; artifacts are made by tasks"),
                );
                continue;
            }
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                continue;
            }
        };
        let default = match default {
            None => None,
            Some(value) => match value.to_json() {
                Some(json) if holds_none(&json) => {
                    diagnostics.push(none_inside(
                        value,
                        &format!("the default of `{}`", param.name),
                    ));
                    None
                }
                Some(json) if ty.accepts(&json) => Some(json),
                Some(serde_json::Value::Null) => None,
                Some(_) => {
                    diagnostics.push(Diagnostic::error(
                        value.span,
                        format!(
                            "the default of `{}` is {}, but the parameter is of type {ty}",
                            param.name,
                            value.describe()
                        ),
                    ));
                    None
                }
                None => {
                    diagnostics.push(read::mismatch(
                        value,
                        &format!("the default of `{}`", param.name),
                        "a literal",
                    ));
                    None
                }
            },
        };
        params.push(PipelineParam {
            name: param.name.clone(),
            ty,
            default,
            optional: param.default.is_some(),
            items: param
                .annotation
                .as_ref()
                .map_or((None, None), annotation::list_item_types),
            description: arg_docs
                .iter()
                .find(|(name, _)| name == &param.name)
                .map(|(_, text)| text.clone()),
        });
    }
    let mut body = Body {
        wiring: Wiring::new(components, &params),
        by_name: components
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                // A loaded component is called by the name it is assigned to, not its own.
                c.is_notebook_function() && !prebuilt.callees.iter().any(|(_, j)| j == i)
            })
            .map(|(i, c)| (c.name.as_str(), i))
            .chain(prebuilt.callees.iter().map(|(name, i)| (name.as_str(), *i)))
            .collect(),
        tasks: Tasks::new(),
        loop_vars: HashMap::new(),
        closed_loops: std::collections::HashSet::new(),
        failed_chain: None,
        exit_tasks: std::collections::HashSet::new(),
        chain_spans: HashMap::new(),
        poisoned: std::collections::HashSet::new(),
        importers: prebuilt.importers,
        failed,
        env,
        source_of,
    };
    for (position, stmt) in def.body.iter().enumerate() {
        body.stmt(stmt, position, diagnostics);
    }
    body.check_final_status(diagnostics);
    body.check_group_names(diagnostics);
    let (tasks, groups, body) = body.wiring.finish();
    if tasks.is_empty() && !diagnostics.has_errors() {
        diagnostics.push(Diagnostic::error(
            def.name_span,
            format!("pipeline `{}` calls no component", def.name),
        ));
    }
    Some(Pipeline {
        name,
        description,
        root: pipeline_root,
        params,
        tasks,
        groups,
        body,
    })
}

pub(super) struct Body<'a> {
    pub(super) wiring: Wiring<'a>,
    by_name: std::collections::HashMap<&'a str, usize>,
    pub(super) tasks: Tasks,
    /// `dsl.ParallelFor(...) as item` variables of the open loops, by name.
    pub(super) loop_vars: HashMap<String, usize>,
    /// Loop variables of loops already closed, for a clear message when one is used after.
    pub(super) closed_loops: std::collections::HashSet<String>,
    /// Where a refused `If`/`Elif` block ended (its group, and the length of its body): an
    /// `Elif`/`Else` right there continues a chain already reported.
    pub(super) failed_chain: Option<(Option<usize>, usize)>,
    /// Tasks given to a `dsl.ExitHandler`, refused or not.
    pub(super) exit_tasks: std::collections::HashSet<usize>,
    /// Where each `condition-branches` group's chain continued (its first `Elif`/`Else`).
    pub(super) chain_spans: HashMap<usize, Span>,
    /// Variables assigned a call that had errors: using them is not reported again.
    pub(super) poisoned: std::collections::HashSet<String>,
    /// The importer calls of the body, by where each call is: their components.
    pub(super) importers: &'a super::importer::Importers,
    failed: &'a Failed,
    pub(super) env: &'a Env,
    pub(super) source_of: &'a dyn Fn(Span) -> String,
}

const SUPPORTED_BODY: &str = "a pipeline body may assign component calls to variables (`task = comp(x=...)`), chain `.after(other_task)`, and pass pipeline parameters, constants, `task.output` or `task.outputs[\"name\"]` as keyword arguments";

impl Body<'_> {
    pub(super) fn stmt(&mut self, stmt: &Stmt, position: usize, diagnostics: &mut Diagnostics) {
        match stmt {
            Stmt::Expr(Expr::Str(..)) if position == 0 => {}
            Stmt::Pass(_) => {}
            Stmt::Assign { targets, value, .. } => {
                // `t = t.set_retry(...)`: kfp's task methods return the task itself.
                let task = match self.existing_task_methods(value, diagnostics) {
                    Existing::Task(task) => Some(task),
                    Existing::Failed => None,
                    Existing::NotOne => self.task_expr(value, targets.first().and_then(variable_name), diagnostics),
                };
                for target in targets {
                    match (variable_name(target), task) {
                        (Some(name), Some(task)) => {
                            self.poisoned.remove(name);
                            self.closed_loops.remove(name);
                            self.tasks.insert(name.to_owned(), task);
                        }
                        (Some(name), None) => {
                            self.tasks.remove(name);
                            self.poisoned.insert(name.to_owned());
                        }
                        (None, _) => diagnostics.push(
                            Diagnostic::error(target.span(), "assign a task to a plain variable name").with_hint(SUPPORTED_BODY),
                        ),
                    }
                }
            }
            Stmt::Expr(expr) => {
                if let Existing::NotOne = self.existing_task_methods(expr, diagnostics) {
                    self.task_expr(expr, None, diagnostics);
                }
            }
            Stmt::With { items, body, span } => self.with_block(items, body, *span, diagnostics),
            // Google Cloud Pipeline Components and the importer, imported where they are used:
            // their calls are read before the body (`prebuilt`, `importer`).
            Stmt::Import(import)
                if import
                    .origins()
                    .iter()
                    .all(|(_, origin)| super::prebuilt::is_prebuilt(origin)) =>
            {}
            Stmt::For { span, .. } => diagnostics.push(
                Diagnostic::error(*span, "a Python `for` loop in a pipeline body is unrolled when the pipeline is defined, which automlops does not do")
                    .with_hint("loop with `with dsl.ParallelFor(items) as item:`"),
            ),
            other => diagnostics.push(
                Diagnostic::error(other.span(), "this statement is not supported in a pipeline body").with_hint(SUPPORTED_BODY),
            ),
        }
    }

    /// `task.after(other)` or `task.set_...(...)` changes an existing task.
    fn existing_task_methods(&mut self, expr: &Expr, diagnostics: &mut Diagnostics) -> Existing {
        let (root, methods) = peel_methods(expr);
        let Expr::Name(name, _) = root else {
            return Existing::NotOne;
        };
        if methods.is_empty() {
            return Existing::NotOne;
        }
        if self.poisoned.contains(name) {
            return Existing::Failed;
        }
        let Some(&task) = self.tasks.get(name) else {
            return Existing::NotOne;
        };
        let here = self.wiring.task_chain(task);
        for method in &methods {
            if method.method == "after" {
                let after = self.after_args(method.args, &here, diagnostics);
                self.wiring.tasks[task].after.extend(after);
            }
        }
        self.apply_settings(task, &methods, diagnostics);
        Existing::Task(task)
    }

    /// Applies the task methods of a chain, in call order; `.after` is handled by the caller.
    fn apply_settings(
        &mut self,
        task: usize,
        methods: &[task_settings::Call<'_>],
        diagnostics: &mut Diagnostics,
    ) {
        for method in methods {
            if method.method == "after" {
                continue;
            }
            if task_settings::METHODS.contains(&method.method) {
                task_settings::apply(
                    &mut self.wiring.tasks[task].settings,
                    method,
                    self.env,
                    self.source_of,
                    diagnostics,
                );
            } else {
                diagnostics.push(
                    Diagnostic::error(
                        method.span,
                        format!("`.{}(...)` is not supported", method.method),
                    )
                    .with_hint(format!(
                        "tasks support `.after(...)`, {}",
                        task_settings::METHODS
                            .iter()
                            .map(|m| format!("`.{m}(...)`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
    }

    fn after_args(
        &self,
        args: &[Expr],
        here: &[usize],
        diagnostics: &mut Diagnostics,
    ) -> Vec<usize> {
        args.iter()
            .filter_map(|arg| match arg {
                Expr::Name(name, span) if self.tasks.contains_key(name) => {
                    let task = self.tasks.get(name).copied()?;
                    self.reachable(task, here, false, *span, diagnostics)
                        .then_some(task)
                }
                Expr::Name(name, _) if self.poisoned.contains(name) => None,
                other => {
                    diagnostics.push(
                        Diagnostic::error(other.span(), "`.after(...)` takes task variables")
                            .with_optional_hint(self.suggest_task(other)),
                    );
                    None
                }
            })
            .collect()
    }

    fn suggest_task(&self, expr: &Expr) -> Option<String> {
        let Expr::Name(name, _) = expr else {
            return None;
        };
        did_you_mean(name, self.tasks.keys().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"))
    }

    /// A component call, possibly followed by `.after(...)`; returns the new task.
    pub(super) fn task_expr(
        &mut self,
        expr: &Expr,
        variable: Option<&str>,
        diagnostics: &mut Diagnostics,
    ) -> Option<usize> {
        // `importer_node.importer(...)` reads as a method of a module: importer calls are
        // read apart (`importer::components`), whatever their chain.
        if let Expr::Call {
            func,
            keywords,
            span,
            ..
        } = expr
            && let Some(callee) = func.dotted_name()
        {
            if let Some(&component) = self.importers.get(&(span.cell, span.start)) {
                return self.importer_task(component, keywords, *span, variable, diagnostics);
            }
            // An importer call whose arguments were refused (reported by `importer`).
            if self
                .env
                .import_origin(&callee)
                .is_some_and(|origin| super::importer::is_importer_call(&origin))
            {
                return None;
            }
        }
        let (call, methods) = peel_methods(expr);
        let mut after = Vec::new();
        let here = self.wiring.current_chain();
        for method in &methods {
            if method.method == "after" {
                after.extend(self.after_args(method.args, &here, diagnostics));
            }
        }
        let Expr::Call {
            func,
            args,
            keywords,
            span,
        } = call
        else {
            diagnostics.push(
                Diagnostic::error(
                    expr.span(),
                    format!("expected a component call, found {}", expr.describe()),
                )
                .with_hint(SUPPORTED_BODY),
            );
            return None;
        };
        let components = self.wiring.components;
        let callee = func.dotted_name().unwrap_or_default();
        let Some(component) = self.by_name.get(callee.as_str()).copied() else {
            if self.failed.covers(&callee) {
                return None;
            }
            if let Some(origin) = self
                .env
                .import_origin(&callee)
                .filter(|origin| super::prebuilt::is_gcpc(origin))
            {
                let (module, name) = origin.rsplit_once('.').unwrap_or(("", &origin));
                diagnostics.push(
                    Diagnostic::error(func.span(), format!("not supported yet: calling `{callee}` through its module"))
                        .with_hint(format!("import the op itself: `from {module} import {name}`, then call `{name}(...)`")),
                );
                return None;
            }
            let hint = did_you_mean(&callee, components.iter().map(|c| c.name.as_str()));
            let mut diagnostic =
                Diagnostic::error(func.span(), format!("`{callee}` is not a component"));
            diagnostic = match hint {
                Some(s) => diagnostic.with_hint(format!("did you mean `{s}`?")),
                None if self.env.get(&callee).is_some() => {
                    diagnostic.with_hint(format!("decorate `{callee}` with `@dsl.component`"))
                }
                None => diagnostic.with_hint(format!(
                    "the components are {}",
                    list_names(components.iter().map(|c| c.name.as_str()))
                )),
            };
            diagnostics.push(diagnostic);
            return None;
        };
        let complete = args.is_empty();
        if let Some(first) = args.first() {
            diagnostics.push(
                Diagnostic::error(
                    first.span(),
                    "component arguments must be passed by keyword",
                )
                .with_hint(format!("write `{callee}(name=value, ...)`")),
            );
        }
        let mut written = Vec::new();
        let mut attempted = Vec::new();
        for keyword in keywords {
            let Some(input) = &keyword.name else {
                diagnostics.push(
                    Diagnostic::error(keyword.span, "`**kwargs` cannot be resolved statically")
                        .with_hint(SUPPORTED_BODY),
                );
                continue;
            };
            attempted.push(input.clone());
            let Some(value) = self.task_argument(&keyword.value, diagnostics) else {
                continue;
            };
            let input_span = Span::new(
                keyword.span.cell,
                keyword.span.start,
                keyword.span.start + input.len(),
            );
            written.push(WrittenArgument {
                input: input.clone(),
                input_span,
                value,
                value_span: keyword.value.span(),
            });
        }
        let variable = variable.map_or_else(|| format!("{callee}_task"), str::to_owned);
        let task = self.wiring.add_task(
            Call {
                component,
                variable,
                written,
                attempted,
                complete: complete && keywords.iter().all(|k| k.name.is_some()),
                after,
                span: *span,
            },
            diagnostics,
        );
        self.apply_settings(task, &methods, diagnostics);
        Some(task)
    }

    /// A task of an importer call: `artifact_uri` is its `uri`, each pipeline parameter of its
    /// metadata one of its `metadata` inputs.
    fn importer_task(
        &mut self,
        component: usize,
        keywords: &[crate::python::ast::Keyword],
        span: Span,
        variable: Option<&str>,
        diagnostics: &mut Diagnostics,
    ) -> Option<usize> {
        let mut written = Vec::new();
        if let Some(keyword) = keywords
            .iter()
            .find(|k| k.name.as_deref() == Some("artifact_uri"))
        {
            let value = self.task_argument(&keyword.value, diagnostics)?;
            written.push(WrittenArgument {
                input: "uri".to_owned(),
                input_span: keyword.span,
                value,
                value_span: keyword.value.span(),
            });
        }
        if let ComponentSource::Importer(importer) = &self.wiring.components[component].source {
            for (input, param) in &importer.metadata_params {
                written.push(WrittenArgument {
                    input: input.clone(),
                    input_span: span,
                    value: Argument::PipelineParam(param.clone()),
                    value_span: span,
                });
            }
        }
        let attempted = written.iter().map(|w| w.input.clone()).collect();
        let task = self.wiring.add_task(
            Call {
                component,
                variable: variable.map_or_else(|| "importer_task".to_owned(), str::to_owned),
                written,
                attempted,
                complete: true,
                after: Vec::new(),
                span,
            },
            diagnostics,
        );
        Some(task)
    }

    pub(super) fn argument(&self, expr: &Expr, diagnostics: &mut Diagnostics) -> Option<Argument> {
        match self.loop_item(expr, diagnostics) {
            LoopRef::Item(item) => return Some(item),
            LoopRef::Refused => return None,
            LoopRef::NotOne => {}
        }
        let argument = self.value(expr, diagnostics)?;
        if let Argument::TaskOutput { task, .. } = &argument
            && !self.reachable(
                *task,
                &self.wiring.current_chain(),
                true,
                expr.span(),
                diagnostics,
            )
        {
            return None;
        }
        Some(argument)
    }

    /// An argument of a task created here, with kfp 2.17.3's way of passing it checked.
    fn task_argument(&self, expr: &Expr, diagnostics: &mut Diagnostics) -> Option<Argument> {
        let argument = self.argument(expr, diagnostics)?;
        let here = self.wiring.current_chain();
        self.passed_by_kfp(&argument, &here, expr.span(), diagnostics)
            .then_some(argument)
    }

    fn value(&self, expr: &Expr, diagnostics: &mut Diagnostics) -> Option<Argument> {
        match expr {
            Expr::Call {
                func,
                args,
                keywords,
                span,
            } if super::control::dsl_member(func).as_deref() == Some("Collected") => {
                let ([inner], []) = (args.as_slice(), keywords.as_slice()) else {
                    diagnostics.push(Diagnostic::error(
                        *span,
                        "`dsl.Collected` takes one task output: `dsl.Collected(task.output)`",
                    ));
                    return None;
                };
                if let Argument::TaskOutput { task, output } = self.value(inner, diagnostics)? {
                    self.collected(task, output, inner.span(), diagnostics)
                } else {
                    diagnostics.push(Diagnostic::error(
                        inner.span(),
                        "`dsl.Collected` takes the output of a task inside a `dsl.ParallelFor`",
                    ));
                    None
                }
            }
            Expr::Name(name, _) if self.poisoned.contains(name) => None,
            Expr::Name(name, span) => {
                // After its loop, a loop variable still names the item in Python, whatever it
                // named before the loop.
                if self.closed_loops.contains(name) {
                    diagnostics.push(
                        Diagnostic::error(*span, format!("loop item `{name}` exists only inside its `dsl.ParallelFor` block"))
                            .with_hint("use it inside the block; to use the results of every iteration, pass them to a task inside the loop"),
                    );
                    return None;
                }
                if self.wiring.params.iter().any(|p| &p.name == name) {
                    return Some(Argument::PipelineParam(name.clone()));
                }
                if let Some(&task) = self.tasks.get(name) {
                    let outputs =
                        &self.wiring.components[self.wiring.tasks[task].component].outputs;
                    diagnostics.push(
                        Diagnostic::error(*span, format!("`{name}` is a task, not a value"))
                            .with_hint(match outputs.as_slice() {
                                [_] => format!("pass its output: `{name}.output`"),
                                _ => format!(
                                    "pass one of its outputs: `{name}.outputs[\"...\"]` ({})",
                                    list_names(outputs.iter().map(|o| o.name.as_str()))
                                ),
                            }),
                    );
                    return None;
                }
                if self.env.get(name).is_none() {
                    let candidates = self
                        .wiring
                        .params
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>();
                    let hint = did_you_mean(name, candidates).or_else(|| self.env.suggest(name));
                    diagnostics.push(
                        Diagnostic::error(*span, format!("name `{name}` is not a pipeline parameter or a constant of the notebook"))
                            .with_optional_hint(hint.map(|s| format!("did you mean `{s}`?"))),
                    );
                    return None;
                }
                self.constant(expr, diagnostics)
            }
            Expr::Attribute { value, attr, span } if attr == "output" => {
                let task = self.task_of(value, diagnostics)?;
                let component = &self.wiring.components[self.wiring.tasks[task].component];
                match component.outputs.as_slice() {
                    [only] => Some(Argument::TaskOutput {
                        task,
                        output: only.name.clone(),
                    }),
                    [] => {
                        diagnostics.push(Diagnostic::error(
                            *span,
                            format!("component `{}` has no output", component.name),
                        ));
                        None
                    }
                    many => {
                        diagnostics.push(
                            Diagnostic::error(
                                *span,
                                format!(
                                    "component `{}` has several outputs, so `.output` is ambiguous",
                                    component.name
                                ),
                            )
                            .with_hint(format!(
                                "pick one with `.outputs[\"name\"]`: {}",
                                list_names(many.iter().map(|o| o.name.as_str()))
                            )),
                        );
                        None
                    }
                }
            }
            Expr::Subscript { value, index, .. } if matches!(value.as_ref(), Expr::Attribute { attr, .. } if attr == "outputs") =>
            {
                let Expr::Attribute {
                    value: task_expr, ..
                } = value.as_ref()
                else {
                    return None;
                };
                let task = self.task_of(task_expr, diagnostics)?;
                let component = &self.wiring.components[self.wiring.tasks[task].component];
                let Expr::Str(output, span) = index.as_ref() else {
                    diagnostics.push(Diagnostic::error(
                        index.span(),
                        "`.outputs[...]` takes a string literal",
                    ));
                    return None;
                };
                if component.output(output).is_none() {
                    let hint =
                        did_you_mean(output, component.outputs.iter().map(|o| o.name.as_str()));
                    diagnostics.push(
                        Diagnostic::error(
                            *span,
                            format!("component `{}` has no output `{output}`", component.name),
                        )
                        .with_hint(hint.map_or_else(
                            || {
                                format!(
                                    "its outputs are {}",
                                    list_names(component.outputs.iter().map(|o| o.name.as_str()))
                                )
                            },
                            |s| format!("did you mean `{s}`?"),
                        )),
                    );
                    return None;
                }
                Some(Argument::TaskOutput {
                    task,
                    output: output.clone(),
                })
            }
            _ => self.constant(expr, diagnostics),
        }
    }

    fn task_of(&self, expr: &Expr, diagnostics: &mut Diagnostics) -> Option<usize> {
        if let Expr::Name(name, span) = expr
            && self.closed_loops.contains(name)
        {
            diagnostics.push(Diagnostic::error(
                *span,
                format!("`{name}` is the item of a closed `dsl.ParallelFor` loop, not a task"),
            ));
            return None;
        }
        if let Expr::Name(name, _) = expr {
            if let Some(&task) = self.tasks.get(name) {
                return Some(task);
            }
            if self.poisoned.contains(name) {
                return None;
            }
        }
        if let Expr::Call { .. } = expr {
            diagnostics.push(
                Diagnostic::error(
                    expr.span(),
                    format!(
                        "`{}` creates a task inside an expression, which automlops does not read",
                        (self.source_of)(expr.span())
                    ),
                )
                .with_hint("assign the task to a variable on its own line first (`t = comp(...)`), then use `t.output`"),
            );
            return None;
        }
        diagnostics.push(
            Diagnostic::error(
                expr.span(),
                format!(
                    "`{}` is not a task of this pipeline",
                    (self.source_of)(expr.span())
                ),
            )
            .with_optional_hint(self.suggest_task(expr)),
        );
        None
    }

    fn constant(&self, expr: &Expr, diagnostics: &mut Diagnostics) -> Option<Argument> {
        let value = self.env.eval(expr, self.source_of);
        if let Some(json) = value.to_json() {
            return Some(Argument::Constant(json));
        }
        // `f"n={task.output}"`: a task's output read inside an f-string.
        if let Expr::FString(parts, _) = expr
            && let Some((name, span)) = parts.iter().find_map(|part| match part {
                crate::python::ast::FStringPart::Expr { expr: inner, .. } => {
                    let mut base = inner;
                    while let Expr::Attribute { value, .. } | Expr::Subscript { value, .. } = base {
                        base = value;
                    }
                    match base {
                        Expr::Name(name, _) if self.tasks.contains_key(name) => {
                            Some((name.clone(), inner.span()))
                        }
                        _ => None,
                    }
                }
                crate::python::ast::FStringPart::Literal(_) => None,
            })
        {
            diagnostics.push(
                Diagnostic::error(span, format!("not supported yet: an f-string of task `{name}`'s output, which kfp compiles into a string with placeholders"))
                    .with_hint(format!("pass `{name}`'s output to a component input by itself and build the string inside the component")),
            );
            return None;
        }
        // A pipeline parameter, a task output or a loop item inside a list, dict or f-string
        // is only known when the pipeline runs. kfp compiles such an f-string into a string
        // with placeholders; automlops does not yet.
        if let Some((super::value::Unknown::Undefined { name, .. }, span)) = value.first_unknown()
            && (self.wiring.params.iter().any(|p| &p.name == name)
                || self.tasks.contains_key(name)
                || self.loop_vars.contains_key(name))
        {
            if let Expr::FString(..) = expr {
                diagnostics.push(
                    Diagnostic::error(span, format!("not supported yet: an f-string of a value known only when the pipeline runs (`{name}`), which kfp compiles into a string with placeholders"))
                        .with_hint(format!("pass `{name}` to a component input by itself and build the string inside the component; for a task's name in the console, `.set_display_name(...)` takes a literal")),
                );
                return None;
            }
            diagnostics.push(
                Diagnostic::error(span, format!("`{name}` is only known when the pipeline runs, so it cannot be part of the constant `{}`", (self.source_of)(expr.span())))
                    .with_hint(format!("pass `{name}` to a component input by itself, and build the value inside the component")),
            );
            return None;
        }
        diagnostics.push(read::mismatch(
            &value,
            "a component argument",
            "a pipeline parameter, a task output or a literal",
        ));
        None
    }
}

/// What a statement's method chain is applied to.
enum Existing {
    /// Not a chain of methods on a task variable.
    NotOne,
    Task(usize),
    /// A variable whose call had errors (reported).
    Failed,
}

/// kfp refuses `None` inside a list or dict default.
fn none_inside(value: &super::value::Value, what: &str) -> Diagnostic {
    Diagnostic::error(
        value.span,
        format!("{what} holds `None` inside it, which kfp does not accept"),
    )
    .with_hint(
        "use a value of type str, int, float, bool, list or dict there, or leave the entry out",
    )
}

/// How to annotate a parameter, guessed from its default when it has one.
fn annotation_hint(name: &str, default: Option<&super::value::Value>) -> String {
    let ty = default.and_then(|value| match value.kind {
        Kind::Str(_) => Some("str"),
        Kind::Int(_) => Some("int"),
        Kind::Float(_) => Some("float"),
        Kind::Bool(_) => Some("bool"),
        Kind::List(_) => Some("list"),
        Kind::Dict(_) => Some("dict"),
        _ => None,
    });
    match ty {
        Some(ty) => format!("its default is of type `{ty}`: write `{name}: {ty} = ...`"),
        None => format!(
            "annotate it with its type, e.g. `{name}: str`, `{name}: int` or `{name}: Input[Dataset]`"
        ),
    }
}

/// `comp(...).after(t).set_cpu_limit("4")` is the call `comp(...)` and its methods in call
/// order.
fn peel_methods(expr: &Expr) -> (&Expr, Vec<task_settings::Call<'_>>) {
    let mut methods = Vec::new();
    let mut current = expr;
    while let Expr::Call {
        func,
        args,
        keywords,
        ..
    } = current
    {
        let Expr::Attribute { value, attr, span } = func.as_ref() else {
            break;
        };
        methods.push(task_settings::Call {
            method: attr,
            args,
            keywords,
            span: *span,
        });
        current = value;
    }
    methods.reverse();
    (current, methods)
}

fn variable_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(name, _) => Some(name),
        _ => None,
    }
}
