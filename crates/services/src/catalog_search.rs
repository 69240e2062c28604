//! CAT-10: searching the catalog. The index lives in memory on each node and is
//! rebuilt from the store (the truth, DESIGN 7); before each search it takes in
//! the entries changed since it last looked, so every node sees every write.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use gongshu_domain::permissions::Permission;
use gongshu_search::{CatalogIndex, Filters, SearchDoc, SearchError, SearchQuery, SearchResult};
use gongshu_store::{CatalogEntry, CatalogFilter};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::context::{App, Ctx};
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// The node's index and how far it has read the store.
#[derive(Default)]
pub struct SearchCache {
    state: Mutex<Option<Indexed>>,
}

struct Indexed {
    index: Arc<CatalogIndex>,
    /// The newest `updated_at` taken in.
    seen: Option<DateTime<Utc>>,
}

pub(crate) fn search_error(e: SearchError) -> ServiceError {
    let kind = if e.is_client_error() {
        ErrorKind::Invalid
    } else {
        ErrorKind::Internal
    };
    let message = e.to_string();
    ServiceError::new(kind, e.code(), format!("检索失败：{message}"), message)
}

/// How an entry is indexed: its visible version and where it stands.
fn doc_of(e: &CatalogEntry) -> Option<SearchDoc> {
    let content = e.published.clone().or_else(|| e.working.clone())?;
    let status = if e.offline {
        "offline".to_string()
    } else if e.published.is_some() {
        "published".to_string()
    } else {
        e.stage.clone().unwrap_or_else(|| "draft".into())
    };
    Some(SearchDoc {
        id: e.id.clone(),
        code: e.code.clone(),
        owner_org_id: e.owner_org_id.clone(),
        status,
        content,
    })
}

/// Every entry changed at or after `since` (all when None).
async fn changed_entries(
    app: &App,
    since: Option<DateTime<Utc>>,
) -> ServiceResult<Vec<CatalogEntry>> {
    let filter = CatalogFilter {
        updated_since: since,
        ..Default::default()
    };
    crate::catalog::every_entry(app, filter).await
}

/// The index, built on first use and brought up to date with the store.
pub async fn current_index(app: &App) -> ServiceResult<Arc<CatalogIndex>> {
    index_as_of(app, app.store.catalog_last_update().await?).await
}

/// The index brought up to `last`, when a catalog entry last changed as the
/// caller already read it from the store.
pub(crate) async fn index_as_of(
    app: &App,
    last: Option<DateTime<Utc>>,
) -> ServiceResult<Arc<CatalogIndex>> {
    let mut state = app.search.state.lock().await;
    match state.as_mut() {
        Some(ix) if ix.seen >= last => {}
        Some(ix) => {
            for entry in changed_entries(app, ix.seen).await? {
                match doc_of(&entry) {
                    Some(doc) => ix.index.upsert(doc).map_err(search_error)?,
                    None => ix.index.remove(&entry.id).map_err(search_error)?,
                }
            }
            ix.seen = last;
        }
        None => {
            let docs: Vec<SearchDoc> = changed_entries(app, None)
                .await?
                .iter()
                .filter_map(doc_of)
                .collect();
            let index = tokio::task::spawn_blocking(move || CatalogIndex::build(docs))
                .await
                .map_err(|e| {
                    ServiceError::new(
                        ErrorKind::Internal,
                        "search.build_failed",
                        format!("建立检索索引失败：{e}"),
                        e.to_string(),
                    )
                })?
                .map_err(search_error)?;
            *state = Some(Indexed {
                index: Arc::new(index),
                seen: last,
            });
        }
    }
    Ok(Arc::clone(&state.as_ref().expect("set above").index))
}

/// A catalog search: words in 中文 or English, facets and filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogSearch {
    /// Words to find in names, summaries and data items (empty: browse).
    pub q: Option<String>,
    pub source_org_id: Option<String>,
    pub category: Option<String>,
    pub domain: Option<String>,
    pub share_type: Option<String>,
    pub open_type: Option<String>,
    pub grade: Option<String>,
    pub format: Option<String>,
    pub update_frequency: Option<String>,
    /// `published` (default), `offline`, a review stage, or `all`.
    pub status: Option<String>,
    /// Hits per page, 1–100 (default 20).
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// CAT-10: searches the catalog; anyone who may read the catalog.
pub async fn search(app: &App, ctx: &Ctx, s: CatalogSearch) -> ServiceResult<SearchResult> {
    ctx.principal.authorize(Permission::CatalogRead, None)?;
    let index = current_index(app).await?;
    let status = match given(&s.status).as_deref() {
        None => Some("published".to_string()),
        Some("all") => None,
        Some(other) => Some(other.to_string()),
    };
    let query = SearchQuery {
        text: s.q.clone().unwrap_or_default(),
        filters: Filters {
            source_org_id: given(&s.source_org_id),
            category: given(&s.category),
            domain: given(&s.domain),
            share_type: given(&s.share_type),
            open_type: given(&s.open_type),
            grade: given(&s.grade),
            format: given(&s.format),
            update_frequency: given(&s.update_frequency),
            status,
            public: false,
        },
        limit: s.limit.unwrap_or(20).clamp(1, 100),
        offset: s.offset.unwrap_or(0),
    };
    tokio::task::spawn_blocking(move || index.search(&query))
        .await
        .map_err(|e| {
            ServiceError::new(
                ErrorKind::Internal,
                "search.failed",
                format!("检索失败：{e}"),
                e.to_string(),
            )
        })?
        .map_err(search_error)
}
