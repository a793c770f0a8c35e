//! The first analysis pass: walks every Python cell top to bottom, evaluates module-level
//! constants, and collects the sites the later passes read (option calls, component and
//! pipeline definitions, `%%define_imports`).
//!
//! Reading in notebook order, never in execution order, is what makes compiles reproducible.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::notebook::{CellMagic, Notebook};
use crate::python::ast::{Expr, FunctionDef, Import, Keyword, Stmt};
use crate::python::{Facts, ParsedNotebook, TopLevel};

use super::value::{Env, Kind, Value};

/// A keyword argument of a call, evaluated where the call is.
#[derive(Clone, Debug)]
pub(crate) struct Arg {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) value: Value,
}

/// `AutoMLOps.go(...)`, `AutoMLOps.generate(...)` or `AutoMLOps.launchAll(...)`: the calls
/// that take the options of the codebase.
#[derive(Debug)]
pub(crate) struct OptionsCall {
    /// `go`, `generate` or `launchAll`.
    pub(crate) function: &'static str,
    pub(crate) args: Vec<Arg>,
    pub(crate) span: Span,
}

/// A `%%define_component` cell: its `makeComponent` call and the body after it.
#[derive(Debug)]
pub(crate) struct CustomComponentSite {
    pub(crate) args: Vec<Arg>,
    pub(crate) call_span: Span,
    pub(crate) body: String,
    pub(crate) facts: Facts,
}

/// `AutoMLOps.makePipeline(...)`.
#[derive(Debug)]
pub(crate) struct MakePipelineSite {
    pub(crate) args: Vec<Arg>,
    pub(crate) span: Span,
}

/// A function decorated as a Kubeflow component or pipeline.
#[derive(Debug)]
pub(crate) struct FunctionSite {
    pub(crate) def: FunctionDef,
    /// The decorator's dotted name: `dsl.component`, `AutoMLOps.pipeline`.
    pub(crate) decorator: String,
    pub(crate) decorator_args: Vec<Arg>,
    /// The defaults of `def.params`, evaluated where the function is defined.
    pub(crate) defaults: Vec<Option<Value>>,
    /// The function's source from `def` on.
    pub(crate) source: String,
    pub(crate) facts: Facts,
}

/// A statement of a `%%define_imports` cell: an import, or other setup code (`SEED = 42`,
/// `warnings.filterwarnings(...)`), which AutoMLOps 1.0 copied into every component too.
#[derive(Debug)]
pub(crate) struct ImportSite {
    pub(crate) text: String,
    pub(crate) bindings: Vec<String>,
    pub(crate) facts: Facts,
    pub(crate) is_import: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Module-level names as they stand at the end of the notebook.
    pub(crate) env: Env,
    pub(crate) options_calls: Vec<OptionsCall>,
    pub(crate) custom_components: Vec<CustomComponentSite>,
    pub(crate) make_pipelines: Vec<MakePipelineSite>,
    pub(crate) kfp_components: Vec<FunctionSite>,
    pub(crate) kfp_pipelines: Vec<FunctionSite>,
    /// `op = kfp.components.load_component_from_file(...)` and its kin, in notebook order.
    pub(crate) component_loads: Vec<super::component_file::LoadSite>,
    pub(crate) imports: Vec<ImportSite>,
    /// Uncertain names already reported, by name and statement.
    pub(crate) reported: std::collections::BTreeSet<(String, Span)>,
    /// Some cell has syntax errors, or a `%%define_component` cell has no readable
    /// `makeComponent` call, so some definitions are unknown.
    pub(crate) unreadable_definitions: bool,
}

