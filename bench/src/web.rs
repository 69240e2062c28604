//! What the HTTP benchmarks share: their common knobs, a minimal keep-alive
//! HTTP/1.1 client for checks, wrk runs in rounds (`--latency`, closed loop) and
//! their report, the real server on a free port, and Datasette started as a peer
//! on a standalone SQLite file.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gongshu_server::Config;
use gongshu_services::App;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

use crate::machine::{env_path, env_usize, which};
use crate::report::{median, thousands};

/// The knobs every HTTP benchmark reads: GONGSHU_BENCH_SECONDS (10 per wrk run),
/// GONGSHU_BENCH_ROUNDS (3), GONGSHU_BENCH_CONNECTIONS (64),
/// GONGSHU_BENCH_WRK_THREADS (1), GONGSHU_BENCH_WRK (wrk on `PATH`),
/// GONGSHU_BENCH_DATASETTE (the peer; skipped without it), GONGSHU_BENCH_WAIT_QUIET
/// (1: before each measurement wait until no rustc, cargo or node process other
/// than the bench's own runs; 0: don't wait; only with `--bench`).
pub struct Knobs {
    /// Run with `--bench` (the measurement), not as a smoke test.
    pub full: bool,
    pub seconds: usize,
    pub rounds: usize,
    pub connections: usize,
    pub wrk_threads: usize,
    pub wait_quiet: bool,
    pub wrk: Option<PathBuf>,
    pub datasette: Option<PathBuf>,
}

impl Knobs {
    pub fn from_env(full: bool) -> Self {
        Self {
            full,
            seconds: env_usize("GONGSHU_BENCH_SECONDS", 10).max(1),
            rounds: env_usize("GONGSHU_BENCH_ROUNDS", 3).max(1),
            connections: env_usize("GONGSHU_BENCH_CONNECTIONS", 64).max(1),
            wrk_threads: env_usize("GONGSHU_BENCH_WRK_THREADS", 1).max(1),
            wait_quiet: full && env_usize("GONGSHU_BENCH_WAIT_QUIET", 1) != 0,
            wrk: env_path("GONGSHU_BENCH_WRK").or_else(|| which("wrk")),
            datasette: env_path("GONGSHU_BENCH_DATASETTE"),
        }
    }
}

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 keep-alive client (GET only; Content-Length or chunked bodies).

pub struct Http {
    stream: TcpStream,
    buf: Vec<u8>,
}

pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Http {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Reads more bytes into the buffer; an error at the end of the stream.
    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed inside a reply",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// The index just past the first `pattern` at or after `from`.
    fn find(&self, from: usize, pattern: &[u8]) -> Option<usize> {
        self.buf[from..]
            .windows(pattern.len())
            .position(|w| w == pattern)
            .map(|i| from + i + pattern.len())
    }

    /// Sends one prepared request and reads its whole reply (Content-Length or
    /// chunked body).
    pub async fn exchange(&mut self, request: &[u8]) -> std::io::Result<Reply> {
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
        self.stream.write_all(request).await?;
        self.buf.clear();
        let head_end = loop {
            if let Some(end) = self.find(0, b"\r\n\r\n") {
                break end;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| bad("head not UTF-8"))?
            .to_string();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status"))?;
        let header = |name: &str| header_value(&head, name).map(str::to_ascii_lowercase);
        if let Some(length) = header("content-length") {
            let length: usize = length.parse().map_err(|_| bad("bad Content-Length"))?;
            while self.buf.len() < head_end + length {
                self.fill().await?;
            }
            return Ok(Reply {
                status,
                body: self.buf[head_end..head_end + length].to_vec(),
            });
        }
        if !header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            return Err(bad("neither Content-Length nor chunked"));
        }
        let mut body = Vec::new();
        let mut pos = head_end;
        loop {
            let line_end = loop {
                if let Some(end) = self.find(pos, b"\r\n") {
                    break end;
                }
                self.fill().await?;
            };
            let size_text = std::str::from_utf8(&self.buf[pos..line_end - 2])
                .map_err(|_| bad("chunk size not UTF-8"))?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                // No trailers expected: the blank line ends the reply.
                while self.find(line_end, b"\r\n").is_none() {
                    self.fill().await?;
                }
                return Ok(Reply { status, body });
            }
            while self.buf.len() < line_end + size + 2 {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buf[line_end..line_end + size]);
            pos = line_end + size + 2;
        }
    }
}

