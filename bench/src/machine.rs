//! The machine a benchmark runs on: knobs from the environment, programs on `PATH`,
//! a guard that measures only while no other build runs, peak memory, timed
//! commands.
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A count from the environment (`10_000` or `10000`), else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A path from the environment, unless unset or blank.
pub fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(PathBuf::from)
}

/// Where `program` is on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// Ids of this process and its ancestors (the `cargo bench` that started it).
fn own_lineage() -> Vec<u32> {
    let mut out = vec![std::process::id()];
    let mut pid = std::process::id();
    for _ in 0..32 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            break;
        };
        // pid (comm) state ppid …; comm may hold spaces, so read after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0);
        if ppid <= 1 {
            break;
        }
        out.push(ppid);
        pid = ppid;
    }
    out
}

/// Other builds or browsers running: processes named rustc, cargo… or node.
fn busy_processes() -> Vec<String> {
    let mine = own_lineage();
    let mut busy = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return busy;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if mine.contains(&pid) {
            continue;
        }
        let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
            continue;
        };
        let comm = comm.trim();
        if comm == "rustc" || comm.starts_with("cargo") || comm == "node" {
            busy.push(format!("{pid} {comm}"));
        }
    }
    busy
}

/// The 1-minute load average, as text.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// With `wait`, waits (up to an hour) until no other build runs, then lets the
/// load settle; without it, returns at once.
pub fn quiet(wait: bool, what: &str) {
    if wait {
        let start = Instant::now();
        let mut told = false;
        loop {
            let busy = busy_processes();
            if busy.is_empty() || start.elapsed() > Duration::from_secs(3600) {
                if !busy.is_empty() {
                    println!("  (still busy after an hour, measuring anyway: {busy:?})");
                }
                break;
            }
            if !told {
                println!("  waiting for a quiet machine before {what}: {busy:?}");
                told = true;
            }
            std::thread::sleep(Duration::from_secs(10));
        }
        if told {
            println!("  quiet after {:.0}s", start.elapsed().as_secs_f64());
            // Let the load of the finished build settle a little.
            std::thread::sleep(Duration::from_secs(5));
        }
    }
}

/// Runs one measurement on a quiet machine (with `wait`). A thread watches for
/// other builds meanwhile; if one started, the measurement is thrown away and run
/// again (at most 5 times, then kept with a note).
pub fn undisturbed<T>(wait: bool, what: &str, mut measure: impl FnMut() -> T) -> T {
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut attempt = 1;
    loop {
        quiet(wait, what);
        if !wait {
            return measure();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut seen = std::collections::BTreeSet::new();
                while !stop.load(Ordering::Relaxed) {
                    for p in busy_processes() {
                        // Keep the name only: one line per kind of intruder.
                        seen.insert(p.split_once(' ').map_or(p.clone(), |(_, c)| c.to_string()));
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
                seen
            })
        };
        let out = measure();
        stop.store(true, Ordering::Relaxed);
        let seen = watcher.join().expect("watcher");
        if seen.is_empty() {
            return out;
        }
        if attempt >= 5 {
            println!(
                "    ({what}: another build ran during every attempt ({seen:?}); kept the last)"
            );
            return out;
        }
        println!("    ({what}: another build started meanwhile ({seen:?}); measuring again)");
        attempt += 1;
    }
}

/// Peak resident memory of this process so far, in MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets the peak that [`peak_rss_mib`] reads to the current resident size
/// (Linux ≥ 4.0); false where that is not possible.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Runs `cmd` to its end; its wall time in seconds. Fails on a non-zero exit.
pub fn timed(label: &str, mut cmd: Command) -> f64 {
    let started = Instant::now();
    let out = cmd.output().unwrap_or_else(|e| panic!("{label}: {e}"));
    assert!(
        out.status.success(),
        "{label}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed().as_secs_f64()
}
