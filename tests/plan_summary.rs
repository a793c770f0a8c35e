//! `automlops plan-summary` on plan JSON fixtures written from Terraform's documented format
//! (`tests/fixtures/plans/README.md`): the counts and the losses are the fixtures' own
//! (listed there independently of this code), the Markdown is snapshotted.

use automlops::plan_summary::summarize;

use crate::common::repo;

fn summary(name: &str) -> automlops::plan_summary::Summary {
    let path = repo()
        .join("tests/fixtures/plans")
        .join(format!("{name}.json"));
    summarize(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn counts_follow_each_change_s_actions() {
    for (name, add, change, replace, destroy) in [
        ("create_only", 6, 0, 0, 0),
        ("update_in_place", 0, 2, 0, 0),
        ("replace_stateful", 0, 0, 2, 0),
        ("destroy_stateful", 0, 0, 0, 3),
        ("iam_danger", 3, 0, 1, 0),
        ("no_changes", 0, 0, 0, 0),
        ("module_and_sensitive", 1, 0, 0, 0),
    ] {
        let s = summary(name);
        assert_eq!(
            (s.add, s.change, s.replace, s.destroy),
            (add, change, replace, destroy),
            "{name}"
        );
    }
}

#[test]
fn only_resources_that_hold_data_make_a_loss() {
    let losses = |name: &str| -> Vec<String> {
        summary(name)
            .stateful
            .into_iter()
            .map(|l| l.address)
            .collect()
    };
    assert_eq!(
        losses("replace_stateful"),
        ["google_storage_bucket.pipeline"]
    );
    assert_eq!(
        losses("destroy_stateful"),
        [
            "google_artifact_registry_repository.components",
            "google_sourcerepo_repository.source"
        ]
    );
    for name in ["create_only", "update_in_place", "iam_danger", "no_changes"] {
        assert!(losses(name).is_empty(), "{name}");
        assert!(!summary(name).loses_state());
    }
}

#[test]
fn iam_grants_and_revocations_are_spelled_out() {
    let pairs = |name: &str| -> Vec<(bool, String, String)> {
        summary(name)
            .iam
            .into_iter()
            .map(|c| (c.granted, c.role, c.member))
            .collect()
    };
    let danger = pairs("iam_danger");
    for expected in [
        (true, "roles/run.invoker", "allUsers"),
        (
            true,
            "roles/editor",
            "serviceAccount:vertex-pipelines@my-project.iam.gserviceaccount.com",
        ),
        (true, "roles/viewer", "group:g@example.com"),
        (true, "roles/viewer", "user:a@example.com"),
        (true, "roles/storage.objectViewer", "user:new@example.com"),
        (false, "roles/storage.objectViewer", "user:old@example.com"),
    ] {
        let expected = (expected.0, expected.1.to_owned(), expected.2.to_owned());
        assert!(danger.contains(&expected), "{expected:?} not in {danger:?}");
    }
    assert_eq!(danger.len(), 6, "{danger:?}");
    assert_eq!(
        pairs("destroy_stateful"),
        [(
            false,
            "roles/storage.admin".to_owned(),
            "serviceAccount:vertex-pipelines@my-project.iam.gserviceaccount.com".to_owned()
        )]
    );
    // A member only known after apply is said so, not guessed.
    assert!(pairs("create_only").contains(&(
        true,
        "roles/storage.objectAdmin".to_owned(),
        "(known after apply)".to_owned()
    )));
}

#[test]
fn public_access_and_primitive_roles_come_before_everything_else() {
    let markdown = summary("iam_danger").markdown();
    let warning = markdown.find("[!WARNING]").expect("a warning");
    let table = markdown.find("| Add |").expect("the counts");
    assert!(warning < table);
    let top = &markdown[..table];
    assert!(
        top.contains("`allUsers`") && top.contains("`roles/run.invoker`"),
        "{top}"
    );
    assert!(top.contains("`roles/editor`"), "{top}");
}

#[test]
fn sensitive_values_are_never_shown() {
    let markdown = summary("module_and_sensitive").markdown();
    assert!(!markdown.contains("example-not-a-real-token"));
}

#[test]
fn summaries_read_as_reviewed() {
    for name in [
        "create_only",
        "update_in_place",
        "replace_stateful",
        "destroy_stateful",
        "iam_danger",
        "no_changes",
        "module_and_sensitive",
    ] {
        insta::assert_snapshot!(format!("plan_summary_{name}"), summary(name).markdown());
    }
}

#[test]
fn the_command_exits_2_when_data_would_be_lost() {
    let bin = env!("CARGO_BIN_EXE_automlops");
    let status = |name: &str| {
        std::process::Command::new(bin)
            .arg("plan-summary")
            .arg(
                repo()
                    .join("tests/fixtures/plans")
                    .join(format!("{name}.json")),
            )
            .output()
            .unwrap()
    };
    let loss = status("destroy_stateful");
    assert_eq!(loss.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&loss.stdout).starts_with("### Terraform plan"));
    assert_eq!(status("replace_stateful").status.code(), Some(2));
    assert_eq!(status("iam_danger").status.code(), Some(0));
    let bad = std::process::Command::new(bin)
        .arg("plan-summary")
        .arg(repo().join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a Terraform plan in JSON"));
}
