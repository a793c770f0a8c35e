//! The component image's `requirements.txt`: each component's `packages_to_install`, plus the
//! distributions of the modules the code imports, looked up in a table kept here. An import the
//! table does not know is a warning, never a guess (pipreqs guessed, and guessed wrong).

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Component, module_is_within};

/// The kfp release components run with; the executor in `src/<name>.py` needs it.
pub(crate) const KFP_REQUIREMENT: &str = "kfp==2.17.3";

/// Import name (module prefix) to `PyPI` distribution. The longest matching prefix wins, so
/// `google.cloud.bigquery` is found before `google.cloud`.
const DISTRIBUTIONS: &[(&str, &str)] = &[
    ("apache_beam", "apache-beam"),
    ("bs4", "beautifulsoup4"),
    ("catboost", "catboost"),
    ("category_encoders", "category-encoders"),
    ("cv2", "opencv-python"),
    ("dask", "dask"),
    ("datasets", "datasets"),
    ("dateutil", "python-dateutil"),
    ("db_dtypes", "db-dtypes"),
    ("dill", "dill"),
    ("fsspec", "fsspec"),
    ("gcsfs", "gcsfs"),
    ("google.api_core", "google-api-core"),
    ("google.auth", "google-auth"),
    ("google.cloud.aiplatform", "google-cloud-aiplatform"),
    ("google.cloud.aiplatform_v1", "google-cloud-aiplatform"),
    ("google.cloud.bigquery", "google-cloud-bigquery"),
    (
        "google.cloud.bigquery_storage",
        "google-cloud-bigquery-storage",
    ),
    (
        "google.cloud.bigquery_storage_v1",
        "google-cloud-bigquery-storage",
    ),
    ("google.cloud.bigtable", "google-cloud-bigtable"),
    ("google.cloud.dataproc", "google-cloud-dataproc"),
    ("google.cloud.datastore", "google-cloud-datastore"),
    ("google.cloud.firestore", "google-cloud-firestore"),
    ("google.cloud.logging", "google-cloud-logging"),
    ("google.cloud.pubsub", "google-cloud-pubsub"),
    ("google.cloud.pubsub_v1", "google-cloud-pubsub"),
    ("google.cloud.secretmanager", "google-cloud-secret-manager"),
    ("google.cloud.spanner", "google-cloud-spanner"),
    ("google.cloud.storage", "google-cloud-storage"),
    ("google.generativeai", "google-generativeai"),
    ("google.protobuf", "protobuf"),
    (
        "google_cloud_pipeline_components",
        "google-cloud-pipeline-components",
    ),
    ("googleapiclient", "google-api-python-client"),
    ("imblearn", "imbalanced-learn"),
    ("jinja2", "jinja2"),
    ("joblib", "joblib"),
    ("keras", "keras"),
    ("lightgbm", "lightgbm"),
    ("matplotlib", "matplotlib"),
    ("mlflow", "mlflow"),
    ("nltk", "nltk"),
    ("numpy", "numpy"),
    ("onnx", "onnx"),
    ("onnxruntime", "onnxruntime"),
    ("openpyxl", "openpyxl"),
    ("optuna", "optuna"),
    ("pandas", "pandas"),
    ("pandas_gbq", "pandas-gbq"),
    ("PIL", "pillow"),
    ("plotly", "plotly"),
    ("pyarrow", "pyarrow"),
    ("pydantic", "pydantic"),
    ("requests", "requests"),
    ("scipy", "scipy"),
    ("seaborn", "seaborn"),
    ("sentence_transformers", "sentence-transformers"),
    ("shap", "shap"),
    ("skl2onnx", "skl2onnx"),
    ("sklearn", "scikit-learn"),
    ("spacy", "spacy"),
    ("sqlalchemy", "sqlalchemy"),
    ("statsmodels", "statsmodels"),
    ("tensorflow", "tensorflow"),
    ("tensorflow_data_validation", "tensorflow-data-validation"),
    ("tensorflow_transform", "tensorflow-transform"),
    ("tfx", "tfx"),
    ("torch", "torch"),
    ("torchvision", "torchvision"),
    ("tqdm", "tqdm"),
    ("transformers", "transformers"),
    ("vertexai", "google-cloud-aiplatform"),
    ("xgboost", "xgboost"),
    ("yaml", "pyyaml"),
];

/// Modules that need no requirement: the standard library, and kfp, which is pinned anyway.
const PROVIDED: &[&str] = &[
    "__future__",
    "abc",
    "argparse",
    "array",
    "ast",
    "asyncio",
    "base64",
    "bisect",
    "bz2",
    "calendar",
    "collections",
    "concurrent",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "ctypes",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "email",
    "enum",
    "errno",
    "fnmatch",
    "fractions",
    "functools",
    "gc",
    "getpass",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "kfp",
    "logging",
    "lzma",
    "math",
    "mimetypes",
    "multiprocessing",
    "numbers",
    "operator",
    "os",
    "pathlib",
    "pickle",
    "platform",
    "pprint",
    "queue",
    "random",
    "re",
    "secrets",
    "shlex",
    "shutil",
    "signal",
    "socket",
    "sqlite3",
    "ssl",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "sys",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "time",
    "timeit",
    "traceback",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib",
    "uuid",
    "warnings",
    "weakref",
    "xml",
    "zipfile",
    "zlib",
    "zoneinfo",
];