const COMPONENT_DECORATORS: &[&str] = &[
    "AutoMLOps.component",
    "component",
    "dsl.component",
    "kfp.dsl.component",
    "v2.dsl.component",
    "kfp.v2.dsl.component",
];
/// `@dsl.container_component`: a component that runs an image of its own.
pub(crate) const CONTAINER_COMPONENT_DECORATORS: &[&str] = &[
    "container_component",
    "dsl.container_component",
    "kfp.dsl.container_component",
];
const PIPELINE_DECORATORS: &[&str] = &[
    "AutoMLOps.pipeline",
    "pipeline",
    "dsl.pipeline",
    "kfp.dsl.pipeline",
    "v2.dsl.pipeline",
    "kfp.v2.dsl.pipeline",
];

pub(crate) fn scan(
    notebook: &Notebook,
    parsed: ParsedNotebook,
    overrides: HashMap<String, Value>,
    diagnostics: &mut Diagnostics,
) -> Scan {
    let mut scan = Scan {
        env: Env::with_overrides(overrides),
        unreadable_definitions: parsed.has_syntax_errors(),
        ..Scan::default()
    };
    diagnostics.extend(parsed.diagnostics);
    let source = |span: Span| text_of(notebook, span).to_owned();
    // The parsed cells are consumed one by one, so that a cell's syntax tree is freed once it
    // is scanned: what later phases need is copied into the scan's sites.
    for ((index, cell), stmts) in notebook.cells.iter().enumerate().zip(parsed.cells) {
        let Some(stmts) = stmts else { continue };
        warn_dropped_ipython_lines(index, cell, &stmts, diagnostics);
        if cell.magic == Some(CellMagic::DefineComponent) {
            match define_component(index, &cell.python, &stmts, &scan.env, &source, diagnostics) {
                Some(site) => scan.custom_components.push(site),
                None => scan.unreadable_definitions = true,
            }
            // AutoMLOps 1.0 runs only the `makeComponent(...)` call of such a cell: the rest is
            // the component's code, which runs in its container and binds no notebook names.
            for name in stmts.iter().flat_map(|top| &top.facts.bound_names) {
                scan.env.bind_in_component_code(name);
            }
            continue;
        }
        // Each statement is taken apart: a function moves into its site, uncopied.
        for TopLevel { stmt, facts } in stmts {
            // A statement with an IPython line in it (blanked for the parser) is left out of
            // the components, with the warning of `warn_dropped_ipython_lines`.
            let has_ipython = || {
                let stmt_span = stmt.span();
                cell.ipython_lines
                    .iter()
                    .any(|&(start, end)| start < stmt_span.end && stmt_span.start < end)
            };
            if cell.magic == Some(CellMagic::DefineImports)
                && !matches!(stmt, Stmt::Import(_))
                && !has_ipython()
            {
                scan.imports.push(ImportSite {
                    text: source(stmt.span()),
                    bindings: facts.bound_names.iter().cloned().collect(),
                    facts: facts.clone(),
                    is_import: false,
                });
            }
            if super::mutation::apply(&stmt, &facts, &mut scan.env, &source) {
                continue;
            }
            match stmt {
                Stmt::Assign { targets, value, .. } => {
                    if let Some(site) =
                        super::component_file::load_site(&targets, &value, &scan.env, &source)
                    {
                        scan.env
                            .bind_opaque(&site.binding, site.span, &site.binding);
                        scan.component_loads.push(site);
                        continue;
                    }
                    let value = scan.env.eval(&value, &source);
                    // A value computed from an uncertain name is uncertain too.
                    let touched = scan.env.take_touched();
                    for target in &targets {
                        bind_target(&mut scan.env, target, &value, &source);
                        if let (Some(origin), Expr::Name(name, _)) = (touched.first(), target) {
                            scan.env.mark_uncertain(name, origin.clone());
                        }
                    }
                }
                Stmt::AnnAssign {
                    target,
                    value: Some(value),
                    ..
                } => {
                    let value = scan.env.eval(&value, &source);
                    bind_target(&mut scan.env, &target, &value, &source);
                }
                Stmt::Import(import) => {
                    for (binding, origin) in import.origins() {
                        scan.env.bind_import(&binding, import.span, origin);
                    }
                    if cell.magic == Some(CellMagic::DefineImports) {
                        scan.imports.push(import_site(&import, &facts, &source));
                    }
                }
                Stmt::Expr(expr) => {
                    // A `%%define_component` cell that does not open with the call is reported
                    // once, by `define_component`.
                    let is_component_call = cell.magic == Some(CellMagic::DefineComponent);
                    scan_call(&expr, is_component_call, &mut scan, &source, diagnostics);
                }
                Stmt::FunctionDef(def) => {
                    scan.env.bind_opaque(&def.name, def.name_span, &def.name);
                    if let Some(decorator) = find_decorator(&def, COMPONENT_DECORATORS)
                        .or_else(|| find_decorator(&def, CONTAINER_COMPONENT_DECORATORS))
                    {
                        let (name, args) = read_decorator(decorator, &scan.env, &source);
                        let site = function_site(def, name, args, facts, &scan.env, &source);
                        scan.kfp_components.push(site);
                    } else if let Some(decorator) = find_decorator(&def, PIPELINE_DECORATORS) {
                        let (name, args) = read_decorator(decorator, &scan.env, &source);
                        let site = function_site(def, name, args, facts, &scan.env, &source);
                        scan.kfp_pipelines.push(site);
                    } else if cell.magic == Some(CellMagic::DefineKfpPipeline) {
                        diagnostics.push(
                            Diagnostic::error(
                                def.name_span,
                                format!(
                                    "the pipeline function `{}` needs a `@dsl.pipeline` decorator",
                                    def.name
                                ),
                            )
                            .with_hint("add `@dsl.pipeline(name=\"my-pipeline\")` above the `def`"),
                        );
                    }
                }
                _ => {}
            }
            super::mutation::report(&scan.env, &mut scan.reported, diagnostics);
        }
    }
    for name in scan.env.unused_overrides() {
        diagnostics.push(
            Diagnostic::warning(
                None,
                format!("`-p {name}=...` matches no variable the notebook assigns; it is not used"),
            )
            .with_optional_hint(
                super::suggest::did_you_mean(name, scan.env.assigned_names())
                    .map(|s| format!("did you mean `-p {s}=...`?")),
            ),
        );
    }
    scan
}

