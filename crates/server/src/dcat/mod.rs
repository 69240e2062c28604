//! OPN-2, OPN-7: the open catalog in DCAT-AP 3, so that European-style harvesters
//! (data.europa.eu, CKAN's DCAT harvester, any RDF tool) read it. No login; built
//! from the same snapshot as the portal and the CKAN API (`open::catalog`), so a
//! dataset that is not open, not its owner's own, or taken down never appears.
//!
//! Routes (Turtle and JSON-LD describe the same graph):
//! - `GET /catalog.ttl`, `GET /catalog.jsonld` — the catalog, [`PAGE_SIZE`] datasets a
//!   page in code order: `?page=N` (from 1) and `?page_size=M` (1–[`MAX_PAGE_SIZE`]).
//!   Each page describes itself as a `hydra:PagedCollection` (`hydra:totalItems`,
//!   `hydra:itemsPerPage`, `hydra:first`/`last`/`next`/`previous`, and the older
//!   `hydra:firstPage`/`lastPage`/`nextPage`/`previousPage` that harvesters such as
//!   ckanext-dcat follow), and says the same in a `Link` header. A page past the last
//!   is 404; page 1 of an empty catalog is an empty catalog.
//! - `GET /open/datasets/{code}/dcat.ttl`, `GET /open/datasets/{code}/dcat.jsonld` —
//!   one dataset with its distributions.
//!
//! The mapping (vocabulary tables in [`map`]):
//!
//! | DCAT-AP 3 | Gongshu |
//! |---|---|
//! | `dcat:Catalog` `<{public_url}/open#catalog>` | the open catalog: titles and descriptions @zh/@en, `dct:publisher` the platform, `foaf:homepage` `/open`, `dct:language` ZHO and ENG, `dct:modified` the latest change of any dataset, `dcat:themeTaxonomy` the EU data themes |
//! | `dcat:Dataset` `<…/open/datasets/{code}#dataset>` | an open dataset: `dct:identifier` the resource code; `dct:title` the name @zh and an English title (code, domain, name) @en; `dct:description` the summary @zh and an English line (domain, source, frequency, access) @en |
//! | `dcat:theme` | the domain, mapped to EU data themes (transport → TRAN, health → HEAL, …); `dcat:keyword` the domain's 中文 and English labels |
//! | `dct:publisher` (`foaf:Agent`, `foaf:name`) | the source department (数源部门) |
//! | `dcat:contactPoint` (`vcard:Kind`) | the source department, reached through the dataset's page |
//! | `dct:accrualPeriodicity` | the update frequency on the EU frequency table (real time → UPDATE_CONT, half-yearly → ANNUAL_2, other → OTHER) |
//! | `dct:issued`, `dct:modified` | the entry's release date (`xsd:date`, else its publication, `xsd:dateTime`); the later of metadata and data change (`xsd:dateTime`, UTC) |
//! | `dct:accessRights` | unconditional → EU access right PUBLIC; conditional → RESTRICTED |
//! | `dcat:landingPage` | the portal page `/open/datasets/{code}` |
//! | `dcat:Distribution` `<…#csv>` … | one per file (CSV, JSON lines, XLSX, Parquet) once rows are mounted: `dct:format` from the EU file types, `dcat:mediaType` from IANA (none for JSON lines, which has no registered type); unconditional: `dcat:accessURL` = `dcat:downloadURL` = the file, `dct:license` the platform's open data terms, `dct:conformsTo` the dataset's `datapackage.json` (its Table Schema); conditional: `dcat:accessURL` the dataset's page (where one applies), no `dcat:downloadURL`, `dct:rights` the conditions |
//! | `dcat:Distribution` `<…#datapackage>` | unconditional data only: the Frictionless Data Package descriptor, `dct:conformsTo` the Data Package specification |
//!
//! Vocabulary terms are typed as DCAT-AP's ranges ask (`dct:Frequency`,
//! `dct:MediaTypeOrExtent`, `dct:LinguisticSystem` …) and carry `skos:inScheme`, so
//! the documents validate against the official DCAT-AP 3 SHACL shapes without the
//! vocabularies loaded (`tests/compat/validate_dcat.py`).
mod map;
mod rdf;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gongshu_services::open;
use gongshu_services::ServiceError;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::state::AppState;
use map::{CatalogFacts, Links, Paging};
use rdf::Graph;

/// Datasets on a catalog page unless `page_size` says otherwise.
pub const PAGE_SIZE: usize = 100;
/// The largest `page_size` served.
pub const MAX_PAGE_SIZE: usize = 1000;

