//! The only code that touches the output directory. Files are first written to a staging
//! directory inside it, then a journal of the moves, then moved into place: a failure or a
//! kill never leaves a mix of two compiles once the next compile has run (it finishes a
//! journaled staging, discards an unfinished one), and a lock keeps two compiles from
//! writing one directory at once. Files in the output directory that automlops did not
//! generate (a `.git`, your notes) are left alone.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::Artifacts;
use crate::model::is_relative_path;

#[derive(Debug, thiserror::Error)]
#[error("cannot write `{path}`")]
pub(crate) struct WriteError {
    path: String,
    source: io::Error,
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.display().to_string(),
        source,
    }
}

/// Checks, before anything moves, that every file can land where it goes: no file stands where
/// a directory must be, no directory where a file must be.
fn preflight(artifacts: &Artifacts, out_dir: &Path, old_manifest: &str) -> Result<(), WriteError> {
    let blocked = |path: &Path, what: &str| WriteError {
        path: path.display().to_string(),
        source: io::Error::new(io::ErrorKind::AlreadyExists, what.to_owned()),
    };
    if out_dir.exists() && !out_dir.is_dir() {
        return Err(blocked(
            out_dir,
            "it is a file, and the output must be a directory",
        ));
    }
    for relative in artifacts.files.keys() {
        let target = out_dir.join(relative);
        for ancestor in target.ancestors().skip(1) {
            if ancestor == out_dir {
                break;
            }
            // A link would take the file out of the output directory.
            if fs::symlink_metadata(ancestor).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(blocked(
                    ancestor,
                    "it is a symbolic link, and automlops writes only inside the output directory",
                ));
            }
            if ancestor.exists() && !ancestor.is_dir() {
                return Err(blocked(
                    ancestor,
                    "a file stands where the output needs a directory",
                ));
            }
        }
        if target.is_dir() {
            return Err(blocked(
                &target,
                "a directory stands where the output needs a file",
            ));
        }
    }
    // A file automlops would replace but did not write (not in the last compile's manifest),
    // such as the user's own README.md or .gitignore, is never overwritten.
    let written: std::collections::HashSet<&str> = manifest_files(old_manifest).collect();
    for (relative, contents) in &artifacts.files {
        let target = out_dir.join(relative);
        if !written.contains(relative.as_str())
            && target.is_file()
            && fs::read(&target).ok().as_deref() != Some(contents.as_bytes())
        {
            return Err(blocked(
                &target,
                "this file was not written by automlops and would be replaced; move it away, or compile into another directory",
            ));
        }
    }
    Ok(())
}

/// The file a line of an old manifest names, if it may be removed: a plain relative path
/// inside the output directory, reached without following a symbolic link (a link could lead
/// out of it), not inside `.git`, and a regular file. The manifest is a file in the user's
/// directory, so nothing in it is trusted.
fn removable(out_dir: &Path, stale: &str) -> Option<PathBuf> {
    if !is_relative_path(stale) || stale.split('/').any(|part| part == ".git") {
        return None;
    }
    let mut path = out_dir.to_path_buf();
    for part in stale.split('/') {
        path.push(part);
        let metadata = fs::symlink_metadata(&path).ok()?;
        if metadata.file_type().is_symlink() {
            return None;
        }
    }
    fs::symlink_metadata(&path)
        .ok()
        .filter(fs::Metadata::is_file)
        .map(|_| path)
}

/// The list of files the last compile wrote, so the next one can remove those it no longer
/// writes.
const MANIFEST: &str = ".automlops-files";

/// Where a compile stages its files, inside the output directory (so that moving them into
/// place is a rename on one file system, whatever is mounted where).
const STAGING: &str = ".automlops-staging";

/// Inside the staging directory: the moves and removals that make the staged tree the output.
/// It is written last, so its presence means the staging is complete: a compile interrupted
/// after that point is finished by the next one, one interrupted before it is discarded.
const JOURNAL: &str = ".journal";

/// The lock file in the output directory: one compile writes at a time (an advisory lock,
/// released by the system when its holder dies, however it dies).
const LOCK: &str = ".automlops.lock";

/// How long a compile waits for another one writing the same directory.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_mins(1);