/// Whether a component named `name` would shadow a module inside the image: its source is
/// `src/<name>.py`, and `src/` comes first on `sys.path` when it runs.
pub(crate) fn shadows_module(name: &str) -> bool {
    const GENERATED: &[&str] = &["executor", "google", "main", "typing_extensions"];
    PROVIDED.contains(&name)
        || GENERATED.contains(&name)
        || DISTRIBUTIONS
            .iter()
            .any(|(module, _)| module.split('.').next() == Some(name))
}

/// PEP 503 normalisation, to compare distribution names.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.chars() {
        let ch = if matches!(ch, '-' | '_' | '.') {
            '-'
        } else {
            ch.to_ascii_lowercase()
        };
        if ch == '-' && out.ends_with('-') {
            continue;
        }
        out.push(ch);
    }
    out
}

/// The distribution a requirement line names: `pandas>=2.0; python_version>"3.8"` is `pandas`.
fn requirement_name(line: &str) -> String {
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(line.len());
    normalize(&line[..end])
}

/// Where an imported module comes from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    /// The standard library, or kfp (pinned anyway).
    Provided,
    /// A distribution on `PyPI`.
    Distribution(&'static str),
}

pub(crate) fn provider(module: &str) -> Option<Provider> {
    let top = module.split('.').next().unwrap_or(module);
    if PROVIDED.contains(&top) {
        return Some(Provider::Provided);
    }
    DISTRIBUTIONS
        .iter()
        .filter(|(prefix, _)| module_is_within(module, prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, dist)| Provider::Distribution(dist))
}

/// The sorted requirement lines of the shared image.
pub(crate) fn requirements(components: &[Component], diagnostics: &mut Diagnostics) -> Vec<String> {
    // Normalised name to the line; an explicit `packages_to_install` entry wins over an import.
    let mut lines: BTreeMap<String, String> = BTreeMap::new();
    for component in components {
        for package in &component.packages {
            let name = requirement_name(package);
            if name == "kfp" {
                if package.trim() != "kfp" && package.trim() != KFP_REQUIREMENT {
                    diagnostics.push(Diagnostic::warning(
                        component.defined_at,
                        format!("`{package}` in `packages_to_install` of `{}` is replaced by `{KFP_REQUIREMENT}`, which the component executor needs", component.name),
                    ));
                }
                continue;
            }
            let has_version = package.trim().len() > name.len();
            match lines.get(&name) {
                None => {
                    lines.insert(name, package.trim().to_owned());
                }
                Some(existing) if existing == package.trim() || !has_version => {}
                Some(existing) if existing.len() == name.len() => {
                    lines.insert(name, package.trim().to_owned());
                }
                Some(existing) => diagnostics.push(Diagnostic::warning(
                    component.defined_at,
                    format!("`{package}` of `{}` conflicts with `{existing}` of another component, and all components share one image; `{existing}` is kept", component.name),
                )),
            }
        }
    }
    // A prebuilt component runs in Google's image: nothing of it goes into ours.
    let own = components.iter().filter(|c| c.is_own());
    for component in own {
        let declares_packages = !component.packages.is_empty();
        for (module, span) in &component.imported_modules {
            match provider(module) {
                Some(Provider::Provided) => {}
                Some(Provider::Distribution(dist)) => {
                    lines.entry(normalize(dist)).or_insert_with(|| dist.to_owned());
                }
                // A component that lists its packages has said what it needs.
                None if declares_packages => {}
                None => diagnostics.push(
                    Diagnostic::warning(*span, format!("automlops does not know which PyPI package provides `{module}`; it is left out of requirements.txt"))
                        .with_hint("if it comes from PyPI, list it with `packages_to_install` (Kubeflow syntax) or import it by its package name; if it is a local module, ignore this"),
                ),
            }
        }
    }
    lines.insert("kfp".to_owned(), KFP_REQUIREMENT.to_owned());
    lines.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_map_to_distributions_by_longest_prefix() {
        assert_eq!(
            provider("sklearn.tree"),
            Some(Provider::Distribution("scikit-learn"))
        );
        assert_eq!(
            provider("google.cloud.bigquery"),
            Some(Provider::Distribution("google-cloud-bigquery"))
        );
        assert_eq!(
            provider("google.cloud.aiplatform.gapic"),
            Some(Provider::Distribution("google-cloud-aiplatform"))
        );
        assert_eq!(provider("os.path"), Some(Provider::Provided));
        assert_eq!(provider("mystery"), None);
    }

    #[test]
    fn requirement_names_are_normalised() {
        assert_eq!(requirement_name("Scikit_Learn>=1.3"), "scikit-learn");
        assert_eq!(requirement_name("db-dtypes"), "db-dtypes");
    }
}
