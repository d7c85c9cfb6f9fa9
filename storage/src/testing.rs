//! Test support for storage faults (feature `testing`): file systems mounted for one test
//! (a tmpfs, or ext4 on a loop device that turns read-only on its first error) and a disk
//! filled to a given free space. Mounting needs root; the helpers panic on anything else that
//! fails, as test code does.
#![allow(clippy::expect_used, clippy::panic)] // test support: a failing set-up stops the test at its line

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs a command; its stdout, or why it failed.
pub fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {args:?}: {} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Set by `cargo xtask test` when it could install and mount what every test needs (it runs as
/// root): then no test may skip itself.
pub const REQUIRE_ALL_TESTS: &str = "CIVIC_REQUIRE_ALL_TESTS";

/// A test that cannot set up its file system: fails when [`REQUIRE_ALL_TESTS`] is set,
/// otherwise says why it is skipped.
pub fn cannot_run(test: &str, why: &str) {
    assert!(
        std::env::var_os(REQUIRE_ALL_TESTS).is_none(),
        "{test}: cannot simulate storage faults here ({REQUIRE_ALL_TESTS} is set): {why}"
    );
    // Straight to stderr, past the test harness's capture, so the skip shows in every run.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {why} (needs root and mount; with {REQUIRE_ALL_TESTS} set this fails)"
    );
}

/// A file system mounted for one test, unmounted (with its loop device) when dropped.
pub struct Mount {
    /// The mount point, used as the issuer's data directory.
    pub point: PathBuf,
    /// The ext4 image behind a loop mount.
    pub image: Option<PathBuf>,
    /// Holds the mount point and the image; removed after unmounting.
    _dir: tempfile::TempDir,
}

impl Mount {
    fn new_dir() -> Result<(tempfile::TempDir, PathBuf), String> {
        if run("id", &["-u"])?.trim() != "0" {
            return Err("not running as root".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let point = dir.path().join("data");
        std::fs::create_dir(&point).map_err(|e| e.to_string())?;
        Ok((dir, point))
    }

    /// A tmpfs of `size` (e.g. `4m`).
    pub fn tmpfs(size: &str) -> Result<Mount, String> {
        let (dir, point) = Self::new_dir()?;
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                path(&point),
            ],
        )?;
        Ok(Mount {
            point,
            image: None,
            _dir: dir,
        })
    }

    /// An ext4 file system of `mib` MiB in an image on a loop device, which turns read-only on
    /// its first error.
    pub fn ext4(mib: u32) -> Result<Mount, String> {
        let (dir, point) = Self::new_dir()?;
        let image = dir.path().join("fs.img");
        let f = std::fs::File::create(&image).map_err(|e| e.to_string())?;
        f.set_len(u64::from(mib) << 20).map_err(|e| e.to_string())?;
        run("mkfs.ext4", &["-q", "-F", "-m", "0", path(&image)])?;
        let mount = Mount {
            point,
            image: Some(image),
            _dir: dir,
        };
        mount.mount_image()?;
        Ok(mount)
    }

    pub fn mount_image(&self) -> Result<(), String> {
        let image = self.image.as_deref().ok_or("no image")?;
        run(
            "mount",
            &[
                "-o",
                "loop,errors=remount-ro",
                path(image),
                path(&self.point),
            ],
        )
        .map(drop)
    }

    pub fn remount(&self, options: &str) -> Result<(), String> {
        run(
            "mount",
            &["-o", &format!("remount,{options}"), path(&self.point)],
        )
        .map(drop)
    }

    /// Makes the kernel turn the ext4 file system read-only, as after an I/O error.
    pub fn trigger_ext4_error(&self) -> Result<(), String> {
        let dev = run("findmnt", &["-n", "-o", "SOURCE", path(&self.point)])?;
        let name = dev.trim().rsplit('/').next().unwrap_or_default().to_owned();
        std::fs::write(
            format!("/sys/fs/ext4/{name}/trigger_fs_error"),
            "storage fault test",
        )
        .map_err(|e| format!("trigger_fs_error on {name}: {e}"))
    }

    pub fn is_mounted(&self) -> bool {
        run("mountpoint", &["-q", path(&self.point)]).is_ok()
    }

    /// Unmounts, retrying while a process that just died still holds files.
    pub fn unmount(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            match run("umount", &[path(&self.point)]) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if self.is_mounted() && self.unmount().is_err() {
            // Detach it anyway so nothing stays mounted after the test.
            let _ = run("umount", &["-l", path(&self.point)]);
        }
    }
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Fills the file system of `dir` with a file, then frees `free` bytes of it.
pub fn fill_leaving(dir: &Path, free: u64) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0xa5u8; 64 * 1024];
    loop {
        match f.write_all(&chunk) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    let len = f.metadata().expect("filler size").len();
    f.set_len(len.saturating_sub(free)).expect("free some");
    path
}