/// Removes the staging directory if writing fails before the journal is complete.
struct Staging {
    dir: PathBuf,
    armed: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// An output directory that can never be right: the file system root, or inside `.git`.
fn refuse_unsafe_output(out_dir: &Path) -> Result<(), WriteError> {
    let refuse = |why: &str| WriteError {
        path: out_dir.display().to_string(),
        source: io::Error::new(io::ErrorKind::InvalidInput, why.to_owned()),
    };
    // Resolved as far as it exists (links and all), then the rest read as written, so that
    // `-o /tmp/..` and `-o new/../.git` are seen for what they are.
    let existing = out_dir
        .ancestors()
        .find(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_ok())
        .unwrap_or(Path::new("."));
    let mut full = fs::canonicalize(existing).map_err(at(existing))?;
    let rest = out_dir
        .strip_prefix(existing)
        .unwrap_or(out_dir)
        .components();
    for part in rest {
        match part {
            std::path::Component::ParentDir => {
                full.pop();
            }
            std::path::Component::Normal(name) => full.push(name),
            _ => {}
        }
    }
    if full.parent().is_none() {
        return Err(refuse(
            "it is the file system root; compile into a directory of its own",
        ));
    }
    if full.components().any(|c| c.as_os_str() == ".git") {
        return Err(refuse(
            "it is inside a `.git` directory, which only git may write",
        ));
    }
    Ok(())
}

/// Takes the output directory's lock, waiting for a compile that holds it.
fn lock(out_dir: &Path) -> Result<fs::File, WriteError> {
    let path = out_dir.join(LOCK);
    if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(WriteError {
            path: path.display().to_string(),
            source: io::Error::new(io::ErrorKind::AlreadyExists, "it is not a regular file"),
        });
    }
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(at(&path))?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(WriteError {
                    path: out_dir.display().to_string(),
                    source: io::Error::new(
                        io::ErrorKind::WouldBlock,
                        format!(
                            "another automlops compile has been writing it for {} s (it holds `{LOCK}`); run again when it ends",
                            LOCK_WAIT.as_secs()
                        ),
                    ),
                });
            }
            Err(fs::TryLockError::Error(source)) => return Err(at(&path)(source)),
        }
    }
}

/// One step of a journal.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Move the staged file to its place.
    Move(String),
    /// Remove a file the last compile wrote and this one does not.
    Remove(String),
}

fn journal_text(steps: &[Step]) -> String {
    let mut text = String::new();
    for step in steps {
        let (kind, path) = match step {
            Step::Move(path) => ('M', path),
            Step::Remove(path) => ('R', path),
        };
        text.push(kind);
        text.push(' ');
        text.push_str(path);
        text.push('\n');
    }
    text
}

/// The steps of a journal; it is a file in the user's directory, so a line that is not a
/// plain relative path outside `.git` is dropped.
fn journal_steps(text: &str) -> Vec<Step> {
    text.lines()
        .filter_map(|line| {
            let (kind, path) = line.split_once(' ')?;
            if !is_relative_path(path) || path.split('/').any(|part| part == ".git") {
                return None;
            }
            match kind {
                "M" => Some(Step::Move(path.to_owned())),
                "R" => Some(Step::Remove(path.to_owned())),
                _ => None,
            }
        })
        .collect()
}

/// Makes the staged tree the output: each move, then each removal, then the staging
/// directory goes. Every step may already have been done (a compile interrupted while
/// committing is finished by the next one), so each is done only if still to do.
fn commit(out_dir: &Path, steps: &[Step]) -> Result<(), WriteError> {
    let staging = out_dir.join(STAGING);
    let mut made: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for step in steps {
        match step {
            Step::Move(relative) => {
                let from = staging.join(relative);
                if fs::symlink_metadata(&from).is_err() {
                    continue;
                }
                let target = out_dir.join(relative);
                if let Some(dir) = target.parent()
                    && !made.contains(dir)
                {
                    fs::create_dir_all(dir).map_err(at(dir))?;
                    made.extend(dir.ancestors().map(Path::to_path_buf));
                }
                move_file(&from, &target)?;
            }
            Step::Remove(relative) => {
                let Some(path) = removable(out_dir, relative) else {
                    continue;
                };
                fs::remove_file(&path).map_err(at(&path))?;
                // Directories left empty by the removal go too.
                for dir in path.ancestors().skip(1).take_while(|d| *d != out_dir) {
                    if fs::remove_dir(dir).is_err() {
                        break;
                    }
                }
            }
        }
    }
    fs::remove_dir_all(&staging).map_err(at(&staging))
}

/// A rename; across file systems (a directory of the output mounted from elsewhere), a copy
/// then a removal.
fn move_file(from: &Path, to: &Path) -> Result<(), WriteError> {
    match fs::rename(from, to) {
        Err(error) if error.kind() == io::ErrorKind::CrossesDevices => {
            fs::copy(from, to).map_err(at(to))?;
            fs::remove_file(from).map_err(at(from))
        }
        other => other.map_err(at(to)),
    }
}

