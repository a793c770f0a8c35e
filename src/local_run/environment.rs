//! The Python a local run uses: an interpreter found on PATH (or named with `--python`) and a
//! virtual environment made from the component image's requirements, kept under the user's
//! cache directory, keyed by what went into it, so the second run starts at once. `uv` makes
//! it when it is on PATH, `venv` and `pip` otherwise.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// The kfp the compiled IR targets, and what the driver needs beside the components'
/// requirements: the runner's parameter checks (`jsonschema`, at the runner service's version)
/// and, for the Docker runner, Docker's client.
pub(crate) const KFP: &str = "kfp==2.17.3";
const DRIVER_REQUIREMENTS: &[&str] = &["jsonschema==4.26.0"];
const DOCKER_REQUIREMENTS: &[&str] = &["docker==7.1.0"];

/// The oldest Python kfp 2.17.3 supports.
const OLDEST: (u32, u32) = (3, 9);

/// An interpreter that can make the environment.
#[derive(Debug)]
pub(crate) struct Interpreter {
    pub(crate) path: PathBuf,
    pub(crate) version: String,
}

/// A ready environment.
pub(crate) struct Environment {
    pub(crate) python: PathBuf,
    /// How long making it took, when this run made it.
    pub(crate) created_in: Option<std::time::Duration>,
    pub(crate) dir: PathBuf,
}

/// The interpreter named with `--python`, or the first of `python3` and `python` on PATH
/// that is recent enough.
pub(crate) fn find_interpreter(given: Option<&Path>) -> anyhow::Result<Interpreter> {
    if let Some(path) = given {
        return match probe(path) {
            Ok(found) if recent_enough(&found.version) => Ok(found),
            Ok(found) => bail!(
                "`{}` is Python {}; automlops run needs Python {}.{} or newer (kfp 2.17.3's oldest)",
                path.display(),
                found.version,
                OLDEST.0,
                OLDEST.1
            ),
            Err(why) => bail!("`--python {}` cannot be run: {why:#}", path.display()),
        };
    }
    let mut seen = Vec::new();
    for name in ["python3", "python"] {
        match probe(Path::new(name)) {
            Ok(found) if recent_enough(&found.version) => return Ok(found),
            Ok(found) => seen.push(format!("`{name}` is Python {}", found.version)),
            Err(_) => seen.push(format!("`{name}` is not on PATH")),
        }
    }
    bail!(
        "no Python {}.{} or newer found ({}); install one, or name it with --python PATH",
        OLDEST.0,
        OLDEST.1,
        seen.join(", ")
    )
}

