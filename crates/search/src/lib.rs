//! CAT-10: full-text search over catalog entries (tantivy + jieba), rebuilt from the store.
//!
//! The store is the truth (DESIGN principle 7): a [`CatalogIndex`] lives in memory,
//! is built from the store's entries at start-up and kept current with
//! [`CatalogIndex::upsert`] and [`CatalogIndex::remove`]; each node builds its own.
//!
//! Text is segmented with jieba: entries in search mode, so `常住人口信息` is indexed
//! as `常住`, `人口`, `常住人口` and `信息` and the query `人口` finds it; queries in
//! precise mode, every word required. English is matched case-insensitively. Names
//! weigh more than summaries, summaries more than data items.
mod facets;
mod tokenizer;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use gongshu_domain::catalog::EntryContent;
use gongshu_domain::open::in_open_catalog;
pub use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByString};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, STORED, STRING,
};
use tantivy::{
    Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use crate::facets::FacetCounter;
use crate::tokenizer::{default_jieba, query_words, sub_words, JiebaTokenizer, ANALYZER};

/// The facets counted for every search, by name; each is also a filter of [`Filters`].
/// `source_org_id` is the source department (数源部门).
pub const FACETS: [&str; 8] = [
    "source_org_id",
    "category",
    "domain",
    "share_type",
    "open_type",
    "grade",
    "format",
    "update_frequency",
];

/// The indexed value marking an entry of the open catalog.
const PUBLIC: &str = "yes";

/// Most hits one search returns.
pub const MAX_LIMIT: usize = 1_000;
/// Deepest a search pages.
pub const MAX_OFFSET: usize = 10_000;
/// Longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// Score weight of a word found in the name, the summary, the data items.
const NAME_BOOST: f32 = 4.0;
const SUMMARY_BOOST: f32 = 2.0;
const ITEMS_BOOST: f32 = 1.0;
/// A query that is exactly an entry's resource code puts that entry first.
const CODE_BOOST: f32 = 20.0;

/// Indexing memory: per thread while building, and for the long-lived writer that
/// applies single upserts (tantivy's minimum is 15 MB per thread).
const BUILD_BUDGET_PER_THREAD: usize = 64_000_000;
const UPDATE_BUDGET: usize = 16_000_000;

/// One catalog entry as the index sees it: its metadata and its content.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    pub id: String,
    /// Resource code, e.g. `101-000042`.
    pub code: String,
    pub owner_org_id: String,
    /// Lifecycle state key: `published`, `offline`, `draft`, …
    pub status: String,
    pub content: EntryContent,
}

/// CAT-10: a search: words (empty text browses everything), filters, one page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    pub text: String,
    pub filters: Filters,
    /// At most [`MAX_LIMIT`]; 0 returns only the total and the facets.
    pub limit: usize,
    /// At most [`MAX_OFFSET`].
    pub offset: usize,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            text: String::new(),
            filters: Filters::default(),
            limit: 20,
            offset: 0,
        }
    }
}

/// Exact-value filters, all of which must hold. Values are the stable keys of the
/// domain enums (`Category::key()`: `base`, `population`, `conditional`, …) and
/// organisation ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    pub source_org_id: Option<String>,
    pub category: Option<String>,
    pub domain: Option<String>,
    pub share_type: Option<String>,
    pub open_type: Option<String>,
    pub grade: Option<String>,
    pub format: Option<String>,
    pub update_frequency: Option<String>,
    pub status: Option<String>,
    /// OPN-7: only entries of the open catalog (published, open, the owner's own
    /// data; see `gongshu_domain::open::in_open_catalog`).
    pub public: bool,
}

impl Filters {
    /// (field name, value) of each filter that is set.
    fn set(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("source_org_id", &self.source_org_id),
            ("category", &self.category),
            ("domain", &self.domain),
            ("share_type", &self.share_type),
            ("open_type", &self.open_type),
            ("grade", &self.grade),
            ("format", &self.format),
            ("update_frequency", &self.update_frequency),
            ("status", &self.status),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .chain(self.public.then_some(("public", PUBLIC)))
    }
}

/// One matching entry, best first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: String,
    pub code: String,
    pub name: String,
    pub score: f32,
}