/// `IPython` lines inside a component's code (`%time fit()`, `!gsutil cp ...`), or in a
/// `%%define_imports` cell, are not Python and do not reach the generated component; say so
/// rather than drop them silently.
fn warn_dropped_ipython_lines(
    index: usize,
    cell: &crate::notebook::Cell,
    stmts: &[crate::python::TopLevel],
    diagnostics: &mut Diagnostics,
) {
    /// Where an IPython line is, for what becomes of it.
    enum Place {
        /// Not in component code: the notebook runs it, the pipeline never does.
        Notebook,
        /// Code of a custom-syntax cell: the component's code is the cell without it.
        DroppedFromComponent,
        /// Inside a `@dsl.component` function, whose source is copied as written.
        ComponentFunction,
    }
    let place = |start: usize| {
        match cell.magic {
        Some(CellMagic::DefineComponent) if stmts.first().is_some_and(|top| start > top.stmt.span().end) => Place::DroppedFromComponent,
        // AutoMLOps 1.0 copies all of such a cell, but its own magic line, into every component.
        Some(CellMagic::DefineImports) if !cell.source.get(start..).unwrap_or_default().starts_with("%%") => Place::DroppedFromComponent,
        Some(CellMagic::DefineComponent | CellMagic::DefineImports) => Place::Notebook,
        _ if stmts.iter().any(|top| {
            matches!(&top.stmt, Stmt::FunctionDef(def) if find_decorator(def, COMPONENT_DECORATORS).is_some()
                && def.def_span.start < start && start < def.def_span.end)
        }) => Place::ComponentFunction,
        _ => Place::Notebook,
    }
    };
    for &(start, end) in &cell.ipython_lines {
        let line = cell.source.get(start..end).unwrap_or_default();
        let hint = if line.contains("pip install") {
            "the image's packages come from `requirements.txt`: list the package in `packages_to_install` or import it in the code"
        } else {
            "do it in Python (for example with `subprocess.run([...])`), or move it to another cell"
        };
        let span = Span::new(index, start, end);
        match place(start) {
            Place::Notebook => {}
            Place::DroppedFromComponent => diagnostics.push(
                Diagnostic::warning(span, "this IPython line is not Python and is left out of the component")
                    .with_hint(hint),
            ),
            Place::ComponentFunction => diagnostics.push(
                Diagnostic::error(span, "this IPython line cannot run in the component: the function's source runs as plain Python in the component's container, where it is a syntax error")
                    .with_hint(hint),
            ),
        }
    }
}

