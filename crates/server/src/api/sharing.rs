//! Sharing between government bodies (SHR-2 … SHR-12, GOV-5): requests and their
//! steps, grants, use reports, access records, and the data service consumers call
//! with their token. Every data-service response names the grant it was served under.
use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use gongshu_domain::sharing::Denial;
use gongshu_domain::sharing::GrantAction;
use gongshu_services::egress::{
    self, DataQuery, Download, DownloadRequest, Served, Spooled, Verified,
};
use gongshu_services::sharing::{self, NewShareRequest, NewUsageReport, StepInput};
use gongshu_services::{Ctx, ServiceError};
use gongshu_store::{AccessFilter, AccessRecord, ShareGrant, ShareRequest, UsageReport};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    pub status: Option<String>,
    /// Only requests still waiting for someone.
    #[serde(default)]
    pub open: bool,
}

/// SHR-3: a department requests another department's resource.
#[utoipa::path(post, path = "/api/v1/share/requests", tag = "sharing", request_body = NewShareRequest,
    responses((status = 201, body = ShareRequest), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn submit(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<NewShareRequest>,
) -> ApiResult<(StatusCode, Json<ShareRequest>)> {
    Ok((
        StatusCode::CREATED,
        Json(sharing::submit(&s.app, &ctx, input).await?),
    ))
}

/// CAT-5, SHR-3: one request for the resources of a scenario catalog; one share request
/// per chosen resource, filed together or not at all.
#[utoipa::path(post, path = "/api/v1/share/bundles", tag = "sharing", request_body = sharing::NewBundleRequest,
    responses((status = 201, body = [ShareRequest]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn submit_bundle(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(input): ApiJson<sharing::NewBundleRequest>,
) -> ApiResult<(StatusCode, Json<Vec<ShareRequest>>)> {
    Ok((
        StatusCode::CREATED,
        Json(sharing::submit_bundle(&s.app, &ctx, input).await?),
    ))
}

/// Requests the caller's department made or must answer (all of them for the platform and the authority).
#[utoipa::path(get, path = "/api/v1/share/requests", tag = "sharing", params(RequestQuery),
    responses((status = 200, body = [ShareRequest]), (status = 403, body = ErrorBody)))]
pub async fn list_requests(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> ApiResult<Json<Vec<ShareRequest>>> {
    Ok(Json(
        sharing::list_requests(&s.app, &ctx, q.status, q.open).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/share/requests/{id}", tag = "sharing", params(("id" = String, Path)),
    responses((status = 200, body = ShareRequest), (status = 404, body = ErrorBody)))]
pub async fn get_request(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ShareRequest>> {
    Ok(Json(sharing::get_request(&s.app, &ctx, &id).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StepOutcome {
    pub request: ShareRequest,
    /// The grant an approval issued.
    pub grant: Option<ShareGrant>,
}

/// SHR-4 … SHR-6: a step on a request (conformity check, the source's answer, a
/// dispute, the authority's coordination or filing, withdrawal).
#[utoipa::path(post, path = "/api/v1/share/requests/{id}/steps", tag = "sharing", params(("id" = String, Path)),
    request_body = StepInput,
    responses((status = 200, body = StepOutcome), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StepInput>,
) -> ApiResult<Json<StepOutcome>> {
    let (request, grant) = sharing::act(&s.app, &ctx, &id, input).await?;
    Ok(Json(StepOutcome { request, grant }))
}

/// What replaces a resource (SHR-13).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceInput {
    /// The successor's id or code; it must be published, online and hold rows.
    pub successor: String,
    pub reason: String,
}

/// SHR-13: grant holders are offered a working successor, then the resource goes offline.
#[utoipa::path(post, path = "/api/v1/share/resources/{id}/replace", tag = "sharing", params(("id" = String, Path)),
    request_body = ReplaceInput,
    responses((status = 200, body = sharing::Replacement), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn replace_resource(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReplaceInput>,
) -> ApiResult<Json<sharing::Replacement>> {
    Ok(Json(
        sharing::replace_resource(&s.app, &ctx, &id, &input.successor, &input.reason).await?,
    ))
}

/// Grants the caller's department holds or gives.
#[utoipa::path(get, path = "/api/v1/share/grants", tag = "sharing",
    responses((status = 200, body = [ShareGrant]), (status = 403, body = ErrorBody)))]
pub async fn list_grants(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ShareGrant>>> {
    Ok(Json(sharing::list_grants(&s.app, &ctx).await?))
}

#[utoipa::path(get, path = "/api/v1/share/grants/{id}", tag = "sharing", params(("id" = String, Path)),
    responses((status = 200, body = ShareGrant), (status = 404, body = ErrorBody)))]
pub async fn get_grant(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ShareGrant>> {
    Ok(Json(sharing::get_grant(&s.app, &ctx, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantChange {
    /// `suspend`, `resume` or `revoke`.
    #[schema(value_type = String)]
    pub action: GrantAction,
    pub reason: String,
}

/// SHR-9: suspend at once, resume or revoke a grant.
#[utoipa::path(post, path = "/api/v1/share/grants/{id}/status", tag = "sharing", params(("id" = String, Path)),
    request_body = GrantChange,
    responses((status = 200, body = ShareGrant), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_grant_status(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<GrantChange>,
) -> ApiResult<Json<ShareGrant>> {
    Ok(Json(
        sharing::set_grant_status(&s.app, &ctx, &id, input.action, &input.reason).await?,
    ))
}

/// SHR-12: the consumer reports how it used the data.
#[utoipa::path(post, path = "/api/v1/share/grants/{id}/usage-reports", tag = "sharing", params(("id" = String, Path)),
    request_body = NewUsageReport,
    responses((status = 201, body = UsageReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn report_usage(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewUsageReport>,
) -> ApiResult<(StatusCode, Json<UsageReport>)> {
    Ok((
        StatusCode::CREATED,
        Json(sharing::report_usage(&s.app, &ctx, &id, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/share/grants/{id}/usage-reports", tag = "sharing", params(("id" = String, Path)),
    responses((status = 200, body = [UsageReport]), (status = 404, body = ErrorBody)))]
pub async fn usage_reports(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<UsageReport>>> {
    Ok(Json(sharing::usage_reports(&s.app, &ctx, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccessQuery {
    pub source_org_id: Option<String>,
    pub consumer_org_id: Option<String>,
    pub grant_id: Option<String>,
    pub resource_id: Option<String>,
    /// `served` or `denied`.
    pub outcome: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
}

/// GOV-5: access records (the source department sees the calls on its data).
#[utoipa::path(get, path = "/api/v1/share/access", tag = "sharing", params(AccessQuery),
    responses((status = 200, body = [AccessRecord]), (status = 403, body = ErrorBody)))]
pub async fn access_log(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> ApiResult<Json<Vec<AccessRecord>>> {
    let f = AccessFilter {
        source_org_id: q.source_org_id,
        consumer_org_id: q.consumer_org_id,
        grant_id: q.grant_id,
        resource_id: q.resource_id,
        outcome: q.outcome,
        since: q.since,
        until: q.until,
        limit: q.limit.unwrap_or(500),
    };
    Ok(Json(sharing::access_log(&s.app, &ctx, f).await?))
}

/// The caller of the data service, or why there is none; a refused caller is
/// recorded by the gate before the error goes back (GOV-5).
pub struct Consumer(Result<Ctx, (ApiError, Denial)>);

impl FromRequestParts<AppState> for Consumer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let had_token = parts.headers.contains_key(header::AUTHORIZATION);
        Ok(Consumer(
            match Caller::from_request_parts(parts, state).await {
                Ok(Caller(ctx)) => Ok(ctx),
                Err(e) => Err((
                    e,
                    if had_token {
                        Denial::BadToken
                    } else {
                        Denial::NoToken
                    },
                )),
            },
        ))
    }
}

impl Consumer {
    async fn ctx(self, s: &AppState, resource: &str, operation: &'static str) -> ApiResult<Ctx> {
        match self.0 {
            Ok(ctx) => Ok(ctx),
            Err((e, denial)) => {
                let recorded =
                    egress::record_unauthenticated(&s.app, resource, operation, denial).await;
                // If the record itself failed, say so rather than the original refusal.
                if recorded.code != denial.code() {
                    return Err(recorded.into());
                }
                Err(e)
            }
        }
    }
}

fn grant_header(grant_id: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(grant_id) {
        h.insert("x-gongshu-grant", v);
    }
    h
}

pub(crate) fn list(text: Option<&str>) -> Vec<String> {
    text.map(|t| {
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// Conditions `item:value`, comma-separated.
pub(crate) fn conditions(text: Option<&str>) -> Result<Vec<(String, String)>, ServiceError> {
    list(text)
        .into_iter()
        .map(|c| match c.split_once(':') {
            Some((item, value)) => Ok((item.to_string(), value.to_string())),
            None => Err(ServiceError::invalid(
                "egress.bad_condition",
                "where",
                format!("条件“{c}”应写作 信息项:值"),
                format!("condition '{c}' must read item:value"),
            )),
        })
        .collect()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    /// The identifier column to look up by (default: the key).
    pub by: Option<String>,
    /// Items to return, comma-separated (default: every granted item).
    pub fields: Option<String>,
    /// The grant to use (default: the one that admits the call).
    pub grant: Option<String>,
}

/// SHR-2: a record by key (citizen ID, credit code or the resource's key), masked, under a grant.
#[utoipa::path(get, path = "/api/v1/services/{resource}/records/{key}", tag = "sharing",
    params(("resource" = String, Path), ("key" = String, Path), LookupQuery),
    responses((status = 200, body = Served), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn lookup(
    State(s): State<AppState>,
    consumer: Consumer,
    Path((resource, key)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<LookupQuery>,
) -> ApiResult<(HeaderMap, Json<Served>)> {
    let ctx = consumer.ctx(&s, &resource, "lookup").await?;
    let fields = list(q.fields.as_deref());
    let served = egress::lookup(
        &s.app,
        &ctx,
        &resource,
        &key,
        q.by.as_deref(),
        &fields,
        q.grant.as_deref(),
    )
    .await?;
    Ok((grant_header(&served.grant_id), Json(served)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    /// Conditions `item:value`, comma-separated.
    #[serde(rename = "where")]
    pub conditions: Option<String>,
    pub fields: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    pub limit: Option<i64>,
    pub grant: Option<String>,
}

/// SHR-2: a filtered page of records with field selection, under a grant.
#[utoipa::path(get, path = "/api/v1/services/{resource}/records", tag = "sharing",
    params(("resource" = String, Path), RecordsQuery),
    responses((status = 200, body = Served), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn records(
    State(s): State<AppState>,
    consumer: Consumer,
    Path(resource): Path<String>,
    ApiQuery(q): ApiQuery<RecordsQuery>,
) -> ApiResult<(HeaderMap, Json<Served>)> {
    let ctx = consumer.ctx(&s, &resource, "query").await?;
    let filters = conditions(q.conditions.as_deref())?;
    let served = egress::query(
        &s.app,
        &ctx,
        &resource,
        DataQuery {
            filters,
            fields: list(q.fields.as_deref()),
            after: q.after,
            limit: q.limit.unwrap_or(100),
            grant_id: q.grant,
        },
    )
    .await?;
    Ok((grant_header(&served.grant_id), Json(served)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyInput {
    /// The subject's key (e.g. citizen ID).
    pub key: String,
    /// Item → the value the consumer holds.
    pub claims: BTreeMap<String, String>,
    #[serde(default)]
    pub grant_id: Option<String>,
}

/// SHR-6: verification (核验) — match / no match per item, never the data.
#[utoipa::path(post, path = "/api/v1/services/{resource}/verify", tag = "sharing",
    params(("resource" = String, Path)), request_body = VerifyInput,
    responses((status = 200, body = Verified), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(s): State<AppState>,
    consumer: Consumer,
    Path(resource): Path<String>,
    ApiJson(input): ApiJson<VerifyInput>,
) -> ApiResult<(HeaderMap, Json<Verified>)> {
    let ctx = consumer.ctx(&s, &resource, "verify").await?;
    let v = egress::verify(
        &s.app,
        &ctx,
        &resource,
        &input.key,
        &input.claims,
        input.grant_id.as_deref(),
    )
    .await?;
    Ok((grant_header(&v.grant_id), Json(v)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// `csv` (default; UTF-8 with a BOM), `json` (one object per line) or `parquet`.
    pub format: Option<String>,
    /// Items to include, comma-separated (default: every granted item).
    pub fields: Option<String>,
    /// Conditions `item:value`, comma-separated.
    #[serde(rename = "where")]
    pub conditions: Option<String>,
    /// The grant to use (default: the one that admits the call).
    pub grant: Option<String>,
}

/// Streams a spooled download: from memory, or chunk by chunk from its file.
pub(crate) fn spooled_body(body: Spooled) -> Body {
    use tokio::io::AsyncReadExt;
    const CHUNK: usize = 64 * 1024;
    match body {
        Spooled::Memory(bytes) => Body::from(bytes),
        Spooled::File { file, .. } => {
            let file = Some(tokio::fs::File::from_std(file));
            Body::from_stream(futures_util::stream::unfold(file, |file| async move {
                let mut f = file?;
                let mut buf = vec![0u8; CHUNK];
                match f.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(Bytes::from(buf)), Some(f)))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }))
        }
    }
}

/// SHR-2: bulk download (CSV, JSON lines or Parquet) under a `download` grant.
///
/// Only the granted items, the grant's row filter applied, masked as a lookup is;
/// the daily quota counts rows. The access record — with the row count and the SM3
/// of exactly these bytes, also sent as `X-Gongshu-Sm3` — is durable before the
/// first byte is sent. A grant of another mode is refused (`egress.wrong_mode`).
#[utoipa::path(get, path = "/api/v1/services/{resource}/download", tag = "sharing",
    params(("resource" = String, Path), DownloadQuery),
    responses(
        (status = 200, description = "The file: text/csv, application/x-ndjson or application/vnd.apache.parquet; X-Gongshu-Grant names the grant, X-Gongshu-Access the access record, X-Gongshu-Rows the rows, X-Gongshu-Sm3 the hash the record keeps",
            content_type = "application/octet-stream"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn download(
    State(s): State<AppState>,
    consumer: Consumer,
    Path(resource): Path<String>,
    ApiQuery(q): ApiQuery<DownloadQuery>,
) -> ApiResult<Response> {
    let ctx = consumer.ctx(&s, &resource, "download").await?;
    let req = DownloadRequest {
        format: egress::download_format(q.format.as_deref())?,
        filters: conditions(q.conditions.as_deref())?,
        fields: list(q.fields.as_deref()),
        grant_id: q.grant,
    };
    let d: Download = egress::download(&s.app, &ctx, &resource, req).await?;
    let ext = d.format.extension();
    let mut headers = grant_header(&d.grant_id);
    let named = [
        (
            HeaderName::from_static("x-gongshu-access"),
            d.access_id.clone(),
        ),
        (
            HeaderName::from_static("x-gongshu-rows"),
            d.rows.to_string(),
        ),
        (
            HeaderName::from_static("x-gongshu-sm3"),
            d.response_hash.clone(),
        ),
        (
            header::CONTENT_DISPOSITION,
            crate::api::catalog_sheet::disposition(
                &format!("{}.{ext}", d.resource_code),
                &format!("{}.{ext}", d.resource_name),
            ),
        ),
        (header::CONTENT_TYPE, d.format.content_type().into()),
        (header::CONTENT_LENGTH, d.body.len().to_string()),
    ];
    for (name, value) in named {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    Ok((headers, spooled_body(d.body)).into_response())
}
