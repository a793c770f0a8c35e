//! The only code that touches the output directory. Files are first written to a staging
//! directory beside it, then moved into place, so a failure never leaves half-written output.
//! Files in the output directory that automlops did not generate (a `.git`, your notes) are
//! left alone.

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

/// Removes the staging directory however writing ends.
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `replace`: write even over the output of another notebook (which the manifest records).
pub(crate) fn write(
    artifacts: &Artifacts,
    out_dir: &Path,
    replace: bool,
) -> Result<(), WriteError> {
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
    // A directory that does not exist yet has nothing in the way.
    let fresh = fs::symlink_metadata(out_dir).is_err();
    if !fresh {
        preflight(artifacts, out_dir, &old_manifest)?;
    }
    let parent = match out_dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(at(&parent))?;
    let name = out_dir
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let staging = Staging(parent.join(format!(".{name}.automlops-{}", std::process::id())));
    let _ = fs::remove_dir_all(&staging.0);
    // Each directory of the staging tree is made once (a thousand components share
    // `components/`), without asking the file system about it again.
    let mut made: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for relative in artifacts.files.keys() {
        let path = staging.0.join(relative);
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
        let path = staging.0.join(relative);
        fs::write(&path, contents).map_err(at(&path))?;
        #[cfg(unix)]
        if is_script(relative) {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).map_err(at(&path))?;
        }
        Ok::<(), WriteError>(())
    });
    written.into_iter().collect::<Result<(), WriteError>>()?;
    let manifest = manifest_text(artifacts);
    let manifest_path = staging.0.join(MANIFEST);
    fs::write(&manifest_path, &manifest).map_err(at(&manifest_path))?;
    if !out_dir.exists() {
        fs::rename(&staging.0, out_dir).map_err(at(out_dir))?;
        return Ok(());
    }
    // Files an earlier compile wrote and this one does not (a renamed component) are removed;
    // nothing else is.
    // The directory exists (a previous compile, perhaps with the user's own files): move each
    // staged file over its old version. Renames within one file system are atomic per file.
    for relative in artifacts.files.keys() {
        let target = out_dir.join(relative);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(at(dir))?;
        }
        fs::rename(staging.0.join(relative), &target).map_err(at(&target))?;
    }
    for stale in manifest_files(&old_manifest) {
        if artifacts.files.contains_key(stale) {
            continue;
        }
        if let Some(path) = removable(out_dir, stale) {
            fs::remove_file(&path).map_err(at(&path))?;
            // Directories left empty by the removal go too.
            for dir in path.ancestors().skip(1).take_while(|d| *d != out_dir) {
                if fs::remove_dir(dir).is_err() {
                    break;
                }
            }
        }
    }
    let target = out_dir.join(MANIFEST);
    fs::rename(&manifest_path, &target).map_err(at(&target))?;
    Ok(())
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
