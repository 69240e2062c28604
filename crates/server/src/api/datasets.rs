//! COL-1 … COL-4, COL-9, GOV-1 … GOV-3: mounting data (uploads, pushed batches,
//! offline deliveries), load history, rejected rows, rollback, quality, freshness,
//! base databases and discrepancies.
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gongshu_services::dataset_input::{InputFormat, TextEncoding};
use gongshu_services::datasets::{
    self, Channel, DatasetView, ExportFormat, LoadMode, LoadOptions, PushBatch,
};
use gongshu_services::egress::{RecordedFile, RejectsFormat};
use gongshu_services::governance::{
    self, BuildReport, CrossCheckReport, QualityHistory, QualityOverview, QualitySubject,
};
use gongshu_services::ServiceError;
use gongshu_store::{Dataset, DatasetLoad, Discrepancy, DiscrepancyFilter, RejectedRow};

use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::api::catalog_sheet::{download, XLSX};
use crate::api::sharing::spooled_body;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

/// Largest file one upload may carry.
pub const MAX_UPLOAD_BYTES: u64 = 64 * 1024 * 1024 * 1024;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// `csv`, `xlsx`, `json` or `ndjson`; taken from `file_name` when absent.
    #[serde(default)]
    pub format: Option<String>,
    /// CSV only: `utf-8`, `gbk` or `gb18030`; detected when absent.
    #[serde(default)]
    pub encoding: Option<String>,
    /// `replace` (default) or `upsert`.
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub file_name: Option<String>,
    /// XJ 22: an offline delivery's filing number; makes the load an offline delivery.
    #[serde(default)]
    pub filing_no: Option<String>,
    #[serde(default)]
    pub filing_note: Option<String>,
    /// A retried upload with the same key returns the first outcome and is never
    /// loaded twice (a lower-level platform's report uses one per data version).
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The file's SM3 as the sender computed it (64 hex digits): a file that
    /// arrives otherwise fails its load with `dataset.checksum_mismatch`.
    #[serde(default)]
    pub sm3: Option<String>,
}

fn bad_param(code: &str, field: &str, zh: String, en: String) -> ServiceError {
    ServiceError::invalid(code, field, zh, en)
}

/// The load options an upload's query asks for.
pub fn upload_options(q: &UploadQuery) -> Result<LoadOptions, ServiceError> {
    let format = match (&q.format, &q.file_name) {
        (Some(f), _) => InputFormat::parse(f).ok_or_else(|| {
            bad_param(
                "dataset.format_unknown",
                "format",
                format!("不支持的格式“{f}”：可用 csv、xlsx、json、ndjson"),
                format!("unsupported format '{f}': csv, xlsx, json or ndjson"),
            )
        })?,
        (None, Some(name)) => InputFormat::from_file_name(name).ok_or_else(|| {
            bad_param(
                "dataset.format_unknown",
                "file_name",
                format!("无法从文件名“{name}”判断格式，请指定 format"),
                format!("cannot tell the format from '{name}': give format"),
            )
        })?,
        (None, None) => InputFormat::Csv,
    };
    let channel = if q.filing_no.is_some() {
        Channel::Offline
    } else {
        Channel::Upload
    };
    let mut opts = LoadOptions::new(channel, format);
    opts.encoding = match &q.encoding {
        Some(e) => Some(TextEncoding::parse(e).ok_or_else(|| {
            bad_param(
                "dataset.encoding_unknown",
                "encoding",
                format!("不支持的编码“{e}”：可用 utf-8、gbk、gb18030"),
                format!("unsupported encoding '{e}': utf-8, gbk or gb18030"),
            )
        })?),
        None => None,
    };
    opts.mode = match q.mode.as_deref() {
        None | Some("replace") => LoadMode::Replace,
        Some("upsert") => LoadMode::Upsert,
        Some(other) => {
            return Err(bad_param(
                "dataset.mode_unknown",
                "mode",
                format!("载入方式“{other}”无效：可用 replace 或 upsert"),
                format!("unknown mode '{other}': replace or upsert"),
            ))
        }
    };
    opts.file_name = q.file_name.clone();
    opts.filing_no = q.filing_no.clone();
    opts.filing_note = q.filing_note.clone();
    opts.idempotency_key = q.idempotency_key.clone();
    if let Some(sm3) = &q.sm3 {
        if sm3.len() != 64 || !sm3.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad_param(
                "dataset.sm3_invalid",
                "sm3",
                "SM3 校验值须为 64 位十六进制数".into(),
                "an SM3 checksum is 64 hexadecimal digits".into(),
            ));
        }
        opts.expected_sm3 = Some(sm3.to_ascii_lowercase());
    }
    Ok(opts)
}

