//! Files of the data directory: private (0700 directory, 0600 files), written atomically, and
//! never through a symbolic link someone else put in the way.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Creates `dir` (and its missing parents) readable by its owner only, or tightens an existing
/// one to 0700: the data directory holds the register, the keys and the database.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let meta = std::fs::symlink_metadata(dir)?;
        if !meta.is_dir() {
            return Err(std::io::Error::other(format!(
                "{} is not a directory (a symbolic link?)",
                dir.display()
            )));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Options that create a new file (never an existing one, never through a symbolic link),
/// 0600 when `private`.
fn new_file_options(private: bool) -> OpenOptions {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0));
        if private {
            opts.mode(0o600);
        }
    }
    #[cfg(not(unix))]
    let _ = private;
    opts
}

/// Writes `bytes` to `path` atomically: a new temporary file (random name, created exclusively,
/// not through a link) is written, synced and renamed over the target, and the directory is
/// synced. With `private`, the file is readable by its owner only.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::secrets::numeric_code(12)));
    let written = (|| {
        let mut f = new_file_options(private).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A new file readable by its owner only (reports and files holding enrollment codes).
pub struct PrivateFile;

impl PrivateFile {
    /// Creates `path` with mode 0600, replacing a regular file already there; a symbolic link
    /// (or anything else) in its place is refused, not followed.
    #[allow(clippy::new_ret_no_self)]
    pub fn create(path: &Path) -> std::io::Result<File> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_file() => std::fs::remove_file(path)?,
            Ok(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!(
                        "{} exists and is not a regular file (a symbolic link?): not written",
                        path.display()
                    ),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        new_file_options(true).open(path)
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn private_files_and_directories_and_no_links_followed() {
        let tmp = tempfile::tempdir().expect("tmp");
        let data = tmp.path().join("a").join("data");
        private_dir(&data).expect("dir");
        assert_eq!(mode(&data), 0o700);
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        private_dir(&data).expect("again");
        assert_eq!(
            mode(&data),
            0o700,
            "an existing data directory is tightened"
        );

        let keys = data.join("keys.json");
        write_atomic(&keys, b"{}", true).expect("write");
        assert_eq!(mode(&keys), 0o600);
        write_atomic(&keys, b"{\"v\":2}", true).expect("rewrite");
        assert_eq!(std::fs::read(&keys).expect("read"), b"{\"v\":2}");
        assert_eq!(
            std::fs::read_dir(&data).expect("ls").count(),
            1,
            "no temporary file is left behind"
        );

        // A link planted where a report goes is neither followed nor replaced.
        let target = tmp.path().join("elsewhere.txt");
        std::fs::write(&target, b"keep").expect("target");
        let report = data.join("report.csv");
        std::os::unix::fs::symlink(&target, &report).expect("link");
        assert!(PrivateFile::create(&report).is_err());
        assert_eq!(std::fs::read(&target).expect("read"), b"keep");
        std::fs::remove_file(&report).expect("unlink");
        // A world-readable file already there is replaced by a private one.
        std::fs::write(&report, b"old").expect("old");
        std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let mut f = PrivateFile::create(&report).expect("create");
        f.write_all(b"new").expect("write");
        assert_eq!(mode(&report), 0o600);
    }
}