/// The text of a span of the notebook, as written (`IPython` lines included).
pub(crate) fn text_of(notebook: &Notebook, span: Span) -> &str {
    notebook
        .cells
        .get(span.cell)
        .and_then(|cell| cell.source.get(span.start..span.end))
        .unwrap_or_default()
}

fn bind_target(env: &mut Env, target: &Expr, value: &Value, source: &dyn Fn(Span) -> String) {
    match target {
        Expr::Name(name, _) => env.bind(name, value.clone()),
        Expr::Tuple(names, _) | Expr::List(names, _) => match &value.kind {
            Kind::List(items) if items.len() == names.len() => {
                for (name, item) in names.iter().zip(items.iter()) {
                    bind_target(env, name, item, source);
                }
            }
            _ => {
                for name in names {
                    if let Expr::Name(name, span) = name {
                        env.bind_opaque(name, *span, &source(value.span.unwrap_or(*span)));
                    }
                }
            }
        },
        _ => {}
    }
}

/// The dotted name of what a decorator or call invokes: `dsl.component` for both
/// `@dsl.component` and `@dsl.component(...)`.
pub(crate) fn callee_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Call { func, .. } => func.dotted_name(),
        other => other.dotted_name(),
    }
}

fn find_decorator<'a>(def: &'a FunctionDef, names: &[&str]) -> Option<&'a Expr> {
    def.decorators
        .iter()
        .find(|d| callee_name(d).is_some_and(|n| names.contains(&n.as_str())))
}

pub(crate) fn eval_keywords(
    keywords: &[Keyword],
    env: &Env,
    source: &dyn Fn(Span) -> String,
) -> Vec<Arg> {
    eval_args(&[], &[], keywords, env, source)
}

/// The positional parameters of AutoMLOps 1.0's functions, in order.
const MAKE_COMPONENT: &[&str] = &["name", "description", "params"];
const MAKE_PIPELINE: &[&str] = &["name", "description", "params", "pipeline"];
const GO: &[&str] = &[
    "project_id",
    "pipeline_params",
    "af_registry_location",
    "af_registry_name",
    "cb_trigger_location",
    "cb_trigger_name",
    "cloud_run_location",
    "cloud_run_name",
    "cloud_tasks_queue_location",
    "cloud_tasks_queue_name",
    "csr_branch_name",
    "csr_name",
    "custom_training_job_specs",
    "gs_bucket_location",
    "gs_bucket_name",
    "pipeline_runner_sa",
    "run_local",
    "schedule_location",
    "schedule_name",
    "schedule_pattern",
    "use_kfp_spec",
    "vpc_connector",
];

/// Positional arguments named after `names` (AutoMLOps 1.0's signatures), then keywords.
fn eval_args(
    positional: &[Expr],
    names: &[&str],
    keywords: &[Keyword],
    env: &Env,
    source: &dyn Fn(Span) -> String,
) -> Vec<Arg> {
    positional
        .iter()
        .zip(names)
        .map(|(expr, name)| Arg {
            name: (*name).to_owned(),
            span: expr.span(),
            value: env.eval(expr, source),
        })
        .chain(keywords.iter().filter_map(|keyword| {
            Some(Arg {
                name: keyword.name.clone()?,
                span: keyword.span,
                value: env.eval(&keyword.value, source),
            })
        }))
        .collect()
}