fn probe(path: &Path) -> anyhow::Result<Interpreter> {
    let output = Command::new(path)
        .args([
            "-c",
            "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)",
        ])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{}`", path.display()))?;
    if !output.status.success() {
        bail!("`{}` exited with {}", path.display(), output.status);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let version = lines.next().unwrap_or_default().trim().to_owned();
    let executable = lines.next().unwrap_or_default().trim();
    if version.is_empty() {
        bail!("`{}` did not say its version", path.display());
    }
    Ok(Interpreter {
        path: if executable.is_empty() {
            path.to_owned()
        } else {
            PathBuf::from(executable)
        },
        version,
    })
}

fn recent_enough(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= OLDEST
}

/// The requirements the environment gets: the component image's, kfp pinned if they do not
/// name it, and the driver's own.
pub(crate) fn requirements(component_requirements: &str, docker: bool) -> String {
    let mut text = component_requirements.trim_end().to_owned();
    text.push('\n');
    let names_kfp = component_requirements.lines().any(|line| {
        let name: String = line
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        name.eq_ignore_ascii_case("kfp")
    });
    text.push_str("# automlops run\n");
    if !names_kfp {
        let _ = writeln!(text, "{KFP}");
    }
    for requirement in
        DRIVER_REQUIREMENTS
            .iter()
            .chain(if docker { DOCKER_REQUIREMENTS } else { &[] })
    {
        let _ = writeln!(text, "{requirement}");
    }
    text
}

/// Where environments are kept: `$AUTOMLOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/automlops`,
/// else `~/.cache/automlops`.
pub(crate) fn cache_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("AUTOMLOPS_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("automlops"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("automlops")),
        None => bail!("no cache directory: set AUTOMLOPS_CACHE_DIR, XDG_CACHE_HOME or HOME"),
    }
}

/// The environment for `requirements` made with `interpreter`, made now if it is not kept
/// yet. `say` is told when making starts.
pub(crate) fn ensure(
    interpreter: &Interpreter,
    requirements: &str,
    say: &mut dyn FnMut(&str),
) -> anyhow::Result<Environment> {
    let key = {
        let mut hash = Sha256::new();
        hash.update(interpreter.path.as_os_str().as_encoded_bytes());
        hash.update(b"\0");
        hash.update(interpreter.version.as_bytes());
        hash.update(b"\0");
        hash.update(requirements.as_bytes());
        hex(&hash.finalize()[..8])
    };
    let envs = cache_dir()?.join("envs");
    let dir = envs.join(&key);
    let python = dir.join("bin").join("python");
    if python.exists() {
        return Ok(Environment {
            python,
            created_in: None,
            dir,
        });
    }
    std::fs::create_dir_all(&envs)
        .with_context(|| format!("cannot create `{}`", envs.display()))?;
    // Made aside and renamed into place when complete: an interrupted or failed install
    // never passes for a ready environment, and two runs never install into one.
    let partial = envs.join(format!("{key}.partial-{}", std::process::id()));
    let log_path = envs.join(format!("{key}.log"));
    let started = std::time::Instant::now();
    let uv = which("uv");
    say(&format!(
        "making the Python environment for these requirements (once; kept in {}), with {}",
        dir.display(),
        if uv.is_some() { "uv" } else { "venv and pip" }
    ));
    let made = make(
        interpreter,
        requirements,
        &partial,
        &log_path,
        uv.as_deref(),
    );
    if let Err(error) = made {
        let _ = std::fs::remove_dir_all(&partial);
        let tail = last_lines(&log_path, 15);
        bail!("{error:#}\n{tail}(the whole log: {})", log_path.display());
    }
    match std::fs::rename(&partial, &dir) {
        Ok(()) => {}
        // Another run made it meanwhile: use theirs.
        Err(_) if python.exists() => {
            let _ = std::fs::remove_dir_all(&partial);
        }
        Err(error) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(error)
                .with_context(|| format!("cannot move the environment to `{}`", dir.display()));
        }
    }
    Ok(Environment {
        python,
        created_in: Some(started.elapsed()),
        dir,
    })
}

fn make(
    interpreter: &Interpreter,
    requirements: &str,
    dir: &Path,
    log_path: &Path,
    uv: Option<&Path>,
) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let requirements_path = dir.join("automlops-requirements.txt");
    std::fs::write(&requirements_path, requirements)
        .with_context(|| format!("cannot write `{}`", requirements_path.display()))?;
    let log = std::fs::File::create(log_path)
        .with_context(|| format!("cannot write `{}`", log_path.display()))?;
    let python = dir.join("bin").join("python");
    let steps: Vec<Vec<std::ffi::OsString>> = match uv {
        Some(uv) => vec![
            vec![
                uv.into(),
                "venv".into(),
                "--quiet".into(),
                "--allow-existing".into(),
                "--python".into(),
                interpreter.path.clone().into(),
                dir.into(),
            ],
            vec![
                uv.into(),
                "pip".into(),
                "install".into(),
                "--python".into(),
                python.clone().into(),
                "-r".into(),
                requirements_path.clone().into(),
            ],
        ],
        None => vec![
            vec![
                interpreter.path.clone().into(),
                "-m".into(),
                "venv".into(),
                dir.into(),
            ],
            vec![
                python.clone().into(),
                "-m".into(),
                "pip".into(),
                "install".into(),
                "--disable-pip-version-check".into(),
                "--no-input".into(),
                "-r".into(),
                requirements_path.clone().into(),
            ],
        ],
    };
    for step in steps {
        let shown = step
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let status = Command::new(&step[0])
            .args(&step[1..])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?)
            .status()
            .with_context(|| format!("cannot run `{shown}`"))?;
        if !status.success() {
            bail!("making the Python environment failed: `{shown}` exited with {status}");
        }
    }
    Ok(())
}

/// Bytes as lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `name` on PATH.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The last `n` lines of a file, each indented, for an error message.
pub(crate) fn last_lines(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].iter().fold(String::new(), |mut s, line| {
        let _ = writeln!(s, "    | {line}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kfp_is_pinned_unless_the_requirements_name_it() {
        let with = requirements("kfp==2.17.3\npandas==2.2.3\n", false);
        assert_eq!(with.matches("kfp").count(), 1, "{with}");
        assert!(with.contains("jsonschema==4.26.0"));
        let without = requirements("pandas==2.2.3\n", true);
        assert!(without.contains("\nkfp==2.17.3\n"), "{without}");
        assert!(without.contains("docker==7.1.0"), "{without}");
        assert!(!requirements("kfp-pipeline-spec==0.7\n", false).starts_with("kfp=="));
        assert!(requirements("kfp-pipeline-spec==0.7\n", false).contains("\nkfp==2.17.3\n"));
    }

    #[test]
    fn versions_older_than_kfps_oldest_are_refused() {
        assert!(recent_enough("3.9.0"));
        assert!(recent_enough("3.13.1"));
        assert!(!recent_enough("3.8.18"));
        assert!(!recent_enough("2.7.18"));
    }

    #[test]
    fn a_named_interpreter_that_cannot_run_is_a_clear_error() {
        let error = find_interpreter(Some(Path::new("/nonexistent/python3"))).unwrap_err();
        assert!(
            format!("{error:#}").starts_with("`--python /nonexistent/python3` cannot be run"),
            "{error:#}"
        );
    }
}
