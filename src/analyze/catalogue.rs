//! Google Cloud Pipeline Components as data: `data/gcpc/catalogue.json`, generated from the
//! pinned `google-cloud-pipeline-components` by `data/gcpc/generate.py` and embedded in the
//! binary. It is parsed only when a notebook uses a prebuilt component, once per process.

use std::sync::OnceLock;

use serde::Deserialize;

const CATALOGUE: &str = include_str!("../../data/gcpc/catalogue.json");

#[derive(Debug, Deserialize)]
pub(crate) struct Catalogue {
    pub(crate) provenance: Provenance,
    pub(crate) ops: Vec<Op>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Provenance {
    pub(crate) gcpc_version: String,
}

/// One op, with what kfp writes for it in a pipeline.
#[derive(Debug, Deserialize)]
pub(crate) struct Op {
    /// The Python name: `ModelUploadOp`.
    pub(crate) name: String,
    /// `google_cloud_pipeline_components.v1.model.ModelUploadOp`.
    pub(crate) canonical_import: String,
    /// The public modules that export it.
    pub(crate) import_paths: Vec<String>,
    #[serde(default)]
    pub(crate) aliases: Vec<Alias>,
    /// `container`, or `graph` for a small pipeline of its own.
    pub(crate) kind: String,
    /// The name kfp gives its tasks: `model-upload`.
    pub(crate) component_name: String,
    pub(crate) inputs: Vec<Io>,
    pub(crate) outputs: Vec<Io>,
    /// The component spec and the executor, verbatim as kfp writes them (a graph op has
    /// sub-components and sub-executors instead of one executor).
    pub(crate) component: serde_json::Value,
    #[serde(default)]
    pub(crate) executor: serde_json::Value,
}

/// Another name the op is reachable by (`model_upload` in its own module).
#[derive(Debug, Deserialize)]
pub(crate) struct Alias {
    pub(crate) module: String,
    pub(crate) name: String,
}

/// An input or output: its IR definition.
#[derive(Debug, Deserialize)]
pub(crate) struct Io {
    pub(crate) name: String,
    /// `parameter` or `artifact`.
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) required: bool,
    pub(crate) ir: serde_json::Value,
}

/// The catalogue, parsed on first use; `None` if the embedded data does not parse (a bug
/// caught by the catalogue's test).
pub(crate) fn catalogue() -> Option<&'static Catalogue> {
    static PARSED: OnceLock<Option<Catalogue>> = OnceLock::new();
    PARSED
        .get_or_init(|| serde_json::from_str(CATALOGUE).ok())
        .as_ref()
}

impl Catalogue {
    /// The op a dotted import path names (`google_cloud_pipeline_components.v1.model.ModelUploadOp`).
    pub(crate) fn op(&self, origin: &str) -> Option<&Op> {
        let (module, name) = origin.rsplit_once('.')?;
        self.ops.iter().find(|op| {
            (op.name == name
                && (op.canonical_import == origin || op.import_paths.iter().any(|p| p == module)))
                || op
                    .aliases
                    .iter()
                    .any(|a| a.name == name && a.module == module)
        })
    }

    /// The package pinned at the catalogue's release, for `pipelines/requirements.txt`.
    pub(crate) fn requirement(&self) -> String {
        format!(
            "google-cloud-pipeline-components=={}",
            self.provenance.gcpc_version
        )
    }

    /// The ops' names, for a did-you-mean.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.ops.iter().map(|op| op.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ArtifactType;

    #[test]
    fn the_embedded_catalogue_parses_and_finds_ops_by_import() {
        let catalogue = catalogue().expect("the catalogue parses");
        assert_eq!(catalogue.provenance.gcpc_version, "2.22.0");
        let upload = catalogue
            .op("google_cloud_pipeline_components.v1.model.ModelUploadOp")
            .expect("ModelUploadOp");
        assert_eq!(upload.component_name, "model-upload");
        assert!(
            catalogue
                .op("google_cloud_pipeline_components.v1.model.Nope")
                .is_none()
        );
    }

    /// The Google artifact types of the model are the catalogue's, no more, no fewer.
    #[test]
    fn google_artifact_types_are_the_catalogues() {
        #[derive(Deserialize)]
        struct Types {
            artifact_types: Vec<Type>,
        }
        #[derive(Deserialize)]
        struct Type {
            schema_title: String,
        }
        let types: Types = serde_json::from_str(CATALOGUE).expect("parses");
        let mut titles: Vec<String> = types
            .artifact_types
            .into_iter()
            .map(|t| t.schema_title)
            .filter(|t| t.starts_with("google."))
            .collect();
        titles.sort();
        let mut ours: Vec<String> = ArtifactType::google()
            .map(ArtifactType::schema_title)
            .collect();
        ours.sort();
        assert_eq!(titles, ours);
        for title in &titles {
            assert!(ArtifactType::from_schema_title(title).is_some(), "{title}");
        }
    }
}
