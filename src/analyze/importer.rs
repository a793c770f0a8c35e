//! kfp's importer (`dsl.importer`, `kfp.dsl.importer_node.importer`, and kfp 1.8's
//! `kfp.v2.components.importer_node.importer` that AutoMLOps's GPU example calls): each call in
//! the pipeline body is a component of its own, with kfp's inputs (`uri`, and `metadata`,
//! `metadata-2`... for the pipeline parameters its metadata reads) and one output, `artifact`.
//! Read before the body, so the body finds them by the call's place.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::model::{
    ArtifactType, Component, ComponentName, ComponentSource, Importer, Input, IoType, Output,
    ParamType,
};
use crate::python::ast::{Expr, FunctionDef, Stmt};

use super::annotation::{Declared, parameter};
use super::value::Env;

/// The importer calls of a pipeline body, by where each call is.
pub(crate) type Importers = HashMap<(usize, usize), usize>;

/// Whether a dotted origin names kfp's importer function.
pub(crate) fn is_importer_call(origin: &str) -> bool {
    origin.starts_with("kfp.") && origin.ends_with(".importer")
}

/// What the importer calls of the body import, as components, with where each call is.
pub(crate) fn components(
    def: &FunctionDef,
    env: &Env,
    source_of: &dyn Fn(Span) -> String,
    diagnostics: &mut Diagnostics,
) -> Vec<(Span, Component)> {
    let imports = super::prebuilt::Imports::of(def, env);
    let origin = |dotted: &str| imports.origin(dotted).map(|(origin, _)| origin);
    // The pipeline's parameters and their types, which metadata may read.
    let params: HashMap<&str, ParamType> = def
        .params
        .iter()
        .filter_map(|p| {
            let annotation = p.annotation.as_ref()?;
            match parameter(annotation, &source_of(annotation.span())) {
                Ok(Declared::Param(ty)) => Some((p.name.as_str(), ty)),
                _ => None,
            }
        })
        .collect();
    let mut calls = Vec::new();
    collect_calls(&def.body, &mut calls);
    let mut found = Vec::new();
    for call in calls {
        let Expr::Call {
            func,
            args,
            keywords,
            span,
        } = call
        else {
            continue;
        };
        let Some(callee) = func.dotted_name() else {
            continue;
        };
        if !origin(&callee).is_some_and(|o| is_importer_call(&o)) {
            continue;
        }
        let reader = Reader {
            env,
            params: &params,
            source_of,
            origin: &origin,
        };
        if let Some(component) = reader.importer(args, keywords, *span, diagnostics) {
            found.push((*span, component));
        }
    }
    found
}

/// The calls that are whole statements or assigned, in blocks too: where tasks are made.
fn collect_calls<'a>(body: &'a [Stmt], into: &mut Vec<&'a Expr>) {
    for stmt in body {
        match stmt {
            Stmt::Assign { value, .. } | Stmt::Expr(value) => into.push(value),
            Stmt::With { body, .. } => collect_calls(body, into),
            _ => {}
        }
    }
}

struct Reader<'a> {
    env: &'a Env,
    params: &'a HashMap<&'a str, ParamType>,
    source_of: &'a dyn Fn(Span) -> String,
    origin: &'a dyn Fn(&str) -> Option<String>,
}