/// Where uploads are spooled before they are read.
pub fn spool_dir(s: &AppState) -> PathBuf {
    s.config.data_dir.join("spool")
}

/// Streams a request body to a new spool file, frame by frame.
pub async fn spool_body(s: &AppState, body: Body) -> ApiResult<SpooledFile> {
    let dir = spool_dir(s);
    tokio::fs::create_dir_all(&dir).await.map_err(io_error)?;
    let path = dir.join(format!("upload-{}", uuid::Uuid::now_v7()));
    let spooled = SpooledFile(path.clone());
    let mut file = tokio::fs::File::create(&path).await.map_err(io_error)?;
    let mut body = body;
    let mut written: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "input.upload_interrupted",
                format!("上传中断：{e}"),
                format!("the upload was interrupted: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            written += data.len() as u64;
            if written > MAX_UPLOAD_BYTES {
                return Err(crate::extract::too_large());
            }
            file.write_all(&data).await.map_err(io_error)?;
        }
    }
    file.flush().await.map_err(io_error)?;
    Ok(spooled)
}

/// A spooled upload, removed when dropped.
pub struct SpooledFile(pub PathBuf);

impl Drop for SpooledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn io_error(e: std::io::Error) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "dataset.spool_failed",
        format!("暂存上传文件失败：{e}"),
        format!("spooling the upload failed: {e}"),
    )
}

/// 201 with the load when it was applied; 422 with the load (its error and counts)
/// when it failed or was refused — the previous version then stays current.
fn load_response(load: DatasetLoad) -> Response {
    let status = if load.status == "applied" {
        StatusCode::CREATED
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, Json(load)).into_response()
}

