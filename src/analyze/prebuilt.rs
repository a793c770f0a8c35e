//! Analysis of what a pipeline may call besides the notebook's own components: Google Cloud
//! Pipeline Components (`ModelUploadOp`...) and kfp's importer. Not supported yet: each use is
//! a located error that says so and what to do instead, rather than "not a component".

use crate::diagnostic::{Diagnostic, Span};
use crate::python::ast::Import;

const GCPC: &str = "google_cloud_pipeline_components";

/// Whether an import's dotted origin is a prebuilt component or the importer.
pub(crate) fn is_prebuilt(origin: &str) -> bool {
    origin == GCPC || origin.starts_with("google_cloud_pipeline_components.") || is_importer(origin)
}

/// kfp's importer, however it is reached: `dsl.importer`, `kfp.dsl.importer_node.importer`,
/// and the `kfp.v2.components.importer_node` of kfp 1.8 that AutoMLOps's GPU example imports.
fn is_importer(origin: &str) -> bool {
    origin.starts_with("kfp.")
        && (origin.ends_with(".importer") || origin.ends_with(".importer_node"))
}

const HINT: &str = "run the step inside a component of your own with the `google-cloud-aiplatform` client (`aiplatform.Model.upload(...)`, `dsl.Output[Model]`...), or keep this pipeline in AutoMLOps until automlops supports it";

/// The error for a call of a prebuilt component (`origin` is what the callee names).
pub(crate) fn not_supported_yet(callee: &str, origin: &str, span: Span) -> Option<Diagnostic> {
    let what = if is_importer(origin) || origin == "kfp.dsl.importer" {
        format!("not supported yet: `{callee}`, kfp's importer")
    } else if origin.starts_with(GCPC) {
        format!("not supported yet: `{callee}`, a Google Cloud Pipeline Component (`{origin}`)")
    } else {
        return None;
    };
    Some(Diagnostic::error(span, what).with_hint(HINT))
}

/// The error for an import of prebuilt components or the importer inside a pipeline body.
pub(crate) fn import_not_supported_yet(import: &Import) -> Diagnostic {
    let names: Vec<String> = import
        .names
        .iter()
        .map(|n| format!("`{}`", n.name))
        .collect();
    let from = import
        .from
        .as_deref()
        .map_or_else(String::new, |module| format!(" from `{module}`"));
    Diagnostic::error(
        import.span,
        format!(
            "not supported yet: Google Cloud Pipeline Components and kfp's importer ({}{from}); automlops compiles the notebook's own components",
            names.join(", ")
        ),
    )
    .with_hint(HINT)
}