/// The value of header `name` in a reply's head (status line and header lines).
pub fn header_value<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The header line of a bearer token.
pub fn bearer(secret: &str) -> String {
    format!("Authorization: Bearer {secret}")
}

/// A GET of `path`, with one extra header line (`Name: value`) if given.
pub fn get_request(path: &str, header: Option<&str>) -> Vec<u8> {
    let extra = header.map(|h| format!("{h}\r\n")).unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n").into_bytes()
}

/// One GET on a new connection.
pub async fn get_once(
    addr: SocketAddr,
    path: &str,
    header: Option<&str>,
) -> std::io::Result<Reply> {
    Http::connect(addr)
        .await?
        .exchange(&get_request(path, header))
        .await
}

// ---------------------------------------------------------------------------
// wrk.

#[derive(Debug, Clone, Default)]
pub struct WrkRun {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub non_2xx: u64,
    pub socket_errors: u64,
}

/// "1.23ms" / "850.00us" / "1.02s" → milliseconds.
fn wrk_time_ms(text: &str) -> Option<f64> {
    let t = text.trim();
    let (num, scale) = if let Some(v) = t.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = t.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = t.strip_suffix('m') {
        (v, 60_000.0)
    } else if let Some(v) = t.strip_suffix('s') {
        (v, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|v| v * scale)
}

fn parse_wrk(out: &str) -> Option<WrkRun> {
    let mut run = WrkRun::default();
    for line in out.lines() {
        let l = line.trim();
        if let Some(v) = l.strip_prefix("Requests/sec:") {
            run.rps = v.trim().parse().ok()?;
        } else if let Some(v) = l.strip_prefix("50%") {
            run.p50_ms = wrk_time_ms(v)?;
        } else if let Some(v) = l.strip_prefix("99%") {
            run.p99_ms = wrk_time_ms(v)?;
        } else if l.contains(" requests in ") {
            run.requests = l.split_whitespace().next()?.parse().ok()?;
        } else if let Some(v) = l.strip_prefix("Non-2xx or 3xx responses:") {
            run.non_2xx = v.trim().parse().ok()?;
        } else if let Some(v) = l.strip_prefix("Socket errors:") {
            run.socket_errors = v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        }
    }
    (run.rps > 0.0).then_some(run)
}

/// Where a wrk run goes.
pub enum Target<'a> {
    /// One fixed path (and query).
    Fixed(&'a str),
    /// `<prefix><key><suffix>`, the keys taken in turn from a file, one a line
    /// (`bench/wrk/lookup.lua`).
    Keys {
        ids_file: &'a Path,
        prefix: &'a str,
        suffix: &'a str,
    },
    /// One fixed path, each request sending the next secret of a file (one a
    /// line) in the header `header` (`bench/wrk/header_keys.lua`).
    HeaderKeys {
        keys_file: &'a Path,
        header: &'a str,
        path: &'a str,
    },
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("wrk").join(name)
}

/// Runs wrk for `seconds` against `base` (`http://host:port`), with one extra
/// header line if given. Fails if wrk fails or any reply was not 2xx.
pub fn wrk(
    knobs: &Knobs,
    base: &str,
    target: &Target<'_>,
    header: Option<&str>,
    seconds: usize,
) -> WrkRun {
    let program = knobs.wrk.as_ref().expect("wrk");
    let mut cmd = Command::new(program);
    cmd.arg(format!("-t{}", knobs.wrk_threads))
        .arg(format!("-c{}", knobs.connections))
        .arg(format!("-d{seconds}s"))
        .arg("--latency");
    if let Some(h) = header {
        cmd.arg("-H").arg(h);
    }
    match target {
        Target::Fixed(path) => {
            cmd.arg(format!("{base}{path}"));
        }
        Target::Keys {
            ids_file,
            prefix,
            suffix,
        } => {
            cmd.arg("-s")
                .arg(script("lookup.lua"))
                .env("GONGSHU_WRK_IDS", ids_file)
                .env("GONGSHU_WRK_PREFIX", prefix)
                .env("GONGSHU_WRK_SUFFIX", suffix)
                .arg(base);
        }
        Target::HeaderKeys {
            keys_file,
            header,
            path,
        } => {
            cmd.arg("-s")
                .arg(script("header_keys.lua"))
                .env("GONGSHU_WRK_KEYS", keys_file)
                .env("GONGSHU_WRK_HEADER", header)
                .env("GONGSHU_WRK_PATH", path)
                .arg(base);
        }
    }
    let out = cmd.output().expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "wrk failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let run = parse_wrk(&text).unwrap_or_else(|| panic!("cannot read wrk's report:\n{text}"));
    assert!(
        run.non_2xx == 0,
        "{} of {} replies were not 2xx; the figures would be meaningless:\n{text}",
        run.non_2xx,
        run.requests
    );
    run
}

pub fn wrk_line(label: &str, r: &WrkRun) -> String {
    format!(
        "{label}: {} req/s, p50 {:.2} ms, p99 {:.2} ms ({} requests, {} socket errors)",
        thousands(r.rps),
        r.p50_ms,
        r.p99_ms,
        r.requests,
        r.socket_errors
    )
}

/// One side of a comparison, driven by wrk, with its runs.
pub struct Side<'a> {
    pub label: &'static str,
    pub base: String,
    pub target: Target<'a>,
    /// An extra header line sent with every request.
    pub header: Option<String>,
    pub runs: Vec<WrkRun>,
}