/// CAT-10: a page of hits, how many entries matched in all, and per facet (see
/// [`FACETS`]) the count of matched entries for each value, most frequent first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index failure: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search text too long: {chars} characters, at most {MAX_QUERY_CHARS}")]
    QueryTooLong { chars: usize },
    #[error(
        "search page out of range: limit {limit} (at most {MAX_LIMIT}), offset {offset} (at most {MAX_OFFSET})"
    )]
    PageOutOfRange { limit: usize, offset: usize },
    #[error("a catalog entry without an id cannot be indexed")]
    MissingId,
    #[error("the search index writer failed earlier; rebuild the index from the store")]
    WriterPoisoned,
}

impl SearchError {
    /// Stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            SearchError::Index(_) => "search.index_failure",
            SearchError::QueryTooLong { .. } => "search.query_too_long",
            SearchError::PageOutOfRange { .. } => "search.page_out_of_range",
            SearchError::MissingId => "search.missing_id",
            SearchError::WriterPoisoned => "search.writer_poisoned",
        }
    }

    /// True when the caller's input is at fault (HTTP 4xx), not the index.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            SearchError::QueryTooLong { .. } | SearchError::PageOutOfRange { .. }
        )
    }
}

/// The index's fields.
struct Fields {
    id: Field,
    code: Field,
    name: Field,
    summary: Field,
    items: Field,
    status: Field,
    /// [`PUBLIC`] for entries of the open catalog.
    public: Field,
    /// In the order of [`FACETS`].
    facets: [Field; 8],
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let segmented = |stored: bool| {
            let options = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(ANALYZER)
                    // Scores need term frequencies; no phrase queries, so no positions.
                    .set_index_option(IndexRecordOption::WithFreqs),
            );
            if stored {
                options.set_stored()
            } else {
                options
            }
        };
        let id = b.add_text_field("id", STRING | STORED);
        let code = b.add_text_field("code", STRING | STORED | FAST);
        let name = b.add_text_field("name", segmented(true));
        let summary = b.add_text_field("summary", segmented(false));
        let items = b.add_text_field("items", segmented(false));
        let status = b.add_text_field("status", STRING);
        let public = b.add_text_field("public", STRING);
        let facets = FACETS.map(|facet| b.add_text_field(facet, STRING | FAST));
        let fields = Fields {
            id,
            code,
            name,
            summary,
            items,
            status,
            public,
            facets,
        };
        (b.build(), fields)
    }

    fn by_name(&self, name: &str) -> Field {
        match name {
            "status" => self.status,
            "public" => self.public,
            _ => {
                let i = FACETS.iter().position(|f| *f == name).unwrap_or(0);
                self.facets[i]
            }
        }
    }

    fn document(&self, doc: &SearchDoc) -> TantivyDocument {
        let c = &doc.content;
        let mut d = TantivyDocument::new();
        d.add_text(self.id, &doc.id);
        d.add_text(self.code, &doc.code);
        d.add_text(self.name, &c.name);
        d.add_text(self.summary, &c.summary);
        for item in &c.items {
            d.add_text(
                self.items,
                format!("{} {} {}", item.name, item.meaning, item.code_name),
            );
        }
        d.add_text(self.status, &doc.status);
        if doc.status == "published" && in_open_catalog(&doc.owner_org_id, false, c) {
            d.add_text(self.public, PUBLIC);
        }
        let values = [
            c.source_org_id.as_str(),
            c.category.key(),
            c.domain.key(),
            c.share_type.key(),
            c.open_type.key(),
            c.grade.key(),
            c.format.key(),
            c.update_frequency.key(),
        ];
        for (field, value) in self.facets.iter().zip(values) {
            d.add_text(*field, value);
        }
        d
    }
}

/// CAT-10: the in-memory search index of catalog entries. `Send + Sync`: share it
/// in an `Arc`; searches run concurrently, writes are serialised and each is
/// visible to the next search.
pub struct CatalogIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    jieba: Arc<Jieba>,
    /// Results of recent searches, emptied by every write (as Solr's query result
    /// cache is by every commit).
    results: Mutex<ResultCache>,
}

/// Searches answered since the last write, and how many writes there were.
#[derive(Default)]
struct ResultCache {
    writes: u64,
    results: HashMap<SearchQuery, Arc<SearchResult>>,
}

