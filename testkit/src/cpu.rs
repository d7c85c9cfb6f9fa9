//! CPU time from `/proc` (Linux), for benchmarks that keep the load generator's own work out of
//! a server's figure: the server runs on threads of its own name, the database in its cluster's
//! processes, and the time each used is read before and after the timed part.

use std::path::Path;

/// Seconds per clock tick of `/proc`'s times (`getconf CLK_TCK`, 100 on Linux).
fn tick() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .filter(|t| *t > 0.0)
        .map_or(0.01, |t| 1.0 / t)
}

/// The name and the CPU ticks (user + system, and with `children` those of reaped children)
/// in a `/proc/…/stat` file.
fn read_stat(path: &Path, children: bool) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_owned();
    // After the name: state (field 3), …, utime (14), stime (15), cutime (16), cstime (17).
    let fields: Vec<&str> = text.get(close + 2..)?.split_whitespace().collect();
    let at = |field: usize| fields.get(field - 3).and_then(|v| v.parse::<u64>().ok());
    let mut ticks = at(14)? + at(15)?;
    if children {
        ticks += at(16)? + at(17)?;
    }
    Some((name, ticks))
}

/// CPU seconds this process's threads whose name starts with `prefix` have used so far (thread
/// names are cut to 15 bytes).
pub fn threads_cpu_seconds(prefix: &str) -> f64 {
    let ticks: u64 = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| read_stat(&t.path().join("stat"), false))
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(_, t)| t)
        .sum();
    ticks as f64 * tick()
}

/// CPU seconds the processes named `name` (such as `postgres`) have used so far, with their
/// reaped children (a PostgreSQL backend that ended counts in its postmaster).
pub fn processes_cpu_seconds(name: &str) -> f64 {
    let ticks: u64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|p| read_stat(&p.path().join("stat"), true))
        .filter(|(n, _)| n == name)
        .map(|(_, t)| t)
        .sum();
    ticks as f64 * tick()
}

/// CPU seconds a PostgreSQL server has used so far: its postmaster `pid` (with the backends it
/// has reaped) and its live children. Only that cluster's: backends of a cluster stopped a
/// moment ago may still be exiting, and their time would leave the sum mid-measurement.
pub fn cluster_cpu_seconds(pid: u32) -> f64 {
    let own = read_stat(&Path::new("/proc").join(pid.to_string()).join("stat"), true)
        .map_or(0, |(_, t)| t);
    let children: u64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|p| {
            let stat = p.path().join("stat");
            (parent(&stat)? == pid)
                .then(|| read_stat(&stat, true))
                .flatten()
        })
        .map(|(_, t)| t)
        .sum();
    (own + children) as f64 * tick()
}

/// The parent pid in a `/proc/…/stat` file (field 4).
fn parent(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    let close = text.rfind(')')?;
    text.get(close + 2..)?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The name the benchmarks give their server runtime's threads.
pub const SERVER_THREADS: &str = "civic-srv";

/// CPU seconds the server side has used so far: the [`SERVER_THREADS`] of this process, and the
/// PostgreSQL cluster whose postmaster is `postmaster` when there is one.
pub fn server_cpu_seconds(postmaster: Option<u32>) -> f64 {
    threads_cpu_seconds(SERVER_THREADS) + postmaster.map_or(0.0, cluster_cpu_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_named_thread_is_counted_and_others_are_not() {
        let before = threads_cpu_seconds("cpu-test-busy");
        // Spin until /proc shows the thread's time (however busy the machine is), or give up
        // after 30 s: without the accounting the loop never ends early and the test fails.
        let counted = std::thread::Builder::new()
            .name("cpu-test-busy".into())
            .spawn(move || {
                let start = std::time::Instant::now();
                let mut x = 0u64;
                while start.elapsed().as_secs() < 30 {
                    for _ in 0..100_000 {
                        x = x.wrapping_mul(31).wrapping_add(7);
                    }
                    std::hint::black_box(x);
                    // Read while the thread is still there: an ended thread leaves /proc.
                    if threads_cpu_seconds("cpu-test-busy") - before >= 0.05 {
                        return true;
                    }
                }
                false
            })
            .expect("thread")
            .join()
            .expect("join");
        assert!(counted, "a busy thread's CPU time never showed");
        assert_eq!(threads_cpu_seconds("no-such-thread-name"), 0.0);
    }
}
