//! `automlops run`: runs a compiled pipeline on this machine with kfp.local, through the
//! `pipelines/run_local.py` every compile writes, in a Python environment automlops makes
//! and keeps.
//!
//! In order: the run's parameters are checked ([`parameters`], the runner service's checks
//! and messages), an interpreter and an environment are found or made ([`environment`]), the
//! component image is built for the Docker runner, then the driver runs the pipeline and
//! reports each task as a JSON line ([`events`]), which is shown as it comes ([`report`]).
//! Each run's logs and outputs go under `DIR/.automlops/runs/RUN_ID/`; kfp.local's cache
//! under `DIR/.automlops/cache/`.

mod environment;
mod events;
mod parameters;
mod report;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use events::{Event, Run};

/// How the components run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// Each component's function in a subprocess of the environment's Python.
    Subprocess,
    /// Each component in the component image, built from `components/component_base/`.
    Docker,
}

/// What to run, and how.
#[derive(Debug)]
pub struct Request {
    /// The compiled tree.
    pub root: PathBuf,
    /// `NAME=VALUE` parameter overrides.
    pub params: Vec<String>,
    pub runner: Runner,
    pub no_cache: bool,
    /// The interpreter to make the environment with, instead of `python3` on PATH.
    pub python: Option<PathBuf>,
    /// Where to write the run's outcome as JSON.
    pub summary_json: Option<PathBuf>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every task that ran succeeded.
    Succeeded,
    /// A task failed, or the driver did.
    Failed,
    /// Nothing ran: the parameters do not fit, or a task cannot run on this machine.
    Refused,
    /// Stopped by Ctrl-C.
    Stopped,
}

/// Runs the pipeline compiled at `request.root`, telling `out` how it goes. `interrupted`
/// turns true on Ctrl-C (the driver, in the same process group, gets it too and stops).
pub fn run(
    request: &Request,
    out: &mut dyn Write,
    interrupted: &AtomicBool,
) -> anyhow::Result<Outcome> {
    let root = request
        .root
        .canonicalize()
        .with_context(|| format!("cannot read `{}`", request.root.display()))?;
    let driver = root.join("pipelines").join("run_local.py");
    if !driver.is_file() {
        bail!(
            "`{}` is not a tree this automlops compiled (it has no pipelines/run_local.py); compile the notebook again",
            root.display()
        );
    }
    if let Err(problems) = parameters::check(&root, &request.params)? {
        for problem in &problems.0 {
            writeln!(out, "error: {problem}")?;
        }
        writeln!(
            out,
            "error: the parameters do not fit the pipeline; nothing ran"
        )?;
        let run = Run {
            refused: problems.0,
            ..Run::default()
        };
        write_summary(request, &run.summary("", "", "refused"))?;
        return Ok(Outcome::Refused);
    }

    let interpreter = environment::find_interpreter(request.python.as_deref())?;
    let component_dir = root.join("components").join("component_base");
    let component_requirements = std::fs::read_to_string(component_dir.join("requirements.txt"))
        .with_context(|| {
            format!(
                "cannot read `{}`",
                component_dir.join("requirements.txt").display()
            )
        })?;
    let requirements =
        environment::requirements(&component_requirements, request.runner == Runner::Docker);
    let env = environment::ensure(&interpreter, &requirements, &mut |message| {
        let _ = writeln!(out, "{message}");
    })?;
    if let Some(took) = env.created_in {
        writeln!(
            out,
            "made the environment {} in {:.1} s (Python {})",
            env.dir.display(),
            took.as_secs_f64(),
            interpreter.version
        )?;
    }
    let image = match request.runner {
        Runner::Docker => Some(build_image(&component_dir, out)?),
        Runner::Subprocess => None,
    };

    let run_id = run_id();
    let run_dir = root.join(".automlops").join("runs").join(&run_id);
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create `{}`", run_dir.display()))?;
    let driver_log = run_dir.join("driver.log");
    let mut command = Command::new(&env.python);
    command
        .current_dir(&root)
        .args(["-m", "pipelines.run_local", "--run-dir"])
        .arg(&run_dir)
        .arg("--cache-dir")
        .arg(root.join(".automlops").join("cache"))
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(
            std::fs::File::create(&driver_log)
                .with_context(|| format!("cannot write `{}`", driver_log.display()))?,
        );
    for param in &request.params {
        command.arg("--param").arg(param);
    }
    if request.no_cache {
        command.arg("--no-cache");
    }
    if let Some(image) = &image {
        command.args(["--runner", "docker", "--image", image]);
    }
    let started = std::time::Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run `{}`", env.python.display()))?;
    let mut run = Run::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.context("cannot read the driver's output")?;
            match serde_json::from_str::<Event>(&line) {
                Ok(event) => {
                    write!(out, "{}", report::line(&event))?;
                    out.flush()?;
                    run.apply(event);
                }
                Err(_) => writeln!(out, "{line}")?,
            }
        }
    }
    let status = child.wait().context("the driver did not end")?;
    let stopped = run.interrupted || interrupted.load(Ordering::SeqCst);
    run.close(stopped);
    if !run.refused.is_empty() {
        writeln!(
            out,
            "error: the pipeline cannot run on this machine; nothing ran"
        )?;
        let summary = run.summary(&run_id, &run_dir.display().to_string(), "refused");
        write_summary(request, &summary)?;
        return Ok(Outcome::Refused);
    }
    let outcome = if stopped {
        Outcome::Stopped
    } else if status.success() && run.succeeded() {
        Outcome::Succeeded
    } else {
        Outcome::Failed
    };
    if run.finished.is_none() && run.crashed.is_none() && !stopped {
        writeln!(
            out,
            "error: the driver stopped with {status} before the run finished; the end of its log ({}):\n{}",
            driver_log.display(),
            environment::last_lines(&driver_log, 25)
        )?;
    }
    let run_dir_text = run_dir.display().to_string();
    write!(
        out,
        "{}",
        report::table(&run, &run_dir_text, started.elapsed().as_secs_f64())
    )?;
    let state = match outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::Stopped => "stopped",
        Outcome::Failed => "failed",
        Outcome::Refused => "refused",
    };
    write_summary(request, &run.summary(&run_id, &run_dir_text, state))?;
    Ok(outcome)
}

