//! Shared test helpers: a collecting sink, a tiny HTTP/1.1 server on 127.0.0.1:0
//! (plain or TLS under a test authority), database URLs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gongshu_connectors::{DbTls, PullSink, PullSource, SourceQuery};

pub use crate::pki::TestPki;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// Keeps everything the pull delivered.
#[derive(Debug, Default)]
pub struct Collect {
    pub columns: Option<Vec<String>>,
    pub rows: Vec<Vec<String>>,
    pub numbers: Vec<u64>,
    /// Refuse the row with this number.
    pub refuse_at: Option<u64>,
}

impl PullSink for Collect {
    fn columns(&mut self, names: &[String]) -> Result<(), String> {
        assert!(self.columns.is_none(), "columns called twice");
        self.columns = Some(names.to_vec());
        Ok(())
    }

    fn row(&mut self, row_number: u64, fields: Vec<String>) -> Result<(), String> {
        let columns = self.columns.as_ref().expect("row before columns");
        assert_eq!(fields.len(), columns.len(), "row {row_number} width");
        if self.refuse_at == Some(row_number) {
            return Err(format!("row {row_number} refused by the test"));
        }
        self.numbers.push(row_number);
        self.rows.push(fields);
        Ok(())
    }
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// One request as the test server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub query: HashMap<String, String>,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
}

pub enum Reply {
    /// Status and JSON body.
    Json(u16, String),
    /// Close the connection without answering.
    Close,
}

pub struct Server {
    pub base: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `handler` on 127.0.0.1:0 with hand-written HTTP/1.1 answers
/// (`Connection: close`, one request per connection).
pub async fn serve<F>(handler: F) -> Server
where
    F: Fn(&Request) -> Reply + Send + Sync + 'static,
{
    listen(handler, Vec::new()).await
}

impl TestPki {
    /// Serves `handler` like [`serve`], over TLS with this authority's certificate;
    /// the base URL is `https://127.0.0.1:<port>`.
    pub async fn serve<F>(&self, handler: F) -> Server
    where
        F: Fn(&Request) -> Reply + Send + Sync + 'static,
    {
        listen(handler, vec![self.acceptor.clone()]).await
    }

    /// As [`TestPki::serve`], but from the second connection on the server
    /// presents `later`'s certificate instead of this authority's.
    pub async fn serve_then_switch<F>(&self, later: &TestPki, handler: F) -> Server
    where
        F: Fn(&Request) -> Reply + Send + Sync + 'static,
    {
        listen(handler, vec![self.acceptor.clone(), later.acceptor.clone()]).await
    }
}

/// Serves plain HTTP without `tls`; else connection `i` uses `tls[i]`, and every
/// connection past the list the last one.
async fn listen<F>(handler: F, tls: Vec<tokio_rustls::TlsAcceptor>) -> Server
where
    F: Fn(&Request) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scheme = if tls.is_empty() { "http" } else { "https" };
    let base = format!("{scheme}://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let handler = Arc::new(handler);
    let task = tokio::spawn(async move {
        for connection in 0.. {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let seen = seen.clone();
            let tls = tls.get(connection).or(tls.last()).cloned();
            tokio::spawn(async move {
                match tls {
                    None => answer(socket, handler.as_ref(), &seen).await,
                    // A client that does not trust the certificate ends the handshake.
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(socket).await {
                            answer(stream, handler.as_ref(), &seen).await;
                        }
                    }
                }
            });
        }
    });
    Server {
        base,
        requests,
        task,
    }
}

/// Reads one request from `socket` and writes the handler's answer.
async fn answer<S, F>(mut socket: S, handler: &F, seen: &Mutex<Vec<Request>>)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: Fn(&Request) -> Reply,
{
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let mut lines = head.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let request = Request {
        path: path.to_string(),
        query,
        headers,
    };
    seen.lock().unwrap().push(request.clone());
    match handler(&request) {
        Reply::Close => {}
        Reply::Json(status, body) => {
            let answer = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A test table name nobody else uses.
pub fn table_name() -> String {
    format!("col1_{}", uuid::Uuid::new_v4().simple())
}

/// Builds a database source from a URL like `postgres://user:pw@host:port/db`;
/// returns it with the password as the secret.
pub fn db_source(url: &str, mysql: bool, query: SourceQuery) -> (PullSource, Option<String>) {
    let parsed = reqwest::Url::parse(url).expect("a database URL");
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let database = parsed.path().trim_start_matches('/').to_string();
    let user = parsed.username().to_string();
    let secret = parsed.password().map(str::to_string);
    let source = if mysql {
        PullSource::MySql {
            host,
            port: parsed.port().unwrap_or(3306),
            database,
            user,
            query,
            tls: DbTls::default(),
        }
    } else {
        PullSource::Postgres {
            host,
            port: parsed.port().unwrap_or(5432),
            database,
            user,
            query,
            tls: DbTls::default(),
        }
    };
    (source, secret)
}