/// Finishes or discards what an interrupted compile left: a complete staging (its journal
/// is there) is committed, an incomplete one removed. Staging directories that older
/// versions left beside the output (`.NAME.automlops-PID`) go too, once their process is gone.
fn recover(out_dir: &Path) -> Result<(), WriteError> {
    let staging = out_dir.join(STAGING);
    if fs::symlink_metadata(&staging).is_ok_and(|m| m.is_dir()) {
        match fs::read_to_string(staging.join(JOURNAL)) {
            Ok(journal) => commit(out_dir, &journal_steps(&journal))?,
            Err(_) => fs::remove_dir_all(&staging).map_err(at(&staging))?,
        }
    } else if fs::symlink_metadata(&staging).is_ok() {
        return Err(WriteError {
            path: staging.display().to_string(),
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "it is not a directory automlops made; move it away",
            ),
        });
    }
    remove_legacy_staging(out_dir);
    Ok(())
}

/// Removes `.NAME.automlops-PID` directories beside `out_dir` whose process has ended (where
/// the system says which processes run: `/proc`).
fn remove_legacy_staging(out_dir: &Path) {
    let (Some(parent), Some(name)) = (out_dir.parent(), out_dir.file_name()) else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{}.automlops-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let Some(pid) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        if !pid.is_empty()
            && pid.chars().all(|c| c.is_ascii_digit())
            && !Path::new("/proc").join(pid).exists()
            && entry.file_type().is_ok_and(|t| t.is_dir())
        {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes the compile's files into `out_dir`, atomically as a whole: files are staged inside
/// it, a journal of the moves is written, then the moves are made. A compile killed at any
/// moment leaves either its staging, which the next compile removes (the old tree stands),
/// or its journal, which the next compile finishes (the new tree stands). One compile writes
/// a directory at a time. `replace`: write even over the output of another notebook (which
/// the manifest records).
pub(crate) fn write(
    artifacts: &Artifacts,
    out_dir: &Path,
    replace: bool,
) -> Result<(), WriteError> {
    refuse_unsafe_output(out_dir)?;
    if fs::metadata(out_dir).is_ok_and(|m| !m.is_dir()) {
        return Err(WriteError {
            path: out_dir.display().to_string(),
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "it is a file, and the output must be a directory",
            ),
        });
    }
    fs::create_dir_all(out_dir).map_err(at(out_dir))?;
    let _lock = lock(out_dir)?;
    recover(out_dir)?;
    // The list of files the last compile wrote: what may be replaced, and what may be removed.
    let old_manifest = read_manifest(out_dir);
    // Another notebook's output is not replaced by surprise (two notebooks compiled into the
    // default `AutoMLOps/` beside each other).
    if let Some(other) = manifest_notebook(&old_manifest)
        && other != artifacts.notebook
        && !replace
    {
        return Err(WriteError {
            path: out_dir.display().to_string(),
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "it holds the output of `{other}`, which compiling `{}` would replace; choose another directory with `-o DIR`, or pass `--replace` to replace it",
                    artifacts.notebook
                ),
            ),
        });
    }
    preflight(artifacts, out_dir, &old_manifest)?;
    let mut staging = Staging {
        dir: out_dir.join(STAGING),
        armed: true,
    };
    fs::create_dir(&staging.dir).map_err(at(&staging.dir))?;
    // Each directory of the staging tree is made once (a thousand components share
    // `components/`), without asking the file system about it again.
    let mut made: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for relative in artifacts.files.keys() {
        let path = staging.dir.join(relative);
        if let Some(dir) = path.parent()
            && !made.contains(dir)
        {
            fs::create_dir_all(dir).map_err(at(dir))?;
            made.extend(dir.ancestors().map(Path::to_path_buf));
        }
    }
    // The files themselves are independent of each other.
    let files: Vec<(&String, &String)> = artifacts.files.iter().collect();
    let written = crate::parallel::map(&files, |(relative, contents)| {
        let path = staging.dir.join(relative);
        fs::write(&path, contents).map_err(at(&path))?;
        #[cfg(unix)]
        if is_script(relative) {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).map_err(at(&path))?;
        }
        Ok::<(), WriteError>(())
    });
    written.into_iter().collect::<Result<(), WriteError>>()?;
    let manifest_path = staging.dir.join(MANIFEST);
    fs::write(&manifest_path, manifest_text(artifacts)).map_err(at(&manifest_path))?;
    // The moves (the manifest last), then the removals of files an earlier compile wrote and
    // this one does not (a renamed component); nothing else is removed.
    let mut steps: Vec<Step> = artifacts.files.keys().cloned().map(Step::Move).collect();
    steps.push(Step::Move(MANIFEST.to_owned()));
    for stale in manifest_files(&old_manifest) {
        if !artifacts.files.contains_key(stale) && removable(out_dir, stale).is_some() {
            steps.push(Step::Remove(stale.to_owned()));
        }
    }
    // The journal appears whole (a rename), and from then on the staging is the next
    // compile's to finish, not to discard.
    let partial = staging.dir.join(".journal.partial");
    fs::write(&partial, journal_text(&steps)).map_err(at(&partial))?;
    let journal = staging.dir.join(JOURNAL);
    fs::rename(&partial, &journal).map_err(at(&journal))?;
    staging.armed = false;
    commit(out_dir, &steps)
}

