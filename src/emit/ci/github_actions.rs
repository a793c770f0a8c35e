//! GitHub Actions: `.github/workflows/automlops-review.yml` (pull requests to the deployment
//! branch: check, lint, plan as the read-only planner, the plan summary posted as one comment
//! that each push updates) and `.github/workflows/automlops-deploy.yml` (pushes to the branch:
//! build, pin, plan and deploy as the deployer; apply in a job of a protected environment, after
//! a person approves). Actions are pinned by commit, permissions are granted per job, and no
//! value from the event is interpolated into a script.

use serde_json::{Value, json};

use crate::model::ci::{Stage, stages};

use super::{COMMENT_MARKER, Context, TERRAFORM_VERSION, commands, title};

/// Actions, pinned by commit with their version beside (checked by zizmor).
const CHECKOUT: &str = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0";
const AUTH: &str = "google-github-actions/auth@7c6bc770dae815cd3e89ee6cdf493a5fab2cc093 # v3.0.0";
const SETUP_GCLOUD: &str =
    "google-github-actions/setup-gcloud@aa5489c8933f4cc7a4f7d45035b3b1440c9c10db # v3.0.1";
const SETUP_TERRAFORM: &str =
    "hashicorp/setup-terraform@b9cd54a3c349d3f38e8881555d616ced269862dd # v3.1.2";
const CACHE: &str = "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830 # v4.3.0";
const GITHUB_SCRIPT: &str =
    "actions/github-script@ed597411d8f924073f98dfc5c65a23a2325f34cd # v8.0.0";

/// The label that lets a review pass although the plan loses data.
pub(crate) const DATA_LOSS_LABEL: &str = "automlops:allow-data-loss";

/// The script that posts or updates the review comment; it reads the summary from a file, so
/// nothing of the pull request is ever code.
const COMMENT_SCRIPT: &str = r"const fs = require('fs');
const marker = process.env.MARKER;
const body = marker + '\n' + fs.readFileSync('plan.md', 'utf8');
const { owner, repo } = context.repo;
const issue_number = context.issue.number;
const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number });
const previous = comments.find((c) => c.user.type === 'Bot' && c.body.startsWith(marker));
if (previous) {
  await github.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body });
} else {
  await github.rest.issues.createComment({ owner, repo, issue_number, body });
}
";

/// A step that uses an action (its pin comment is restored by [`pin_comments`]).
fn uses(action: &str, with: Value) -> Value {
    let mut step = json!({ "uses": action });
    if !with.is_null() {
        step["with"] = with;
    }
    step
}

fn run(name: &str, lines: &[String]) -> Value {
    json!({ "name": name, "run": lines.join("\n") + "\n" })
}

fn stage_step(stage: Stage, ctx: &Context<'_>) -> Value {
    run(title(stage), &commands(stage, ctx))
}

/// The workload identity provider: the given one, or the repository variable the README sets
/// from `terraform output`.
fn provider(ctx: &Context<'_>) -> String {
    match &ctx.settings.given_identity {
        Some(given) => given.provider_name(),
        None => "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}".to_owned(),
    }
}

fn auth(ctx: &Context<'_>, account: &str) -> Value {
    uses(
        AUTH,
        json!({ "workload_identity_provider": provider(ctx), "service_account": account }),
    )
}

fn checkout() -> Value {
    uses(CHECKOUT, json!({ "persist-credentials": false }))
}

fn setup_terraform() -> Value {
    uses(
        SETUP_TERRAFORM,
        json!({ "terraform_version": TERRAFORM_VERSION, "terraform_wrapper": false }),
    )
}

/// Exactly the automlops that wrote the output, cached by version.
fn install() -> Vec<Value> {
    let version = env!("CARGO_PKG_VERSION");
    vec![
        uses(
            CACHE,
            json!({
                "path": "~/.cargo/bin/automlops",
                "key": format!("automlops-{version}-${{{{ runner.os }}}}-${{{{ runner.arch }}}}"),
            }),
        ),
        run(
            &format!("Install automlops {version}"),
            &[format!(
                "command -v automlops || {}",
                super::install_automlops()
            )],
        ),
    ]
}

fn env(ctx: &Context<'_>) -> Value {
    json!({
        "COMMIT_SHA": "${{ github.sha }}",
        "TF_STATE_BUCKET": ctx.settings.tf_state_bucket(),
    })
}