/// Results kept at most; a full cache starts again empty.
const RESULT_CACHE_ENTRIES: usize = 1024;

impl CatalogIndex {
    /// Builds the index from the store's entries with jieba's bundled dictionary.
    /// When an id comes twice, the later entry wins.
    pub fn build(docs: impl IntoIterator<Item = SearchDoc>) -> Result<Self, SearchError> {
        Self::build_with_jieba(default_jieba(), docs)
    }

    /// As [`CatalogIndex::build`], segmenting with the given jieba (e.g. one with a
    /// government vocabulary added by `Jieba::add_word`).
    pub fn build_with_jieba(
        jieba: Arc<Jieba>,
        docs: impl IntoIterator<Item = SearchDoc>,
    ) -> Result<Self, SearchError> {
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_ram(schema);
        index
            .tokenizers()
            .register(ANALYZER, JiebaTokenizer::analyzer(Arc::clone(&jieba)));

        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        let mut writer: IndexWriter =
            index.writer_with_num_threads(threads, threads * BUILD_BUDGET_PER_THREAD)?;
        let mut seen = HashSet::new();
        for doc in docs {
            if doc.id.is_empty() {
                return Err(SearchError::MissingId);
            }
            if !seen.insert(doc.id.clone()) {
                writer.delete_term(Term::from_field_text(fields.id, &doc.id));
            }
            writer.add_document(fields.document(&doc))?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;

        let writer = index.writer_with_num_threads(1, UPDATE_BUDGET)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            fields,
            jieba,
            results: Mutex::default(),
        })
    }

    /// Adds the entry, or replaces the one with its id.
    pub fn upsert(&self, doc: SearchDoc) -> Result<(), SearchError> {
        if doc.id.is_empty() {
            return Err(SearchError::MissingId);
        }
        let document = self.fields.document(&doc);
        self.write(|writer| {
            writer.delete_term(Term::from_field_text(self.fields.id, &doc.id));
            writer.add_document(document)?;
            Ok(())
        })
    }

    /// Removes the entry with this id; no such entry is not an error.
    pub fn remove(&self, id: &str) -> Result<(), SearchError> {
        self.write(|writer| {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
            Ok(())
        })
    }

    /// Applies one change, commits it and reloads the reader, under the writer lock.
    fn write(
        &self,
        change: impl FnOnce(&mut IndexWriter) -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::WriterPoisoned)?;
        if let Err(e) = change(&mut writer).and_then(|()| Ok(writer.commit().map(drop)?)) {
            // Drop what was staged so the next change does not commit it.
            writer.rollback()?;
            return Err(e);
        }
        self.reader.reload()?;
        let mut cache = self.result_cache();
        cache.writes += 1;
        cache.results.clear();
        Ok(())
    }

    fn result_cache(&self) -> std::sync::MutexGuard<'_, ResultCache> {
        self.results.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The result of `q` if the same search was answered since the last write: no
    /// need to search (or to leave the caller's thread) for it.
    pub fn cached(&self, q: &SearchQuery) -> Option<SearchResult> {
        self.result_cache()
            .results
            .get(q)
            .map(|r| SearchResult::clone(r))
    }

    /// Entries in the index.
    pub fn len(&self) -> usize {
        self.reader.searcher().num_docs() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// CAT-10: the entries matching every word of the text and every filter, best
    /// first, with facet counts over all of them.
    pub fn search(&self, q: &SearchQuery) -> Result<SearchResult, SearchError> {
        let writes = {
            let cache = self.result_cache();
            if let Some(r) = cache.results.get(q) {
                return Ok(SearchResult::clone(r));
            }
            cache.writes
        };
        let result = self.search_uncached(q)?;
        // Kept only if no write came in between: it may have been read before it.
        let mut cache = self.result_cache();
        if cache.writes == writes {
            if cache.results.len() >= RESULT_CACHE_ENTRIES {
                cache.results.clear();
            }
            cache.results.insert(q.clone(), Arc::new(result.clone()));
        }
        Ok(result)
    }

    /// As [`CatalogIndex::search`], always searching the index and keeping nothing
    /// (what the catalog search benchmark measures).
    pub fn search_uncached(&self, q: &SearchQuery) -> Result<SearchResult, SearchError> {
        let chars = q.text.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(SearchError::QueryTooLong { chars });
        }
        if q.limit > MAX_LIMIT || q.offset > MAX_OFFSET {
            return Err(SearchError::PageOutOfRange {
                limit: q.limit,
                offset: q.offset,
            });
        }
        let searcher = self.reader.searcher();
        let query = self.query(&searcher, q)?;
        // Best first; equal scores (every hit of a search without words) by resource
        // code, so pages of a listing neither skip nor repeat entries when the index
        // is updated between them.
        let top = (q.limit > 0).then(|| {
            TopDocs::with_limit(q.limit).and_offset(q.offset).order_by((
                (SortBySimilarityScore, Order::Desc),
                (SortByString::for_field("code"), Order::Asc),
            ))
        });
        let (top, total, facets) = searcher.search(&*query, &(top, Count, FacetCounter))?;
        let mut hits = Vec::new();
        for ((score, _code), address) in top.unwrap_or_default() {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            hits.push(Hit {
                id: text(self.fields.id),
                code: text(self.fields.code),
                name: text(self.fields.name),
                score,
            });
        }
        Ok(SearchResult {
            total,
            hits,
            facets,
        })
    }

    /// Every word must occur in the name, the summary or the items (or the whole text
    /// is the resource code); every filter must hold. No words and no filters: all.
    fn query(&self, searcher: &Searcher, q: &SearchQuery) -> Result<Box<dyn Query>, SearchError> {
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let words = self.words(searcher, &q.text)?;
        if !words.is_empty() {
            let all_words: Vec<(Occur, Box<dyn Query>)> = words
                .iter()
                .map(|w| (Occur::Must, self.word_query(w)))
                .collect();
            let code = Term::from_field_text(self.fields.code, q.text.trim());
            let by_code: Box<dyn Query> = Box::new(BoostQuery::new(
                Box::new(TermQuery::new(code, IndexRecordOption::Basic)),
                CODE_BOOST,
            ));
            must.push((
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, Box::new(BooleanQuery::new(all_words))),
                    (Occur::Should, by_code),
                ])),
            ));
        }
        for (name, value) in q.filters.set() {
            let term = Term::from_field_text(self.fields.by_name(name), value);
            // A filter narrows; it does not change the ranking.
            must.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                    0.0,
                )),
            ));
        }
        if must.is_empty() {
            return Ok(Box::new(AllQuery));
        }
        Ok(Box::new(BooleanQuery::new(must)))
    }

    /// The query's words; a word the index does not hold whole (`人口信息` when only
    /// `常住人口信息` was indexed, as `人口` and `信息`) is replaced by its sub-words.
    fn words(&self, searcher: &Searcher, text: &str) -> Result<Vec<String>, SearchError> {
        let mut words = Vec::new();
        for word in query_words(&self.jieba, text) {
            let parts = sub_words(&self.jieba, &word);
            if !parts.is_empty() && !self.holds(searcher, &word)? {
                words.extend(parts);
            } else {
                words.push(word);
            }
        }
        let mut unique: Vec<String> = Vec::with_capacity(words.len());
        for word in words {
            if !unique.contains(&word) {
                unique.push(word);
            }
        }
        Ok(unique)
    }

    /// Whether any entry has this word in a text field.
    fn holds(&self, searcher: &Searcher, word: &str) -> Result<bool, SearchError> {
        for field in [self.fields.name, self.fields.summary, self.fields.items] {
            if searcher.doc_freq(&Term::from_field_text(field, word))? > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// One word in any text field, weighted by the field.
    fn word_query(&self, word: &str) -> Box<dyn Query> {
        let in_field = |field: Field, boost: f32| -> (Occur, Box<dyn Query>) {
            let term = Term::from_field_text(field, word);
            (
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    boost,
                )),
            )
        };
        Box::new(BooleanQuery::new(vec![
            in_field(self.fields.name, NAME_BOOST),
            in_field(self.fields.summary, SUMMARY_BOOST),
            in_field(self.fields.items, ITEMS_BOOST),
        ]))
    }
}

#[cfg(test)]
mod tests;
