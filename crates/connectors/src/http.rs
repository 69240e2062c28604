//! COL-1: pulling JSON records from an HTTP endpoint page by page.

use std::collections::HashMap;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{redirect, Client, StatusCode, Url};

use crate::error::scrub;
use crate::json::Json;
use crate::{ConnectorError, HttpPaging, PullLimits, PullSink, PullSummary};

/// The HTTP half of a `PullSource::HttpJson`.
pub(crate) struct Target<'a> {
    pub url: &'a str,
    pub records_path: &'a str,
    pub paging: &'a HttpPaging,
    pub auth_header: Option<&'a str>,
}

/// Why one page could not be fetched.
enum FetchError {
    /// No answer, a broken connection, or a timeout.
    Transport(String),
    /// The TLS handshake failed.
    Tls(String),
    /// An answer other than 2xx.
    Status(StatusCode),
    TooLarge,
}

struct Fetcher<'a> {
    client: Client,
    base: Url,
    auth: Option<(HeaderName, HeaderValue)>,
    paging: &'a HttpPaging,
    limits: &'a PullLimits,
    secret: Option<&'a str>,
}

impl<'a> Fetcher<'a> {
    fn new(
        target: &Target<'a>,
        secret: Option<&'a str>,
        limits: &'a PullLimits,
    ) -> Result<Self, ConnectorError> {
        let invalid = |reason: String| ConnectorError::SourceInvalid { reason };
        let base = Url::parse(target.url).map_err(|e| invalid(e.to_string()))?;
        let auth = match target.auth_header {
            None => None,
            Some(name) => {
                let secret = secret.ok_or(ConnectorError::SecretMissing)?;
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| invalid(format!("\"{name}\" is not a valid header name")))?;
                let mut value = HeaderValue::from_str(secret).map_err(|_| {
                    invalid("the stored token cannot be sent in an HTTP header".into())
                })?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        let client = limits
            .roots
            .client_builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.read_timeout)
            .user_agent("gongshu-connector")
            // Follow redirects only within the same origin, so the secret
            // header (whatever its name) never goes to another host.
            .redirect(redirect::Policy::custom(|attempt| {
                let same_origin = attempt
                    .previous()
                    .first()
                    .is_some_and(|first| first.origin() == attempt.url().origin());
                if attempt.previous().len() > 5 || !same_origin {
                    attempt.stop()
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|e| ConnectorError::Unreachable {
                detail: e.to_string(),
            })?;
        Ok(Self {
            client,
            base,
            auth,
            paging: target.paging,
            limits,
            secret,
        })
    }

    /// The URL of the page with 0-based `index`.
    fn page_url(&self, index: u64) -> Url {
        let mut params: Vec<(String, String)> = Vec::new();
        match self.paging {
            HttpPaging::None => return self.base.clone(),
            HttpPaging::PageNumber {
                param,
                size_param,
                size,
            } => {
                params.push((param.clone(), (index + 1).to_string()));
                if let Some(size_param) = size_param {
                    params.push((size_param.clone(), size.to_string()));
                }
            }
            HttpPaging::Offset {
                offset_param,
                limit_param,
                limit,
            } => {
                params.push((
                    offset_param.clone(),
                    (index * u64::from(*limit)).to_string(),
                ));
                params.push((limit_param.clone(), limit.to_string()));
            }
        }
        let mut url = self.base.clone();
        let kept: Vec<(String, String)> = self
            .base
            .query_pairs()
            .filter(|(k, _)| !params.iter().any(|(name, _)| name == k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .extend_pairs(params);
        url
    }

    async fn fetch(&self, index: u64) -> Result<Vec<u8>, FetchError> {
        let mut request = self
            .client
            .get(self.page_url(index))
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some((name, value)) = &self.auth {
            request = request.header(name.clone(), value.clone());
        }
        let transport = |e: reqwest::Error| match crate::tls::tls_failure(&e) {
            Some(tls) => FetchError::Tls(scrub(tls, self.secret)),
            None => FetchError::Transport(self.describe(&e)),
        };
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status));
        }
        let limit = self.limits.max_page_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// reqwest's error with its causes ("… : connection refused"), secret-free.
    fn describe(&self, err: &reqwest::Error) -> String {
        let mut text = if err.is_timeout() {
            format!(
                "no answer within {} s",
                self.limits.read_timeout.as_secs_f64()
            )
        } else {
            err.to_string()
        };
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        scrub(text, self.secret)
    }

    /// Fetches page `index` (0-based) and returns its records; `rows` is how
    /// many rows the sink already has, which decides what a failure means.
    async fn records(
        &self,
        index: u64,
        path: &str,
        rows: u64,
    ) -> Result<Vec<Json>, ConnectorError> {
        let page = index + 1;
        let body = self.fetch(index).await.map_err(|err| {
            let refused = matches!(
                err,
                FetchError::Status(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
            );
            let detail = match err {
                FetchError::TooLarge => {
                    return ConnectorError::PageTooLarge {
                        page,
                        limit: self.limits.max_page_bytes,
                    }
                }
                FetchError::Tls(detail) if rows == 0 => {
                    return ConnectorError::TlsFailed {
                        detail: format!("page {page}: {detail}"),
                    }
                }
                FetchError::Tls(detail) => format!("page {page}: {detail}"),
                FetchError::Transport(detail) => format!("page {page}: {detail}"),
                FetchError::Status(status) => format!("page {page}: HTTP {status}"),
            };
            if rows > 0 {
                ConnectorError::SourceFailedMidPull { rows, detail }
            } else if refused {
                ConnectorError::AuthFailed { detail }
            } else {
                ConnectorError::Unreachable { detail }
            }
        })?;
        let bad = |detail: String| ConnectorError::BadPage { page, detail };
        let json = Json::parse(&body).map_err(|e| bad(format!("not JSON: {e}")))?;
        match json.into_path(path).map_err(bad)? {
            Json::Array(items) => Ok(items),
            _ => Err(bad(if path.is_empty() {
                "the page is not a JSON array".to_string()
            } else {
                format!("\"{path}\" is not a JSON array")
            })),
        }
    }
}

/// Maps records to rows by the first record's keys.
struct Rows {
    columns: Option<Vec<String>>,
    index: HashMap<String, usize>,
}

impl Rows {
    fn new() -> Self {
        Self {
            columns: None,
            index: HashMap::new(),
        }
    }

    /// The record's fields in column order; the first record fixes the columns.
    /// Returns `true` in `.1` when the columns were just fixed.
    fn row(
        &mut self,
        record: &Json,
        page: u64,
        number: u64,
    ) -> Result<(Vec<String>, bool), ConnectorError> {
        let bad = |detail: String| ConnectorError::BadPage { page, detail };
        let Json::Object(fields) = record else {
            return Err(bad(format!("record {number} is not a JSON object")));
        };
        if self.columns.is_none() {
            let names: Vec<String> = fields.iter().map(|(k, _)| k.clone()).collect();
            self.index = names
                .iter()
                .enumerate()
                .map(|(i, name)| (name.clone(), i))
                .collect();
            self.columns = Some(names);
            let row = fields.iter().map(|(_, v)| v.to_field()).collect();
            return Ok((row, true));
        }
        let width = self.index.len();
        let mut row = vec![String::new(); width];
        for (key, value) in fields {
            let Some(&i) = self.index.get(key) else {
                return Err(bad(format!(
                    "record {number} has the key \"{key}\", which the first record does not have; \
                     the columns are fixed by the first record"
                )));
            };
            row[i] = value.to_field();
        }
        Ok((row, false))
    }
}

pub(crate) async fn pull(
    target: &Target<'_>,
    secret: Option<&str>,
    sink: &mut dyn PullSink,
    limits: &PullLimits,
) -> Result<PullSummary, ConnectorError> {
    let fetcher = Fetcher::new(target, secret, limits)?;
    let mut rows = Rows::new();
    let mut count: u64 = 0;
    let mut pages: u64 = 0;
    let mut previous: Option<Vec<Json>> = None;
    loop {
        if pages >= limits.max_pages {
            return Err(ConnectorError::TooManyPages {
                limit: limits.max_pages,
            });
        }
        let records = fetcher.records(pages, target.records_path, count).await?;
        pages += 1;
        let received = records.len() as u64;
        if received > 0 && previous.as_ref() == Some(&records) {
            return Err(ConnectorError::BadPage {
                page: pages,
                detail: "the page repeats the previous one; the source seems to ignore the paging parameter".into(),
            });
        }
        for record in &records {
            if count >= limits.max_rows {
                return Err(ConnectorError::TooManyRows {
                    limit: limits.max_rows,
                });
            }
            let (fields, first) = rows.row(record, pages, count + 1)?;
            if first {
                let names = rows.columns.as_deref().unwrap_or_default();
                sink.columns(names)
                    .map_err(|reason| ConnectorError::SinkRejected { row: 0, reason })?;
            }
            count += 1;
            sink.row(count, fields)
                .map_err(|reason| ConnectorError::SinkRejected { row: count, reason })?;
        }
        let done = match target.paging {
            HttpPaging::None => true,
            HttpPaging::PageNumber { .. } => received == 0,
            HttpPaging::Offset { limit, .. } => received < u64::from(*limit),
        };
        if done {
            break;
        }
        previous = Some(records);
    }
    if rows.columns.is_none() {
        // No record at all: the columns are unknown; the sink still hears of it.
        sink.columns(&[])
            .map_err(|reason| ConnectorError::SinkRejected { row: 0, reason })?;
    }
    Ok(PullSummary { rows: count, pages })
}

pub(crate) async fn probe(
    target: &Target<'_>,
    secret: Option<&str>,
    limits: &PullLimits,
) -> Result<Vec<String>, ConnectorError> {
    let fetcher = Fetcher::new(target, secret, limits)?;
    let records = fetcher.records(0, target.records_path, 0).await?;
    match records.into_iter().next() {
        None => Ok(Vec::new()),
        Some(Json::Object(fields)) => Ok(fields.into_iter().map(|(k, _)| k).collect()),
        Some(_) => Err(ConnectorError::BadPage {
            page: 1,
            detail: "record 1 is not a JSON object".into(),
        }),
    }
}