/// `--summary-json`, when asked for.
fn write_summary(request: &Request, summary: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(path) = &request.summary_json {
        let text = serde_json::to_string_pretty(summary)? + "\n";
        std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(())
}

/// Builds the component image for the Docker runner, tagged with a hash of what goes into it.
fn build_image(component_dir: &Path, out: &mut dyn Write) -> anyhow::Result<String> {
    let daemon = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdin(Stdio::null())
        .output();
    match daemon {
        Err(_) => bail!(
            "--runner docker needs Docker, and `docker` is not on PATH; install Docker, or leave out --runner to use the subprocess runner"
        ),
        Ok(output) if !output.status.success() => bail!(
            "--runner docker needs a Docker daemon, and none answers (`docker info`: {}); start Docker, or leave out --runner to use the subprocess runner",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no answer")
                .trim()
        ),
        Ok(_) => {}
    }
    let mut hash = Sha256::new();
    let mut files = vec![
        component_dir.join("Dockerfile"),
        component_dir.join("requirements.txt"),
    ];
    let mut sources: Vec<PathBuf> = std::fs::read_dir(component_dir.join("src"))
        .with_context(|| format!("cannot read `{}`", component_dir.join("src").display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    sources.sort();
    files.extend(sources);
    for file in &files {
        hash.update(file.file_name().unwrap_or_default().as_encoded_bytes());
        hash.update(b"\0");
        hash.update(
            std::fs::read(file).with_context(|| format!("cannot read `{}`", file.display()))?,
        );
        hash.update(b"\0");
    }
    let digest = hash.finalize();
    let tag = environment::hex(&digest[..6]);
    let image = format!("automlops-local/component_base:{tag}");
    writeln!(out, "building the component image {image}")?;
    let status = Command::new("docker")
        .args(["build", "--quiet", "--tag", &image])
        .arg(component_dir)
        .stdin(Stdio::null())
        .status()
        .context("cannot run `docker build`")?;
    if !status.success() {
        bail!(
            "`docker build` of {} failed ({status})",
            component_dir.display()
        );
    }
    Ok(image)
}

/// `20261205-143012-4f2a`: when the run started (UTC), and a few hex digits to tell apart
/// runs started in the same second.
fn run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs();
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    let salt = (now.subsec_nanos() ^ std::process::id()) & 0xffff;
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}-{salt:04x}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's algorithm,
/// for days on or after it).
fn civil_from_days(days: u64) -> (u64, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_792), (2026, 12, 5));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn run_ids_sort_by_time() {
        let id = run_id();
        assert_eq!(id.len(), "20261205-143012-4f2a".len(), "{id}");
        assert!(id.starts_with("20"), "{id}");
    }
}
