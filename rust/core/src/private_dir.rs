//! A short-lived directory only this user can enter, for handing a file to
//! the engine and reading it back (certificates go through one). It is made
//! with a random name that must not exist yet (so nobody can prepare it),
//! mode 0700 on Unix (the temporary folder is the user's own on Windows),
//! and removed with what it holds when dropped.

use std::io;
use std::path::{Path, PathBuf};

/// A fresh private directory under the system's temporary folder.
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Creates it; fails rather than reuse anything that already exists.
    pub fn create() -> io::Result<PrivateDir> {
        let base = std::env::temp_dir();
        let mut last = None;
        for _ in 0..8 {
            let path = base.join(format!("rust_websocket_{:016x}", rand::random::<u64>()));
            #[cfg(unix)]
            let builder = {
                let mut builder = std::fs::DirBuilder::new();
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder
            };
            #[cfg(not(unix))]
            let builder = std::fs::DirBuilder::new();
            match builder.create(&path) {
                Ok(()) => return Ok(PrivateDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::ErrorKind::AlreadyExists.into()))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_private_and_removed() {
        let dir = PrivateDir::create().unwrap();
        let other = PrivateDir::create().unwrap();
        assert_ne!(dir.path(), other.path());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let file = dir.path().join("x.crt");
        std::fs::write(&file, "pem").unwrap();
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists());
    }
}