/// OPN-7: the DCAT-AP routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/catalog.ttl", get(catalog_ttl))
        .route("/catalog.jsonld", get(catalog_jsonld))
        .route("/open/datasets/{code}/dcat.ttl", get(dataset_ttl))
        .route("/open/datasets/{code}/dcat.jsonld", get(dataset_jsonld))
}

/// The two serialisations.
#[derive(Debug, Clone, Copy)]
enum Syntax {
    Turtle,
    JsonLd,
}

impl Syntax {
    fn ext(self) -> &'static str {
        match self {
            Syntax::Turtle => "ttl",
            Syntax::JsonLd => "jsonld",
        }
    }

    fn respond(self, g: &Graph, links: Vec<(String, &'static str)>) -> Response {
        let (content_type, body) = match self {
            Syntax::Turtle => ("text/turtle; charset=utf-8", g.to_turtle()),
            Syntax::JsonLd => (
                "application/ld+json",
                serde_json::to_string_pretty(&g.to_json_ld()).unwrap_or_default(),
            ),
        };
        let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
        let link = links
            .iter()
            .map(|(url, rel)| format!("<{url}>; rel=\"{rel}\""))
            .collect::<Vec<_>>()
            .join(", ");
        if let Ok(v) = HeaderValue::from_str(&link) {
            if !link.is_empty() {
                response.headers_mut().insert(header::LINK, v);
            }
        }
        response
    }
}

/// `?page=N&page_size=M` of a catalog document.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// The page, from 1 (default 1).
    pub page: Option<usize>,
    /// Datasets a page, 1–1000 (default 100).
    pub page_size: Option<usize>,
}

async fn catalog_ttl(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Response> {
    catalog_page(&s, q, Syntax::Turtle).await
}

async fn catalog_jsonld(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Response> {
    catalog_page(&s, q, Syntax::JsonLd).await
}

/// OPN-7: one page of the catalog.
async fn catalog_page(s: &AppState, q: PageQuery, syntax: Syntax) -> ApiResult<Response> {
    let page = q.page.unwrap_or(1);
    if page == 0 {
        return Err(ServiceError::invalid(
            "dcat.invalid_page",
            "page",
            "页码从 1 开始",
            "pages are numbered from 1",
        )
        .into());
    }
    let page_size = q.page_size.unwrap_or(PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ServiceError::invalid(
            "dcat.invalid_page_size",
            "page_size",
            format!("每页数据集数须在 1 至 {MAX_PAGE_SIZE} 之间"),
            format!("page_size must be between 1 and {MAX_PAGE_SIZE}"),
        )
        .into());
    }
    let catalog = open::catalog(&s.app).await?;
    let paging = Paging {
        ext: syntax.ext(),
        page,
        page_size,
        total: catalog.datasets.len(),
    };
    if page > paging.last() {
        return Err(ServiceError::not_found("目录页", "catalog page", &page.to_string()).into());
    }
    let links = Links::new(&s.config.public_url);
    let on_page: Vec<_> = catalog
        .datasets
        .iter()
        .skip((page - 1) * page_size)
        .take(page_size)
        .collect();
    let iris: Vec<String> = on_page.iter().map(|d| links.dataset(&d.code)).collect();
    let facts = CatalogFacts {
        modified: catalog.datasets.iter().map(|d| d.modified_at).max(),
    };
    let mut g = Graph::new();
    map::catalog(&mut g, &links, &facts, &iris);
    map::paging(&mut g, &links, &paging);
    for d in on_page {
        map::dataset(&mut g, &links, d);
    }
    let url = |n: usize| links.page(syntax.ext(), n, page_size);
    let mut rels = vec![(url(1), "first"), (url(paging.last()), "last")];
    if page > 1 {
        rels.push((url(page - 1), "prev"));
    }
    if page < paging.last() {
        rels.push((url(page + 1), "next"));
    }
    Ok(syntax.respond(&g, rels))
}

async fn dataset_ttl(State(s): State<AppState>, Path(code): Path<String>) -> ApiResult<Response> {
    dataset_document(&s, &code, Syntax::Turtle).await
}

async fn dataset_jsonld(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    dataset_document(&s, &code, Syntax::JsonLd).await
}

/// OPN-7: one open dataset with its distributions.
async fn dataset_document(s: &AppState, code: &str, syntax: Syntax) -> ApiResult<Response> {
    let catalog = open::catalog(&s.app).await?;
    let d = catalog.find(code)?;
    let links = Links::new(&s.config.public_url);
    let mut g = Graph::new();
    map::dataset(&mut g, &links, d);
    Ok(syntax.respond(&g, vec![(links.landing(&d.code), "describes")]))
}
