//! Output files written whole or not at all: into a temporary file beside
//! the destination, renamed over it once complete, so a run that fails or is
//! stopped part-way (a full disk, a file-size limit) leaves the old file as
//! it was. A device or a pipe (`-o /dev/stdout`) is written to directly.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file written under a temporary name beside its destination and renamed
/// into place by `commit`; removed when dropped before (the destination is
/// then as it was).
pub struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl Staged {
    /// The temporary file, with the destination's permissions when it exists
    /// (a key file kept 0600 stays 0600).
    pub fn create(dest: &Path) -> Result<(Staged, std::fs::File)> {
        // Through a symbolic link: its target is the file replaced.
        let dest = std::fs::canonicalize(dest).unwrap_or_else(|_| dest.to_path_buf());
        let name = dest
            .file_name()
            .with_context(|| format!("{} is not a file name", dest.display()))?;
        let tmp = dest.with_file_name(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", dest.display()))?;
        let staged = Staged {
            tmp,
            dest,
            done: false,
        };
        if let Ok(meta) = std::fs::metadata(&staged.dest) {
            std::fs::set_permissions(&staged.tmp, meta.permissions())
                .with_context(|| format!("cannot write {}", staged.dest.display()))?;
        }
        Ok((staged, file))
    }

    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.dest)
            .with_context(|| format!("cannot write {}", self.dest.display()))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Whether `path` is there and not a regular file (a device, a pipe): written
/// to directly, as it cannot be replaced.
pub fn is_device(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}

/// `bytes` written to `dest` whole, or an error naming it and `dest` as it was.
pub fn write(dest: &Path, bytes: &[u8]) -> Result<()> {
    let cannot = || format!("cannot write {}", dest.display());
    if is_device(dest) {
        return std::fs::write(dest, bytes).with_context(cannot);
    }
    let (staged, mut file) = Staged::create(dest)?;
    file.write_all(bytes).with_context(cannot)?;
    file.sync_all().with_context(cannot)?;
    drop(file);
    staged.commit()
}
