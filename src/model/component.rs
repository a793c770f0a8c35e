//! A component: one Python function that runs as one pipeline step in the shared image.

use super::{ComponentName, IoType};
use crate::diagnostic::Span;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Input {
    pub(crate) name: String,
    pub(crate) ty: IoType,
    /// The default value, for optional parameters.
    pub(crate) default: Option<serde_json::Value>,
    /// Whether the input may be left out: it has a default (possibly `None`).
    pub(crate) optional: bool,
    pub(crate) description: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Output {
    pub(crate) name: String,
    pub(crate) ty: IoType,
}

/// How the component's Python source is produced.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ComponentSource {
    /// Custom syntax: a function is generated around the cell's top-level body.
    Body {
        /// The `%%define_imports` lines the body uses, in notebook order.
        imports: Vec<String>,
        body: String,
    },
    /// Kubeflow syntax: the user's function, decorators removed.
    Function { source: String },
    /// A Google Cloud Pipeline Component: it runs in Google's own image, as kfp compiles it.
    Prebuilt(Prebuilt),
    /// `dsl.importer(...)`: no container; Vertex AI records an existing artifact. Its inputs are
    /// `uri` and, for each pipeline parameter in the metadata, `metadata`, `metadata-2`...
    Importer(Importer),
    /// `@dsl.container_component`: an image of its own, run with the command line it returns.
    Container(super::ContainerSpec),
}

/// What an importer imports.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Importer {
    pub(crate) artifact: crate::model::ArtifactType,
    /// The URI when it is a constant (else the pipeline parameter given for `uri`).
    pub(crate) constant_uri: Option<String>,
    pub(crate) reimport: bool,
    /// The metadata, pipeline parameters in it as `{{$.inputs.parameters['metadata']}}`.
    pub(crate) metadata: Option<serde_json::Value>,
    /// The notebook's `artifact_class` for `pipelines/pipeline.py`: `dsl.Model`, or
    /// `artifact_types.VertexModel` of Google Cloud Pipeline Components.
    pub(crate) class: String,
    /// With a Google artifact class: the package `pipelines/pipeline.py` imports it from.
    pub(crate) requirement: Option<String>,
    /// The pipeline parameter each `metadata` input takes, in order.
    pub(crate) metadata_params: Vec<(String, String)>,
}

/// A prebuilt component, with what kfp writes for it (from `data/gcpc/catalogue.json`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Prebuilt {
    /// The module `pipelines/pipeline.py` imports it from, and its name there.
    pub(crate) module: String,
    pub(crate) python: String,
    /// The package it comes from, pinned: `google-cloud-pipeline-components==2.22.0`.
    pub(crate) requirement: String,
    /// The name kfp gives its tasks (`model-upload` for `ModelUploadOp`).
    pub(crate) kfp_name: String,
    /// The component spec and the executor, verbatim.
    pub(crate) component: serde_json::Value,
    pub(crate) executor: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Component {
    pub(crate) name: ComponentName,
    pub(crate) description: Option<String>,
    pub(crate) inputs: Vec<Input>,
    pub(crate) outputs: Vec<Output>,
    pub(crate) source: ComponentSource,
    /// `packages_to_install` of the decorator, in order.
    pub(crate) packages: Vec<String>,
    /// Top-level modules the source imports, for requirements (`sklearn`, `google.cloud.bigquery`),
    /// each with where it is imported.
    pub(crate) imported_modules: Vec<(String, Span)>,
    pub(crate) defined_at: Span,
    /// AutoMLOps's `custom_training_job_specs` entry for it: it runs as a Vertex AI `CustomJob`.
    pub(crate) custom_job: Option<CustomJob>,
}

/// A component run as a Vertex AI `CustomJob`, as GCPC's `create_custom_training_job_from_component`
/// compiles it: GCPC's `CustomTrainingJobOp` with the component's container as its worker.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CustomJob {
    /// The arguments of `create_custom_training_job_from_component`, as given, in order.
    pub(crate) arguments: Vec<(String, serde_json::Value)>,
    /// `CustomTrainingJobOp`'s component spec and executor, verbatim.
    pub(crate) op_component: serde_json::Value,
    pub(crate) op_executor: serde_json::Value,
    /// `google-cloud-pipeline-components==2.22.0`.
    pub(crate) requirement: String,
}

impl Component {
    /// Whether it runs in the shared `component_base` image (it has a source and a
    /// `component.yaml` there), rather than Google's image or none (the importer).
    pub(crate) fn is_own(&self) -> bool {
        matches!(
            self.source,
            ComponentSource::Body { .. } | ComponentSource::Function { .. }
        )
    }

    /// Whether the notebook defines it as a function and calls it by that name (a prebuilt
    /// component is called by the name it is imported as, an importer through `dsl.importer`).
    pub(crate) fn is_notebook_function(&self) -> bool {
        matches!(
            self.source,
            ComponentSource::Body { .. }
                | ComponentSource::Function { .. }
                | ComponentSource::Container(_)
        )
    }

    /// Whether automlops writes its `components/<name>/component.yaml` (prebuilt components
    /// and importers are written by kfp from `pipelines/pipeline.py` alone).
    pub(crate) fn has_component_file(&self) -> bool {
        self.is_notebook_function()
    }

    /// The name kfp derives its tasks' names from (`train-model`, `model-upload`).
    pub(crate) fn kfp_name(&self) -> String {
        match &self.source {
            ComponentSource::Prebuilt(prebuilt) => prebuilt.kfp_name.clone(),
            _ => self.name.kfp(),
        }
    }

    pub(crate) fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|input| input.name == name)
    }

    pub(crate) fn output(&self, name: &str) -> Option<&Output> {
        self.outputs.iter().find(|output| output.name == name)
    }
}

/// Whether the dotted module `module` is `package` or inside it: `google.cloud.bigquery.job` is
/// within `google.cloud.bigquery`, `google.cloud.bigquery_storage` is not.
pub(crate) fn module_is_within(module: &str, package: &str) -> bool {
    module
        .strip_prefix(package)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::module_is_within;

    #[test]
    fn a_module_is_within_its_package_and_no_namesake() {
        assert!(module_is_within(
            "google.cloud.bigquery",
            "google.cloud.bigquery"
        ));
        assert!(module_is_within(
            "google.cloud.bigquery.job",
            "google.cloud.bigquery"
        ));
        assert!(!module_is_within(
            "google.cloud.bigquery_storage",
            "google.cloud.bigquery"
        ));
        assert!(!module_is_within("google.cloud", "google.cloud.bigquery"));
    }
}