impl Reader<'_> {
    fn importer(
        &self,
        args: &[Expr],
        keywords: &[crate::python::ast::Keyword],
        span: Span,
        diagnostics: &mut Diagnostics,
    ) -> Option<Component> {
        if let Some(first) = args.first() {
            diagnostics.push(
                Diagnostic::error(
                    first.span(),
                    "the importer's arguments must be passed by keyword",
                )
                .with_hint("write `dsl.importer(artifact_uri=..., artifact_class=...)`"),
            );
            return None;
        }
        let mut uri = None;
        let mut class = None;
        let mut reimport = false;
        let mut metadata = None;
        let mut channels: Vec<(String, String, ParamType)> = Vec::new();
        let mut ok = true;
        for keyword in keywords {
            let value = &keyword.value;
            match keyword.name.as_deref() {
                Some("artifact_uri") => match value {
                    Expr::Name(name, _) if self.params.contains_key(name.as_str()) => {
                        uri = Some(None);
                    }
                    _ => {
                        if let Some(text) = self.env.eval(value, self.source_of).as_str() {
                            uri = Some(Some(text.to_owned()));
                        } else {
                            diagnostics.push(
                                Diagnostic::error(value.span(), "not supported yet: an `artifact_uri` that is neither a pipeline parameter nor a string known when compiling")
                                    .with_hint("pass a pipeline parameter, or a string literal or constant"),
                            );
                            ok = false;
                        }
                    }
                },
                Some("artifact_class") => {
                    class = self.artifact_class(value, diagnostics);
                    ok &= class.is_some();
                }
                Some("reimport") => {
                    if let super::value::Kind::Bool(b) = self.env.eval(value, self.source_of).kind {
                        reimport = b;
                    } else {
                        diagnostics.push(Diagnostic::error(
                            value.span(),
                            "`reimport` must be `True` or `False`",
                        ));
                        ok = false;
                    }
                }
                Some("metadata") => match self.metadata(value, &mut channels, diagnostics) {
                    Some(json) => metadata = Some(json),
                    None => ok = false,
                },
                Some("download_to_workspace") => {
                    if !matches!(
                        self.env.eval(value, self.source_of).kind,
                        super::value::Kind::Bool(false)
                    ) {
                        diagnostics.push(Diagnostic::error(
                            keyword.span,
                            "not supported yet: `download_to_workspace` of the importer",
                        ));
                        ok = false;
                    }
                }
                other => {
                    let other = other.unwrap_or("**");
                    let known = ["artifact_uri", "artifact_class", "reimport", "metadata"];
                    diagnostics.push(
                        Diagnostic::error(keyword.span, format!("the importer takes no argument `{other}`"))
                            .with_hint(super::suggest::did_you_mean(other, known).map_or_else(
                                || "it takes `artifact_uri`, `artifact_class`, `reimport` and `metadata`".to_owned(),
                                |s| format!("did you mean `{s}`?"),
                            )),
                    );
                    ok = false;
                }
            }
        }
        let (Some(constant_uri), Some((artifact, class))) = (uri, class) else {
            if ok {
                diagnostics.push(
                    Diagnostic::error(
                        span,
                        "the importer needs `artifact_uri` and `artifact_class`",
                    )
                    .with_hint("write `dsl.importer(artifact_uri=..., artifact_class=dsl.Model)`"),
                );
            }
            return None;
        };
        if !ok {
            return None;
        }
        let mut inputs = vec![Input {
            name: "uri".to_owned(),
            ty: IoType::Parameter(ParamType::String),
            default: None,
            optional: false,
            description: None,
        }];
        inputs.extend(channels.iter().map(|(input, _, ty)| Input {
            name: input.clone(),
            ty: IoType::Parameter(*ty),
            default: None,
            optional: false,
            description: None,
        }));
        // The catalogue is parsed only for a notebook that uses Google's components.
        let requirement = matches!(artifact, ArtifactType::Google(_))
            .then(|| super::catalogue::catalogue().map(super::catalogue::Catalogue::requirement))
            .flatten();
        Some(Component {
            name: ComponentName::new("importer"),
            description: None,
            inputs,
            outputs: vec![Output {
                name: "artifact".to_owned(),
                ty: IoType::Artifact(artifact),
            }],
            source: ComponentSource::Importer(Importer {
                artifact,
                constant_uri,
                reimport,
                metadata,
                class,
                requirement,
                metadata_params: channels
                    .into_iter()
                    .map(|(input, param, _)| (input, param))
                    .collect(),
            }),
            packages: Vec::new(),
            imported_modules: Vec::new(),
            defined_at: span,
            custom_job: None,
        })
    }

    /// The artifact class: kfp's (`dsl.Model`) or Google's (`artifact_types.VertexModel`),
    /// with how `pipelines/pipeline.py` names it.
    fn artifact_class(
        &self,
        expr: &Expr,
        diagnostics: &mut Diagnostics,
    ) -> Option<(ArtifactType, String)> {
        let dotted = expr.dotted_name();
        let origin = dotted.as_deref().and_then(|d| (self.origin)(d)).or(dotted);
        let found = origin.as_deref().and_then(|origin| {
            let name = origin.rsplit('.').next().unwrap_or(origin);
            if origin.starts_with("google_cloud_pipeline_components") {
                ArtifactType::google()
                    .find(|t| t.python() == name)
                    .map(|t| (t, format!("artifact_types.{name}")))
            } else {
                ArtifactType::from_python(name)
                    .filter(|t| !matches!(t, ArtifactType::Google(_)))
                    .map(|t| (t, format!("dsl.{}", t.python())))
            }
        });
        if found.is_none() {
            diagnostics.push(
                Diagnostic::error(expr.span(), format!("`{}` is not an artifact class kfp or Google Cloud Pipeline Components define", (self.source_of)(expr.span())))
                    .with_hint("use one of `dsl.Artifact`, `dsl.Dataset`, `dsl.Model`... or of `google_cloud_pipeline_components.types.artifact_types`"),
            );
        }
        found
    }

    /// The metadata as kfp writes it: pipeline parameters become the inputs `metadata`,
    /// `metadata-2`... (one per parameter, in the order they are met, keys before values).
    fn metadata(
        &self,
        expr: &Expr,
        channels: &mut Vec<(String, String, ParamType)>,
        diagnostics: &mut Diagnostics,
    ) -> Option<serde_json::Value> {
        match expr {
            Expr::Name(name, _) if self.params.contains_key(name.as_str()) => {
                let known = channels.iter().find(|(_, param, _)| param == name);
                let input = if let Some((input, _, _)) = known {
                    input.clone()
                } else {
                    let input = if channels.is_empty() {
                        "metadata".to_owned()
                    } else {
                        format!("metadata-{}", channels.len() + 1)
                    };
                    channels.push((input.clone(), name.clone(), self.params[name.as_str()]));
                    input
                };
                Some(serde_json::Value::String(format!(
                    "{{{{$.inputs.parameters['{input}']}}}}"
                )))
            }
            Expr::Dict(items, _) => {
                let mut map = serde_json::Map::new();
                for (key, value) in items {
                    let Some(key) = key else {
                        diagnostics.push(Diagnostic::error(
                            value.span(),
                            "`**` in the importer's metadata cannot be read statically",
                        ));
                        return None;
                    };
                    let serde_json::Value::String(key) =
                        self.metadata(key, channels, diagnostics)?
                    else {
                        diagnostics.push(Diagnostic::error(
                            key.span(),
                            "the importer's metadata keys must be strings",
                        ));
                        return None;
                    };
                    let value = self.metadata(value, channels, diagnostics)?;
                    map.insert(key, value);
                }
                Some(serde_json::Value::Object(map))
            }
            Expr::List(items, _) | Expr::Tuple(items, _) => items
                .iter()
                .map(|item| self.metadata(item, channels, diagnostics))
                .collect::<Option<Vec<_>>>()
                .map(serde_json::Value::Array),
            _ => {
                let value = self.env.eval(expr, self.source_of);
                let json = value.to_json();
                if json.is_none() {
                    diagnostics.push(
                        Diagnostic::error(expr.span(), format!("not supported yet: `{}` in the importer's metadata, which is neither a pipeline parameter nor known when compiling", (self.source_of)(expr.span())))
                            .with_hint("use literals, constants of the notebook and pipeline parameters"),
                    );
                }
                json
            }
        }
    }
}