/// `.github/workflows/automlops-review.yml`.
fn review(ctx: &Context<'_>) -> Value {
    let mut steps = vec![
        checkout(),
        auth(ctx, &ctx.settings.planner_email()),
        setup_terraform(),
    ];
    steps.extend(install());
    for stage in stages().review {
        steps.push(stage_step(stage, ctx));
    }
    steps.push(json!({
        "name": "Summarize the plan",
        "id": "summary",
        "run": "status=0\nautomlops plan-summary plan.json --output plan.md || status=$?\nif [ \"$status\" -eq 1 ]; then exit 1; fi\ncat plan.md >> \"$GITHUB_STEP_SUMMARY\"\necho \"status=$status\" >> \"$GITHUB_OUTPUT\"\n",
    }));
    let mut comment = uses(GITHUB_SCRIPT, json!({ "script": COMMENT_SCRIPT }));
    comment["name"] = json!("Post the plan on the pull request");
    comment["env"] = json!({ "MARKER": COMMENT_MARKER });
    steps.push(comment);
    steps.push(json!({
        "name": "A plan that loses data needs a label",
        "if": format!("steps.summary.outputs.status == '2' && !contains(github.event.pull_request.labels.*.name, '{DATA_LOSS_LABEL}')"),
        "run": format!("echo \"::error::This plan destroys or replaces resources that hold data (see the summary); add the label {DATA_LOSS_LABEL} to accept it.\"\nexit 1\n"),
    }));
    json!({
        "name": "automlops review",
        "on": {
            "pull_request": {
                "branches": [ctx.settings.csr_branch_name],
                "types": ["opened", "synchronize", "reopened", "labeled", "unlabeled"],
            }
        },
        "permissions": {},
        "concurrency": {
            "group": "automlops-review-${{ github.event.pull_request.number }}",
            "cancel-in-progress": true,
        },
        "jobs": {
            "review": {
                "name": "Check and plan (read-only)",
                "runs-on": "ubuntu-24.04",
                "timeout-minutes": 30,
                "permissions": {
                    "contents": "read",
                    "id-token": "write",
                    "pull-requests": "write",
                },
                "env": env(ctx),
                "steps": steps,
            }
        }
    })
}

/// `.github/workflows/automlops-deploy.yml`.
fn deploy(ctx: &Context<'_>) -> Value {
    let all = stages();
    let mut deploy_steps = vec![
        checkout(),
        auth(ctx, &ctx.settings.deployer_email()),
        uses(SETUP_GCLOUD, Value::Null),
        setup_terraform(),
    ];
    deploy_steps.extend(install());
    for stage in all.deploy {
        deploy_steps.push(stage_step(stage, ctx));
    }
    let mut apply_steps = vec![
        checkout(),
        auth(ctx, &ctx.settings.deployer_email()),
        setup_terraform(),
    ];
    for stage in all.approved {
        if stage != Stage::TerraformPlan {
            apply_steps.push(stage_step(stage, ctx));
        }
    }
    json!({
        "name": "automlops deploy",
        "on": { "push": { "branches": [ctx.settings.csr_branch_name] } },
        "permissions": {},
        "concurrency": { "group": "automlops-deploy", "cancel-in-progress": false },
        "jobs": {
            "deploy": {
                "name": "Build, pin and deploy the runner",
                "runs-on": "ubuntu-24.04",
                "timeout-minutes": 60,
                "permissions": { "contents": "read", "id-token": "write" },
                "env": env(ctx),
                "steps": deploy_steps,
            },
            "apply": {
                "name": "terraform apply (after approval)",
                "needs": "deploy",
                "runs-on": "ubuntu-24.04",
                "timeout-minutes": 60,
                "environment": "automlops-apply",
                "permissions": { "contents": "read", "id-token": "write" },
                "env": env(ctx),
                "steps": apply_steps,
            }
        }
    })
}

/// Why a job holds each permission, written beside it (zizmor's auditors ask for it).
const PERMISSION_REASONS: &[(&str, &str)] = &[
    ("contents: read", "check out the code"),
    (
        "id-token: write",
        "sign in to Google Cloud by Workload Identity Federation",
    ),
    (
        "pull-requests: write",
        "post the plan summary on the pull request",
    ),
];

/// The YAML writer quotes a `uses:` value holding ` # `; GitHub reads the comment only when it
/// is one, so it is unquoted here, where the value is one of our constants. Permissions get
/// their reasons as comments.
fn pin_comments(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len());
    for line in yaml.lines() {
        if let Some((_, reason)) = PERMISSION_REASONS
            .iter()
            .find(|(permission, _)| line.trim_start() == *permission)
        {
            out.push_str(line);
            out.push_str(" # ");
            out.push_str(reason);
            out.push('\n');
            continue;
        }
        let trimmed = line.trim_start().trim_start_matches("- ");
        let indent = &line[..line.len() - trimmed.len()];
        let rewritten = [
            CHECKOUT,
            AUTH,
            SETUP_GCLOUD,
            SETUP_TERRAFORM,
            CACHE,
            GITHUB_SCRIPT,
        ]
        .iter()
        .find_map(|action| {
            let quoted = format!("uses: '{action}'");
            let dquoted = format!("uses: \"{action}\"");
            let rest = trimmed
                .strip_prefix(&quoted)
                .or_else(|| trimmed.strip_prefix(&dquoted))?;
            Some(format!("{indent}uses: {action}{rest}"))
        });
        out.push_str(rewritten.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// The two workflow files, relative to the output directory.
pub(crate) fn files(
    ctx: &Context<'_>,
    header: &str,
) -> Result<Vec<(String, String)>, serde_json::Error> {
    let mut out = Vec::new();
    for (name, workflow) in [
        ("automlops-review.yml", review(ctx)),
        ("automlops-deploy.yml", deploy(ctx)),
    ] {
        let yaml = super::super::yaml::to_yaml(&workflow)?;
        out.push((
            format!(".github/workflows/{name}"),
            format!("{header}{}", pin_comments(&yaml)),
        ));
    }
    Ok(out)
}