/// A decorator's dotted name and its evaluated arguments.
fn read_decorator(
    decorator: &Expr,
    env: &Env,
    source: &dyn Fn(Span) -> String,
) -> (String, Vec<Arg>) {
    let args = match decorator {
        // `output_component_file` names a file of AutoMLOps 1.0's cache; it is accepted and not
        // evaluated (it usually reads `AutoMLOps.OUTPUT_DIR`).
        Expr::Call { keywords, .. } => eval_keywords(
            &keywords
                .iter()
                .filter(|k| k.name.as_deref() != Some("output_component_file"))
                .cloned()
                .collect::<Vec<_>>(),
            env,
            source,
        ),
        _ => Vec::new(),
    };
    // `None` is every decorator argument's default, in kfp and in AutoMLOps.
    let args = args
        .into_iter()
        .filter(|arg| arg.value.kind != super::value::Kind::None)
        .collect();
    (callee_name(decorator).unwrap_or_default(), args)
}

fn function_site(
    def: FunctionDef,
    decorator: String,
    decorator_args: Vec<Arg>,
    facts: Facts,
    env: &Env,
    source: &dyn Fn(Span) -> String,
) -> FunctionSite {
    FunctionSite {
        decorator,
        decorator_args,
        defaults: def
            .params
            .iter()
            .map(|p| p.default.as_ref().map(|d| env.eval(d, source)))
            .collect(),
        source: source(def.def_span),
        def,
        facts,
    }
}

fn import_site(import: &Import, facts: &Facts, source: &dyn Fn(Span) -> String) -> ImportSite {
    ImportSite {
        text: source(import.span),
        bindings: import
            .names
            .iter()
            .map(|n| n.binding(import.from.is_some()).to_owned())
            .collect(),
        facts: facts.clone(),
        is_import: true,
    }
}

fn scan_call(
    expr: &Expr,
    is_component_call: bool,
    scan: &mut Scan,
    source: &dyn Fn(Span) -> String,
    diagnostics: &mut Diagnostics,
) {
    let Expr::Call {
        func,
        args,
        keywords,
        span,
    } = expr
    else {
        return;
    };
    let Some(name) = func.dotted_name() else {
        return;
    };
    match name.as_str() {
        "AutoMLOps.go" => scan.options_calls.push(OptionsCall {
            function: "go",
            args: eval_args(args, GO, keywords, &scan.env, source),
            span: *span,
        }),
        // `launchAll` (AutoMLOps 1.2+) takes `generate`'s options, then provisions and deploys.
        "AutoMLOps.generate" | "AutoMLOps.launchAll" => {
            let function = if name == "AutoMLOps.generate" { "generate" } else { "launchAll" };
            // AutoMLOps 1.2 reordered `generate`'s parameters after the first two; which order
            // a notebook means cannot be told, so only those two are read by position.
            if let Some(extra) = args.get(2) {
                diagnostics.push(
                    Diagnostic::error(extra.span(), format!("`AutoMLOps.{function}(...)` takes only `project_id` and `pipeline_params` by position"))
                        .with_hint("pass the other options by keyword, e.g. `artifact_repo_location=\"us-central1\"`: AutoMLOps 1.2 changed the order of the rest"),
                );
            }
            scan.options_calls.push(OptionsCall {
                function,
                args: eval_args(&args[..args.len().min(2)], GO, keywords, &scan.env, source),
                span: *span,
            });
        }
        "AutoMLOps.monitor" => diagnostics.push(
            Diagnostic::warning(*span, "model monitoring (`AutoMLOps.monitor(...)`) is not supported yet; no monitoring job is created")
                .with_hint("after the model is deployed, create a Vertex AI Model Monitoring job for its endpoint (`gcloud ai model-monitoring-jobs create`), or keep this notebook's `monitor(...)` call for AutoMLOps"),
        ),
        "AutoMLOps.makePipeline" => scan.make_pipelines.push(MakePipelineSite {
            args: eval_args(args, MAKE_PIPELINE, keywords, &scan.env, source),
            span: *span,
        }),
        "AutoMLOps.makeComponent" if !is_component_call => diagnostics.push(
            Diagnostic::error(*span, "`AutoMLOps.makeComponent(...)` must be the first statement of a `%%define_component` cell")
                .with_hint("put `%%define_component` on the cell's first line and the call right after it"),
        ),
        // `provision`, `deprovision`, `deploy`, `run` and `clear_cache` act on what `generate`
        // wrote (apply the infrastructure, build and run, forget cached definitions): the
        // compile writes the same codebase with or without them.
        "AutoMLOps.provision" | "AutoMLOps.deprovision" | "AutoMLOps.deploy" | "AutoMLOps.run"
        | "AutoMLOps.clear_cache" | "AutoMLOps.makeComponent" => {}
        other => {
            if let Some(function) = other.strip_prefix("AutoMLOps.") {
                let known = [
                    "go", "generate", "launchAll", "provision", "deprovision", "deploy", "run",
                    "monitor", "clear_cache", "makeComponent", "makePipeline",
                ];
                diagnostics.push(
                    Diagnostic::warning(*span, format!("AutoMLOps has no function `{function}`; this call is ignored"))
                        .with_optional_hint(
                            super::suggest::did_you_mean(function, known)
                                .map(|s| format!("did you mean `AutoMLOps.{s}`?")),
                        ),
                );
            }
        }
    }
}

