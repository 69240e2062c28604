//! COL-3, DESIGN 2, GOV-5: the rows a load rejected, exactly as the department
//! delivered them. They can hold the same personal data as the rows served, so
//! they leave through the gate like every other read: for whoever may see the
//! load, recorded as an internal access record (`operation` `rejects`) with the
//! rows and the SM3 of what was sent, anchored in the audit chain
//! (`dataset.rejects_read`).
use gongshu_store::{DatasetLoad, RejectedRow};

use super::*;

/// Rejected rows read at a time for a file.
const REJECTS_PAGE: i64 = 10_000;

/// Data lines of one worksheet (Excel's 1,048,576 rows less the heading).
const XLSX_MAX_LINES: usize = 1_048_575;

/// The file a load's rejected rows are downloaded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectsFormat {
    /// UTF-8 with a BOM, one line per problem; no bound on its size.
    Csv,
    /// One worksheet, so at most [`XLSX_MAX_LINES`] problems.
    Xlsx,
}

/// COL-3: a page of a load's rejected rows in row order, after `after_row`.
pub(crate) async fn rejects_page(
    app: &App,
    ctx: &Ctx,
    load: &DatasetLoad,
    after_row: i64,
    limit: i64,
) -> ServiceResult<Vec<RejectedRow>> {
    crate::datasets::authorize_view(ctx, &load.org_id)?;
    let rows = app.rows.0.list_rejects(&load.id, after_row, limit).await?;
    let extra = serde_json::json!({ "rows": rows.len(), "after_row": after_row });
    record_rejects(app, ctx, load, rows.len(), hash_json(&rows), extra).await?;
    Ok(rows)
}

/// COL-3: every rejected row of a load as CSV or XLSX, encoded into a spool a page
/// at a time (a load that rejected millions of rows is never held in memory for
/// the CSV); the access record is durable before the caller can send a byte.
pub(crate) async fn rejects_file(
    app: &App,
    ctx: &Ctx,
    load: &DatasetLoad,
    format: RejectsFormat,
) -> ServiceResult<RecordedFile> {
    crate::datasets::authorize_view(ctx, &load.org_id)?;
    let mut hashing = Hashing::new(Spool::default());
    let mut rows = 0_u64;
    let mut kept = Vec::new();
    let mut lines = 0;
    let mut after = 0;
    if format == RejectsFormat::Csv {
        hashing
            .write_all(&crate::datasets::rejects_csv_heading())
            .map_err(spool_failed)?;
    }
    loop {
        let page = app
            .rows
            .0
            .list_rejects(&load.id, after, REJECTS_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.row_number;
        rows += page.len() as u64;
        let full = page.len() as i64 == REJECTS_PAGE;
        match format {
            RejectsFormat::Csv => hashing
                .write_all(&crate::datasets::rejects_csv_lines(&page))
                .map_err(spool_failed)?,
            RejectsFormat::Xlsx => {
                lines += page.iter().map(|r| r.errors.len()).sum::<usize>();
                if lines > XLSX_MAX_LINES {
                    return Err(ServiceError::invalid(
                        "dataset.rejects_too_many_for_xlsx",
                        "format",
                        format!("不合格行的问题超过 Excel 单表上限 {XLSX_MAX_LINES} 行，请下载 CSV"),
                        format!("the rejected rows' problems exceed a worksheet's {XLSX_MAX_LINES} rows: download the CSV"),
                    ));
                }
                kept.extend(page);
            }
        }
        if !full {
            break;
        }
    }
    if format == RejectsFormat::Xlsx {
        hashing
            .write_all(&crate::datasets::rejects_xlsx(&kept)?)
            .map_err(spool_failed)?;
    }
    let (spool, hash) = hashing.finish();
    let body = spool.finish().map_err(spool_failed)?;
    let file = match format {
        RejectsFormat::Csv => "csv",
        RejectsFormat::Xlsx => "xlsx",
    };
    let extra = serde_json::json!({ "rows": rows, "format": file });
    record_rejects(app, ctx, load, rows as usize, hash.clone(), extra).await?;
    Ok(RecordedFile {
        rows,
        response_hash: hash,
        body,
    })
}

/// The access record of a read of a load's rejected rows: the resource's data
/// items (what the rows were meant to hold) and the department that delivered them.
async fn record_rejects(
    app: &App,
    ctx: &Ctx,
    load: &DatasetLoad,
    rows: usize,
    response_hash: String,
    extra: serde_json::Value,
) -> ServiceResult<()> {
    let items = app
        .data
        .get_dataset(&load.resource_id)
        .await?
        .map(|d| column_names(&d.schema))
        .unwrap_or_default();
    let rec = access_record(
        ctx,
        Internal::Rejects,
        (&load.resource_id, &load.org_id),
        items,
        rows,
        response_hash,
    );
    let object = ("dataset_load", load.id.as_str());
    record_internal(app, ctx, Internal::Rejects, object, vec![rec], extra).await
}