impl Side<'_> {
    pub fn run(&self, knobs: &Knobs, seconds: usize) -> WrkRun {
        wrk(
            knobs,
            &self.base,
            &self.target,
            self.header.as_deref(),
            seconds,
        )
    }
    pub fn rps(&self) -> f64 {
        median(self.runs.iter().map(|r| r.rps).collect())
    }
    pub fn p50(&self) -> f64 {
        median(self.runs.iter().map(|r| r.p50_ms).collect())
    }
    pub fn p99(&self) -> f64 {
        median(self.runs.iter().map(|r| r.p99_ms).collect())
    }
    /// Median of the per-round ratios of this side's rate to `other`'s.
    pub fn ratio(&self, other: &Side<'_>) -> f64 {
        median(
            self.runs
                .iter()
                .zip(&other.runs)
                .map(|(a, b)| a.rps / b.rps)
                .collect(),
        )
    }
}

// ---------------------------------------------------------------------------
// The server measured.

/// The real server (`gongshu_server::serve`) on 127.0.0.1:0, running on the
/// caller's runtime as `gongshu serve` runs it.
pub struct Server {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    pub async fn start(app: Arc<App>, config: Config) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gongshu_server::serve(app, config, listener, async {
            let _ = rx.await;
        }));
        Server {
            addr,
            base: format!("http://{addr}"),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Shuts the server down and waits (up to 30 s) for it to stop; fails if it
    /// stopped with an error.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(30), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => panic!("server stopped with an error: {e}"),
                Ok(Err(e)) => panic!("server task failed: {e}"),
                Err(_) => println!("  note: the server did not stop within 30 s"),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Datasette: a peer serving a standalone SQLite file.

pub struct Datasette {
    child: Child,
    pub addr: SocketAddr,
}

impl Datasette {
    /// `datasette -i <db>` (immutable) on a free port of 127.0.0.1, with its
    /// default settings; returns once it answers.
    pub fn start(program: &Path, db: &Path, rt: &Runtime) -> Datasette {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(program)
            .arg("-i")
            .arg(db)
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let start = Instant::now();
        loop {
            let up = rt.block_on(get_once(addr, "/-/versions.json", None));
            if matches!(up, Ok(ref r) if r.status == 200) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "Datasette did not come up on {addr}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Datasette { child, addr }
    }

    pub fn version(&self, rt: &Runtime) -> String {
        rt.block_on(get_once(self.addr, "/-/versions.json", None))
            .ok()
            .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
            .and_then(|v| v["datasette"]["version"].as_str().map(str::to_string))
            .unwrap_or_else(|| "?".into())
    }
}

impl Drop for Datasette {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_are_read() {
        let out = "Running 10s test @ http://127.0.0.1:1/\n  1 threads and 64 connections\n  \
                   Latency Distribution\n     50%  850.00us\n     75%    1.10ms\n     90%    \
                   1.50ms\n     99%    2.02s\n  123456 requests in 10.00s, 1.00MB read\n  \
                   Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx \
                   responses: 3\nRequests/sec:  12345.60\nTransfer/sec:      1.00MB\n";
        let r = parse_wrk(out).expect("a report");
        assert_eq!(r.requests, 123_456);
        assert_eq!(r.non_2xx, 3);
        assert_eq!(r.socket_errors, 3);
        assert!((r.rps - 12_345.6).abs() < 1e-6);
        assert!((r.p50_ms - 0.85).abs() < 1e-9);
        assert!((r.p99_ms - 2020.0).abs() < 1e-9);
        assert!(parse_wrk("no report").is_none());
    }
}