/// COL-1: uploads a file (the request body) as a new version of a resource's data:
/// CSV (UTF-8, GBK or GB18030), XLSX, JSON or NDJSON. Good rows are applied and bad
/// ones kept with their reasons, unless the resource refuses loads with bad rows.
#[utoipa::path(post, path = "/api/v1/datasets/{resource}/loads", tag = "data",
    params(("resource" = String, Path, description = "Catalog entry id or resource code"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = DatasetLoad), (status = 422, body = DatasetLoad, description = "The load failed or was refused; nothing changed"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn upload(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Body,
) -> ApiResult<Response> {
    let opts = upload_options(&q)?;
    let file = spool_body(&s, body).await?;
    let load = datasets::load_file(&s.app, &ctx, &resource, &file.0, opts).await?;
    Ok(load_response(load))
}

/// COL-1: a batch from a department's front-end exchange node (前置机). A retried
/// batch with the same idempotency key is answered with its first outcome (200)
/// and never applied twice.
#[utoipa::path(post, path = "/api/v1/datasets/{resource}/push", tag = "data",
    params(("resource" = String, Path)), request_body = PushBatch,
    responses((status = 201, body = DatasetLoad), (status = 200, body = DatasetLoad, description = "Already received: the first outcome"),
        (status = 422, body = DatasetLoad), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn push(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
    ApiJson(batch): ApiJson<PushBatch>,
) -> ApiResult<Response> {
    let (load, replayed) = datasets::push_batch(&s.app, &ctx, &resource, batch).await?;
    if replayed {
        return Ok((StatusCode::OK, Json(load)).into_response());
    }
    Ok(load_response(load))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DatasetListQuery {
    #[serde(default)]
    pub org_id: Option<String>,
}

/// COL-2: mounted resources (of one department, or all for quality readers).
#[utoipa::path(get, path = "/api/v1/datasets", tag = "data", params(DatasetListQuery),
    responses((status = 200, body = [Dataset]), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<DatasetListQuery>,
) -> ApiResult<Json<Vec<Dataset>>> {
    Ok(Json(
        datasets::list(&s.app, &ctx, q.org_id.as_deref()).await?,
    ))
}

/// COL-2: a mounted resource with its Table Schema (Frictionless, with grade,
/// sensitivity and key roles).
#[utoipa::path(get, path = "/api/v1/datasets/{resource}", tag = "data", params(("resource" = String, Path)),
    responses((status = 200, body = DatasetView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
) -> ApiResult<Json<DatasetView>> {
    Ok(Json(datasets::get(&s.app, &ctx, &resource).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    #[serde(default)]
    pub limit: Option<i64>,
}

/// COL-2: the load history of a resource, newest first: who, when, rows accepted
/// and rejected, the checksum of what was delivered.
#[utoipa::path(get, path = "/api/v1/datasets/{resource}/loads", tag = "data", params(("resource" = String, Path), LimitQuery),
    responses((status = 200, body = [DatasetLoad]), (status = 403, body = ErrorBody)))]
pub async fn loads(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<Json<Vec<DatasetLoad>>> {
    Ok(Json(
        datasets::loads(&s.app, &ctx, &resource, q.limit.unwrap_or(100)).await?,
    ))
}

/// COL-2: puts the previous version back.
#[utoipa::path(post, path = "/api/v1/datasets/{resource}/rollback", tag = "data", params(("resource" = String, Path)),
    responses((status = 200, body = Dataset), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn rollback(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
) -> ApiResult<Json<Dataset>> {
    Ok(Json(datasets::rollback(&s.app, &ctx, &resource).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// `quarantine` or `reject`.
    pub policy: String,
}

/// COL-3: whether loads with bad rows are refused whole or quarantine the bad rows.
#[utoipa::path(put, path = "/api/v1/datasets/{resource}/policy", tag = "data", params(("resource" = String, Path)),
    request_body = PolicyInput,
    responses((status = 200, body = Dataset), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
    ApiJson(input): ApiJson<PolicyInput>,
) -> ApiResult<Json<Dataset>> {
    Ok(Json(
        datasets::set_policy(&s.app, &ctx, &resource, &input.policy).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecrecyReviewInput {
    /// `cleared` (不涉及国家秘密，同意汇聚) or `state_secret` (涉及国家秘密，不得汇聚).
    pub conclusion: String,
    /// The reviewer's opinion (审查意见), at most 2,000 characters.
    #[serde(default)]
    pub note: String,
    /// The column names the reviewer looked at. When given, the review is
    /// refused (409 `dataset.secrecy_items_changed`) unless they are the entry's
    /// items now; without them, it covers the entry's current items.
    #[serde(default)]
    pub items: Option<Vec<String>>,
}

/// COL-6 (CZ 33): the providing department records its secrecy review of the
/// resource's current data items. Loads are refused (409) until one clears them
/// all. Recorded by a signed-in person of that department, not by an API token.
#[utoipa::path(post, path = "/api/v1/datasets/{resource}/secrecy-review", tag = "data", params(("resource" = String, Path)),
    request_body = SecrecyReviewInput,
    responses((status = 200, body = Dataset), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn record_secrecy_review(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
    ApiJson(input): ApiJson<SecrecyReviewInput>,
) -> ApiResult<Json<Dataset>> {
    Ok(Json(
        datasets::record_secrecy_review(
            &s.app,
            &ctx,
            &resource,
            datasets::SecrecyReviewInput {
                conclusion: &input.conclusion,
                note: &input.note,
                items_seen: input.items.as_deref(),
            },
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RowsQuery {
    #[serde(default)]
    pub after_load: Option<i64>,
    #[serde(default)]
    pub after_row: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowsPage {
    pub columns: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<gongshu_store::StoredRow>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `csv` (default), `ndjson`, `xlsx` (up to 1,048,575 rows) or `parquet`.
    #[serde(default)]
    pub format: Option<String>,
}

/// COL-2: the delivering department downloads every current row of its resource,
/// as `gongshu export` writes them. The read is recorded with the rows and the SM3
/// of the file (also sent as `X-Gongshu-Rows` and `X-Gongshu-Sm3`) before the
/// first byte is sent.
#[utoipa::path(get, path = "/api/v1/datasets/{resource}/export", tag = "data",
    params(("resource" = String, Path), ExportQuery),
    responses((status = 200, description = "The file; X-Gongshu-Rows the rows, X-Gongshu-Sm3 the hash the access record keeps", content_type = "application/octet-stream"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let text = q.format.as_deref().unwrap_or("csv");
    let format = ExportFormat::parse(text).ok_or_else(|| {
        ServiceError::invalid(
            "dataset.bad_export_format",
            "format",
            format!("不支持的导出格式“{text}”：可用 csv、ndjson、xlsx、parquet"),
            format!("unsupported export format '{text}': csv, ndjson, xlsx or parquet"),
        )
    })?;
    let (view, file) = datasets::export_file(&s.app, &ctx, &resource, format).await?;
    let ext = format.extension();
    Ok(recorded_file_response(
        format.content_type(),
        (
            &format!("{}.{ext}", view.code),
            &format!("{}.{ext}", view.name),
        ),
        file,
    ))
}

/// The delivering department's own view of its current rows (audited).
#[utoipa::path(get, path = "/api/v1/datasets/{resource}/rows", tag = "data", params(("resource" = String, Path), RowsQuery),
    responses((status = 200, body = RowsPage), (status = 403, body = ErrorBody)))]
pub async fn rows(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
    ApiQuery(q): ApiQuery<RowsQuery>,
) -> ApiResult<Json<RowsPage>> {
    let after = q.after_load.map(|l| (l, q.after_row.unwrap_or(0)));
    let (dataset, rows) =
        datasets::preview(&s.app, &ctx, &resource, after, q.limit.unwrap_or(100)).await?;
    Ok(Json(RowsPage {
        columns: dataset
            .schema
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect(),
        rows,
    }))
}

/// One load.
#[utoipa::path(get, path = "/api/v1/loads/{id}", tag = "data", params(("id" = String, Path)),
    responses((status = 200, body = DatasetLoad), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_load(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DatasetLoad>> {
    Ok(Json(datasets::load(&s.app, &ctx, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RejectsQuery {
    #[serde(default)]
    pub after_row: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// COL-3: a load's rejected rows as delivered, with row number, column, error code
/// and message.
#[utoipa::path(get, path = "/api/v1/loads/{id}/rejects", tag = "data", params(("id" = String, Path), RejectsQuery),
    responses((status = 200, body = [RejectedRow]), (status = 403, body = ErrorBody)))]
pub async fn rejects(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RejectsQuery>,
) -> ApiResult<Json<Vec<RejectedRow>>> {
    Ok(Json(
        datasets::rejects(
            &s.app,
            &ctx,
            &id,
            q.after_row.unwrap_or(0),
            q.limit.unwrap_or(1000),
        )
        .await?,
    ))
}

/// COL-3: the rejected rows as CSV (UTF-8 with BOM). The read is recorded with
/// the rows and the SM3 of these bytes (also sent as `X-Gongshu-Sm3`) before the
/// first byte is sent.
#[utoipa::path(get, path = "/api/v1/loads/{id}/rejects.csv", tag = "data", params(("id" = String, Path)),
    responses((status = 200, description = "CSV file; X-Gongshu-Rows the rows, X-Gongshu-Sm3 the hash the access record keeps", content_type = "text/csv")))]
pub async fn rejects_csv(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let file = datasets::rejects_file(&s.app, &ctx, &id, RejectsFormat::Csv).await?;
    Ok(recorded_file_response(
        "text/csv; charset=utf-8",
        (&format!("rejects-{id}.csv"), &format!("不合格行-{id}.csv")),
        file,
    ))
}

/// COL-3: the rejected rows as XLSX, recorded as the CSV is.
#[utoipa::path(get, path = "/api/v1/loads/{id}/rejects.xlsx", tag = "data", params(("id" = String, Path)),
    responses((status = 200, description = "XLSX file; X-Gongshu-Rows the rows, X-Gongshu-Sm3 the hash the access record keeps", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody)))]
pub async fn rejects_xlsx(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let file = datasets::rejects_file(&s.app, &ctx, &id, RejectsFormat::Xlsx).await?;
    Ok(recorded_file_response(
        XLSX,
        (
            &format!("rejects-{id}.xlsx"),
            &format!("不合格行-{id}.xlsx"),
        ),
        file,
    ))
}

fn recorded_file_response(
    content_type: &'static str,
    (ascii_name, utf8_name): (&str, &str),
    file: RecordedFile,
) -> Response {
    let mut response = download(content_type, ascii_name, utf8_name, spooled_body(file.body));
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-gongshu-rows", file.rows.to_string()),
        ("x-gongshu-sm3", file.response_hash),
    ] {
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            headers.insert(axum::http::HeaderName::from_static(name), v);
        }
    }
    response
}

/// GOV-1, GOV-3: quality per resource and per department on six dimensions.
#[utoipa::path(get, path = "/api/v1/quality", tag = "data",
    responses((status = 200, body = QualityOverview), (status = 403, body = ErrorBody)))]
pub async fn quality(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<QualityOverview>> {
    Ok(Json(governance::quality_overview(&s.app, &ctx).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QualityHistoryQuery {
    /// The resource (catalog entry id) whose history is read; or give `org_id`.
    #[serde(default)]
    pub resource_id: Option<String>,
    /// The department whose history is read; or give `resource_id`.
    #[serde(default)]
    pub org_id: Option<String>,
    /// How many days back, today included (1 to 1830, default 90).
    #[serde(default)]
    pub days: Option<u32>,
}

/// GOV-1, GOV-3: a resource's or a department's quality day by day: each day's
/// six dimensions as the day's last measurement left them.
#[utoipa::path(get, path = "/api/v1/quality/history", tag = "data", params(QualityHistoryQuery),
    responses((status = 200, body = QualityHistory), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn quality_history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<QualityHistoryQuery>,
) -> ApiResult<Json<QualityHistory>> {
    let subject = QualitySubject::named(q.resource_id, q.org_id)?;
    Ok(Json(
        governance::quality_history(&s.app, &ctx, subject, q.days, chrono::Utc::now()).await?,
    ))
}

/// COL-4: mounted resources past their refresh day, with department and working
/// days overdue.
#[utoipa::path(get, path = "/api/v1/freshness/stale", tag = "data",
    responses((status = 200, body = [governance::StaleResource]), (status = 403, body = ErrorBody)))]
pub async fn stale(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<governance::StaleResource>>> {
    let today = gongshu_services::catalog::today_in_china(chrono::Utc::now());
    Ok(Json(governance::stale(&s.app, &ctx, today).await?))
}

/// COL-9: builds a base database (`population` or `legal_entity`) from the
/// departments' mounted resources, one source per attribute, then cross-checks.
#[utoipa::path(post, path = "/api/v1/bases/{base}/build", tag = "data", params(("base" = String, Path)),
    responses((status = 200, body = BuildReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn build_base(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(base): Path<String>,
) -> ApiResult<Json<BuildReport>> {
    let base = governance::require_base(&base)?;
    Ok(Json(governance::build_base(&s.app, &ctx, base).await?))
}

/// COL-9: the attributes of a base database and their source departments.
#[utoipa::path(get, path = "/api/v1/bases/{base}/attributes", tag = "data", params(("base" = String, Path)),
    responses((status = 200, body = [gongshu_store::BaseAttribute]), (status = 403, body = ErrorBody)))]
pub async fn base_attributes(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(base): Path<String>,
) -> ApiResult<Json<Vec<gongshu_store::BaseAttribute>>> {
    let base = governance::require_base(&base)?;
    Ok(Json(governance::attributes(&s.app, &ctx, base).await?))
}

/// COL-9: a base database as built, and what a rebuild would change: data items
/// mounted since or now from another resource (`pending`), attributes whose
/// source resource no longer holds them (`dropped`), and data whose source is not
/// settled (`undetermined`).
#[utoipa::path(get, path = "/api/v1/bases/{base}", tag = "data", params(("base" = String, Path)),
    responses((status = 200, body = governance::BaseStatus), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn base_status(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(base): Path<String>,
) -> ApiResult<Json<governance::BaseStatus>> {
    let base = governance::require_base(&base)?;
    Ok(Json(governance::base_status(&s.app, &ctx, base).await?))
}

/// COL-9: a person's (citizen ID) or entity's (credit code) record in a base
/// database: each attribute with its source department and load (audited).
#[utoipa::path(get, path = "/api/v1/bases/{base}/subjects/{key}", tag = "data",
    params(("base" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = governance::SubjectRecord), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn subject(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((base, key)): Path<(String, String)>,
) -> ApiResult<Json<governance::SubjectRecord>> {
    let base = governance::require_base(&base)?;
    Ok(Json(
        governance::subject_record(&s.app, &ctx, base, &key).await?,
    ))
}

/// GOV-2: runs the cross-source check of every base attribute now.
#[utoipa::path(post, path = "/api/v1/cross-checks", tag = "data",
    responses((status = 200, body = CrossCheckReport), (status = 403, body = ErrorBody)))]
pub async fn cross_check(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<CrossCheckReport>> {
    Ok(Json(
        governance::cross_check(&s.app, &ctx, None, None).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiscrepancyQuery {
    /// The source department that must act.
    #[serde(default)]
    pub org_id: Option<String>,
    /// `open`, `corrected`, `confirmed` or `agreed`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiscrepancyPage {
    pub total: i64,
    pub items: Vec<Discrepancy>,
}

/// GOV-2: discrepancies, oldest due first (a department sees those it must act on).
#[utoipa::path(get, path = "/api/v1/discrepancies", tag = "data", params(DiscrepancyQuery),
    responses((status = 200, body = DiscrepancyPage), (status = 403, body = ErrorBody)))]
pub async fn discrepancies(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<DiscrepancyQuery>,
) -> ApiResult<Json<DiscrepancyPage>> {
    let (items, total) = governance::discrepancies(
        &s.app,
        &ctx,
        DiscrepancyFilter {
            source_org_id: q.org_id,
            status: q.status,
            subject_key: q.subject,
            overdue_on: None,
            limit: Some(q.limit.unwrap_or(100).clamp(1, 1000)),
            offset: q.offset,
        },
    )
    .await?;
    Ok(Json(DiscrepancyPage { total, items }))
}

/// GOV-2: the source department settles a discrepancy: corrected or confirmed.
#[utoipa::path(post, path = "/api/v1/discrepancies/{id}/resolve", tag = "data", params(("id" = i64, Path)),
    request_body = governance::Resolution,
    responses((status = 200, body = Discrepancy), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resolve(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<governance::Resolution>,
) -> ApiResult<Json<Discrepancy>> {
    Ok(Json(governance::resolve(&s.app, &ctx, id, input).await?))
}

/// COL-1: saves where the platform pulls a resource's data from (a PostgreSQL or
/// MySQL/MariaDB table or query, or an HTTP JSON endpoint). The secret is stored
/// sealed (SM4-GCM) and never returned.
#[utoipa::path(put, path = "/api/v1/datasets/{resource}/source", tag = "data", params(("resource" = String, Path)),
    request_body = gongshu_services::sources::SourceInput,
    responses((status = 200, body = gongshu_store::DatasetSource), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_source(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
    ApiJson(input): ApiJson<gongshu_services::sources::SourceInput>,
) -> ApiResult<Json<gongshu_store::DatasetSource>> {
    Ok(Json(
        gongshu_services::sources::set(&s.app, &ctx, &resource, input).await?,
    ))
}

/// COL-1: a resource's pull connector (without its secret), with the last pull's outcome.
#[utoipa::path(get, path = "/api/v1/datasets/{resource}/source", tag = "data", params(("resource" = String, Path)),
    responses((status = 200, body = gongshu_store::DatasetSource), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_source(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
) -> ApiResult<Json<gongshu_store::DatasetSource>> {
    Ok(Json(
        gongshu_services::sources::get(&s.app, &ctx, &resource).await?,
    ))
}

/// COL-1: checks that the source answers and returns its column names.
#[utoipa::path(post, path = "/api/v1/datasets/{resource}/source/test", tag = "data", params(("resource" = String, Path)),
    responses((status = 200, body = [String]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn test_source(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(
        gongshu_services::sources::probe(&s.app, &ctx, &resource).await?,
    ))
}

/// COL-1: pulls now and loads the result as a new version (201), or records why
/// not (422) — a source failing mid-pull leaves the previous version.
#[utoipa::path(post, path = "/api/v1/datasets/{resource}/pull", tag = "data", params(("resource" = String, Path)),
    responses((status = 201, body = DatasetLoad), (status = 422, body = DatasetLoad), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pull(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
) -> ApiResult<Response> {
    let load = gongshu_services::sources::pull_now(&s.app, &ctx, &resource).await?;
    Ok(load_response(load))
}

/// COL-1: a resumable upload: the file arrives in chunks, each appended at the
/// offset the server reports, so an interrupted transfer continues where it stopped.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResumableUpload {
    pub id: String,
    pub resource: String,
    /// Bytes received so far: the offset of the next chunk.
    pub received: u64,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub filing_no: Option<String>,
    #[serde(default)]
    pub filing_note: Option<String>,
    /// The whole file's size as declared at the start: completing with fewer or
    /// more bytes is refused (409 `upload.incomplete`).
    #[serde(default)]
    pub size: Option<u64>,
    /// The whole file's SM3 as declared at the start (see `UploadQuery::sm3`).
    #[serde(default)]
    pub sm3: Option<String>,
    /// Who started it: only they may add to it or complete it.
    #[serde(skip_serializing)]
    #[serde(default)]
    pub actor: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub filing_no: Option<String>,
    #[serde(default)]
    pub filing_note: Option<String>,
    /// The whole file's size in bytes, checked when the upload is completed.
    #[serde(default)]
    pub size: Option<u64>,
    /// The whole file's SM3 (64 hex digits), checked when it is loaded.
    #[serde(default)]
    pub sm3: Option<String>,
}

/// The chunk file and the description of an upload; None for an id the server
/// never made (ids are uuids, so none can point outside the spool).
fn upload_paths(s: &AppState, id: &str) -> Option<(PathBuf, PathBuf)> {
    uuid::Uuid::parse_str(id).ok()?;
    let dir = spool_dir(s).join("resumable");
    Some((
        dir.join(format!("{id}.part")),
        dir.join(format!("{id}.json")),
    ))
}

fn upload_not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "upload.not_found",
        format!("上传不存在或已完成：{id}"),
        format!("no such upload (or it was completed): {id}"),
    )
}

async fn read_upload(
    s: &AppState,
    ctx: &gongshu_services::Ctx,
    id: &str,
) -> ApiResult<(ResumableUpload, PathBuf, PathBuf)> {
    let (part, meta) = upload_paths(s, id).ok_or_else(|| upload_not_found(id))?;
    let text = tokio::fs::read_to_string(&meta)
        .await
        .map_err(|_| upload_not_found(id))?;
    let mut upload: ResumableUpload =
        serde_json::from_str(&text).map_err(|_| upload_not_found(id))?;
    if upload.actor != ctx.principal.actor {
        return Err(upload_not_found(id));
    }
    upload.received = tokio::fs::metadata(&part)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    Ok((upload, part, meta))
}

/// COL-1: starts a resumable upload for a resource (the load options are fixed now).
#[utoipa::path(post, path = "/api/v1/datasets/{resource}/uploads", tag = "data", params(("resource" = String, Path)),
    request_body = NewUpload,
    responses((status = 201, body = ResumableUpload), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn start_upload(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(resource): Path<String>,
    ApiJson(input): ApiJson<NewUpload>,
) -> ApiResult<(StatusCode, Json<ResumableUpload>)> {
    let query = UploadQuery {
        format: input.format.clone(),
        encoding: input.encoding.clone(),
        mode: input.mode.clone(),
        file_name: input.file_name.clone(),
        filing_no: input.filing_no.clone(),
        filing_note: input.filing_note.clone(),
        idempotency_key: None,
        sm3: input.sm3.clone(),
    };
    upload_options(&query)?;
    datasets::authorize_load(&s.app, &ctx, &resource).await?;
    let upload = ResumableUpload {
        id: uuid::Uuid::now_v7().to_string(),
        resource,
        received: 0,
        file_name: input.file_name,
        format: input.format,
        encoding: input.encoding,
        mode: input.mode,
        filing_no: input.filing_no,
        filing_note: input.filing_note,
        size: input.size,
        sm3: input.sm3.map(|h| h.to_ascii_lowercase()),
        actor: ctx.principal.actor.clone(),
    };
    let (part, meta) = upload_paths(&s, &upload.id).ok_or_else(|| upload_not_found(&upload.id))?;
    if let Some(dir) = part.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    }
    tokio::fs::File::create(&part).await.map_err(io_error)?;
    let mut stored = serde_json::to_value(&upload).unwrap_or_default();
    stored["actor"] = upload.actor.clone().into();
    tokio::fs::write(&meta, stored.to_string())
        .await
        .map_err(io_error)?;
    Ok((StatusCode::CREATED, Json(upload)))
}

/// Where a resumable upload stands.
#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "data", params(("id" = String, Path)),
    responses((status = 200, body = ResumableUpload), (status = 404, body = ErrorBody)))]
pub async fn get_upload(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ResumableUpload>> {
    Ok(Json(read_upload(&s, &ctx, &id).await?.0))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChunkQuery {
    /// Must equal the bytes received so far.
    pub offset: u64,
}

/// COL-1: appends a chunk (the request body) at `offset`; a chunk at any other
/// offset is refused with 409 and the offset to resume from.
#[utoipa::path(put, path = "/api/v1/uploads/{id}", tag = "data", params(("id" = String, Path), ChunkQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ResumableUpload), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_chunk(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ChunkQuery>,
    body: Body,
) -> ApiResult<Json<ResumableUpload>> {
    let (mut upload, part, _) = read_upload(&s, &ctx, &id).await?;
    if q.offset != upload.received {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "upload.offset_mismatch",
            format!("已收到 {} 字节，请从该位置继续", upload.received),
            format!(
                "{} bytes received so far: continue from there",
                upload.received
            ),
        ));
    }
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&part)
        .await
        .map_err(io_error)?;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            // An interrupted chunk keeps what arrived; the client resumes from `received`.
            break;
        };
        if let Ok(data) = frame.into_data() {
            upload.received += data.len() as u64;
            if upload.received > MAX_UPLOAD_BYTES {
                return Err(crate::extract::too_large());
            }
            if let Some(size) = upload.size.filter(|size| upload.received > *size) {
                // The bytes before this frame stay; the client resumes from them.
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "upload.past_declared_size",
                    format!("数据超过了开始时声明的文件大小 {size} 字节"),
                    format!("the data goes past the {size} bytes declared at the start"),
                ));
            }
            file.write_all(&data).await.map_err(io_error)?;
        }
    }
    file.flush().await.map_err(io_error)?;
    Ok(Json(upload))
}

/// COL-1: loads the assembled file as a new version (201), or records why not (422).
#[utoipa::path(post, path = "/api/v1/uploads/{id}/complete", tag = "data", params(("id" = String, Path)),
    responses((status = 201, body = DatasetLoad), (status = 422, body = DatasetLoad), (status = 404, body = ErrorBody)))]
pub async fn complete_upload(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (upload, part, meta) = read_upload(&s, &ctx, &id).await?;
    if let Some(size) = upload.size.filter(|size| *size != upload.received) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "upload.incomplete",
            format!(
                "已收到 {} 字节，声明的文件大小为 {size} 字节：请从 {} 继续上传",
                upload.received, upload.received
            ),
            format!(
                "{} bytes received of the declared {size}: continue from {}",
                upload.received, upload.received
            ),
        ));
    }
    let opts = upload_options(&UploadQuery {
        format: upload.format.clone(),
        encoding: upload.encoding.clone(),
        mode: upload.mode.clone(),
        file_name: upload.file_name.clone(),
        filing_no: upload.filing_no.clone(),
        filing_note: upload.filing_note.clone(),
        idempotency_key: None,
        sm3: upload.sm3.clone(),
    })?;
    // Claimed by renaming its description: a second `complete` meanwhile finds
    // nothing, and the file is loaded once.
    let claimed = meta.with_extension("loading");
    tokio::fs::rename(&meta, &claimed)
        .await
        .map_err(|_| upload_not_found(&id))?;
    match datasets::load_file(&s.app, &ctx, &upload.resource, &part, opts).await {
        // A recorded outcome, applied or not, ends the upload.
        Ok(load) => {
            let _ = tokio::fs::remove_file(&part).await;
            let _ = tokio::fs::remove_file(&claimed).await;
            Ok(load_response(load))
        }
        // Refused before a load was recorded (another load under way, say): the
        // upload stays, to be completed again.
        Err(e) => {
            let _ = tokio::fs::rename(&claimed, &meta).await;
            Err(e.into())
        }
    }
}
