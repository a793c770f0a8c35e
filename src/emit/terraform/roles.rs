//! What the components' code needs from Google Cloud, read off their imports: project roles
//! for the service account pipelines run as, and the APIs to enable. A component that imports
//! `google.cloud.bigquery` runs queries; one that does not gets no BigQuery role.

use std::collections::BTreeSet;

use crate::model::{Component, module_is_within};

/// Module prefix, the roles its client needs on the project, and its API. Dataset- or
/// topic-level grants would be narrower, but which datasets a component touches is only known
/// when it runs.
const CLIENTS: &[(&str, &[&str], &[&str])] = &[
    (
        "google.cloud.bigquery",
        &["roles/bigquery.dataEditor", "roles/bigquery.jobUser"],
        &["bigquery.googleapis.com"],
    ),
    (
        "google.cloud.bigquery_storage",
        &["roles/bigquery.readSessionUser"],
        &["bigquerystorage.googleapis.com"],
    ),
    (
        "pandas_gbq",
        &["roles/bigquery.dataEditor", "roles/bigquery.jobUser"],
        &["bigquery.googleapis.com"],
    ),
    (
        "google.cloud.bigtable",
        &["roles/bigtable.user"],
        &["bigtable.googleapis.com"],
    ),
    (
        "google.cloud.dataproc",
        &["roles/dataproc.editor"],
        &["dataproc.googleapis.com"],
    ),
    (
        "google.cloud.firestore",
        &["roles/datastore.user"],
        &["firestore.googleapis.com"],
    ),
    (
        "google.cloud.pubsub",
        &["roles/pubsub.publisher"],
        &["pubsub.googleapis.com"],
    ),
    (
        "google.cloud.pubsub_v1",
        &["roles/pubsub.publisher"],
        &["pubsub.googleapis.com"],
    ),
    (
        "google.cloud.secretmanager",
        &["roles/secretmanager.secretAccessor"],
        &["secretmanager.googleapis.com"],
    ),
    (
        "google.cloud.spanner",
        &["roles/spanner.databaseUser"],
        &["spanner.googleapis.com"],
    ),
];

#[derive(Debug, Default, PartialEq)]
pub(super) struct Derived {
    pub(super) roles: BTreeSet<&'static str>,
    pub(super) services: BTreeSet<&'static str>,
}

pub(super) fn for_imports(components: &[Component]) -> Derived {
    let mut derived = Derived::default();
    for component in components {
        for (module, _) in &component.imported_modules {
            for (prefix, roles, services) in CLIENTS {
                if module_is_within(module, prefix) {
                    derived.roles.extend(roles.iter().copied());
                    derived.services.extend(services.iter().copied());
                }
            }
        }
    }
    derived
}