/// How a file of the output directory differs from what a compile would write there.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Drift {
    /// The file holds something else.
    Changed(String),
    /// The file is not there.
    Missing(String),
    /// An earlier compile wrote the file (it is in the manifest); this one would remove it.
    Stale(String),
    /// A compile was interrupted while writing the directory; the next compile finishes or
    /// discards what it left.
    Interrupted,
}

/// The manifest the last compile wrote, if it is a regular file (never a pipe or a link).
fn read_manifest(out_dir: &Path) -> String {
    let path = out_dir.join(MANIFEST);
    if fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
        fs::read_to_string(&path).unwrap_or_default()
    } else {
        String::new()
    }
}

/// The first line of a manifest names the notebook the output is of.
const NOTEBOOK_LINE: &str = "# notebook: ";

/// The notebook a manifest records (older manifests record none).
fn manifest_notebook(manifest: &str) -> Option<&str> {
    manifest.lines().next()?.strip_prefix(NOTEBOOK_LINE)
}

/// The files a manifest lists.
fn manifest_files(manifest: &str) -> impl Iterator<Item = &str> {
    manifest.lines().filter(|line| !line.starts_with('#'))
}

/// The manifest a compile writes: the notebook, then its files, one per line.
fn manifest_text(artifacts: &Artifacts) -> String {
    let mut manifest = format!("{NOTEBOOK_LINE}{}\n", artifacts.notebook);
    for path in artifacts.files.keys() {
        manifest.push_str(path);
        manifest.push('\n');
    }
    manifest
}

/// Whether the file at `path` holds exactly `contents` as a compile would leave it: a
/// regular file (not a link, not a pipe: those are never read), of that size and those bytes,
/// executable if it is a script.
fn same_file(path: &Path, contents: &[u8], executable: bool) -> Option<bool> {
    let metadata = fs::symlink_metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() != contents.len() as u64 {
        return Some(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if executable && metadata.permissions().mode() & 0o111 == 0 {
            return Some(false);
        }
    }
    #[cfg(not(unix))]
    let _ = executable;
    Some(fs::read(path).is_ok_and(|bytes| bytes == contents))
}

/// Compares the output directory with a compile's files, and touches nothing.
pub(crate) fn check(artifacts: &Artifacts, out_dir: &Path) -> Result<Vec<Drift>, WriteError> {
    if fs::metadata(out_dir).is_ok_and(|m| !m.is_dir()) {
        return Err(WriteError {
            path: out_dir.display().to_string(),
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "it is a file, and the output must be a directory",
            ),
        });
    }
    let mut drift = Vec::new();
    if fs::symlink_metadata(out_dir.join(STAGING)).is_ok() {
        drift.push(Drift::Interrupted);
    }
    let manifest = manifest_text(artifacts);
    let expected = artifacts
        .files
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_bytes(), is_script(path)))
        .chain([(MANIFEST, manifest.as_bytes(), false)]);
    for (relative, contents, executable) in expected {
        match same_file(&out_dir.join(relative), contents, executable) {
            Some(true) => {}
            Some(false) => drift.push(Drift::Changed(relative.to_owned())),
            None => drift.push(Drift::Missing(relative.to_owned())),
        }
    }
    let old_manifest = read_manifest(out_dir);
    for stale in manifest_files(&old_manifest) {
        if !artifacts.files.contains_key(stale) && removable(out_dir, stale).is_some() {
            drift.push(Drift::Stale(stale.to_owned()));
        }
    }
    Ok(drift)
}

/// Generated shell scripts are written executable.
fn is_script(relative: &str) -> bool {
    Path::new(relative)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("sh"))
}

#[cfg(test)]
mod tests {
    use super::removable;

    #[test]
    fn only_plain_files_inside_the_output_are_removable() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::create_dir_all(out.join("components/old")).unwrap();
        std::fs::create_dir_all(out.join(".git")).unwrap();
        std::fs::write(out.join("components/old/component.yaml"), "x").unwrap();
        std::fs::write(out.join(".git/config"), "x").unwrap();
        std::fs::write(root.path().join("precious.txt"), "x").unwrap();
        assert_eq!(
            removable(&out, "components/old/component.yaml"),
            Some(out.join("components/old/component.yaml"))
        );
        for entry in [
            "",
            "/etc/passwd",
            "../precious.txt",
            "./x",
            ".git/config",
            "components/old",
            "missing",
        ] {
            assert_eq!(removable(&out, entry), None, "{entry}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.path(), out.join("link")).unwrap();
            assert_eq!(removable(&out, "link/precious.txt"), None);
            std::os::unix::fs::symlink(root.path().join("precious.txt"), out.join("file-link"))
                .unwrap();
            assert_eq!(removable(&out, "file-link"), None);
        }
    }
}
