//! Files a notebook loads, read as the notebook reads them when it runs in its own folder:
//! a relative path is relative to the notebook's directory.

use std::path::{Path, PathBuf};

/// The largest file a notebook may load (a component file is a few kilobytes).
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Reads files relative to a notebook's directory.
#[derive(Debug)]
pub struct Beside {
    dir: PathBuf,
}

impl Beside {
    /// Files beside the notebook at `notebook`.
    #[must_use]
    pub fn notebook(notebook: &Path) -> Self {
        let dir = notebook
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self {
            dir: dir.to_path_buf(),
        }
    }
}

impl crate::compile::ReadFile for Beside {
    /// Errors name no absolute path: the notebook's own path is what its messages show.
    fn read(&self, path: &str) -> Result<String, String> {
        let full = self.dir.join(path);
        let size = std::fs::metadata(&full)
            .map_err(|e| format!("cannot read it: {e}"))?
            .len();
        if size > MAX_BYTES {
            return Err(format!(
                "it has {size} bytes, more than the {MAX_BYTES} a component file may have"
            ));
        }
        std::fs::read_to_string(&full).map_err(|e| format!("cannot read it: {e}"))
    }
}