/// A `%%define_component` cell: the first statement must be the `makeComponent` call; the rest
/// of the cell is the component's body.
fn define_component(
    cell: usize,
    text: &str,
    stmts: &[crate::python::TopLevel],
    env: &Env,
    source: &dyn Fn(Span) -> String,
    diagnostics: &mut Diagnostics,
) -> Option<CustomComponentSite> {
    let opening = stmts.first().and_then(|top| match &top.stmt {
        Stmt::Expr(Expr::Call {
            func,
            args,
            keywords,
            span,
        }) if func.dotted_name().as_deref() == Some("AutoMLOps.makeComponent") => {
            Some((args, keywords, *span))
        }
        _ => None,
    });
    let Some((positional, keywords, call_span)) = opening else {
        let span = stmts
            .first()
            .map_or(Span::new(cell, 0, 0), |top| top.stmt.span());
        diagnostics.push(
            Diagnostic::error(span, "a `%%define_component` cell must open with `AutoMLOps.makeComponent(...)`")
                .with_hint("start the cell with `AutoMLOps.makeComponent(name=\"...\", params=[...])`, then the component's code"),
        );
        return None;
    };
    // The body starts on the line after the call: a statement after `;` on the call's last
    // line would be lost (AutoMLOps 1.0 failed on it).
    let line_end = text
        .get(call_span.end..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |at| call_span.end + at);
    if let Some(top) = stmts.get(1).filter(|top| top.stmt.span().start < line_end) {
        diagnostics.push(
            Diagnostic::error(
                top.stmt.span(),
                "the component's code must start on the line after `AutoMLOps.makeComponent(...)`",
            )
            .with_hint("move this statement to a line of its own"),
        );
        return None;
    }
    let mut facts = Facts::default();
    for top in &stmts[1..] {
        facts.merge(&top.facts);
    }
    let body = text.get(call_span.end..).unwrap_or_default();
    // The rest of the call's line (a trailing comment) is not part of the body.
    let body = body.split_once('\n').map_or("", |(_, rest)| rest);
    Some(CustomComponentSite {
        args: eval_args(positional, MAKE_COMPONENT, keywords, env, source),
        call_span,
        body: body.to_owned(),
        facts,
    })
}
