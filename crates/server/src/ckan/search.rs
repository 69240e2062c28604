//! OPN-2: `package_search` over the open catalog.
//!
//! Words of `q` are looked up in the catalog's full-text index (Chinese and English;
//! every word must match, best first). `field:value` terms, in `q` or `fq` (and each
//! entry of `fq_list`), filter in memory, joined by AND. The subset of Solr syntax
//! understood:
//!
//! - `field:value`, `field:"quoted value"`, `field:prefix*`, `field:*` (any value);
//! - `-field:value` and `NOT field:value` exclude, `+field:value` requires;
//! - `field:(a OR b)` any of several values;
//! - `field:[X TO Y]` inclusive and `field:{X TO Y}` exclusive ranges, `*` open; on
//!   `metadata_modified` and `metadata_created` X and Y are ISO datetimes
//!   (`2000-01-01T00:00:00Z`) or Solr date math (`NOW-1DAY`, `NOW/DAY-7DAYS`);
//! - `AND` between terms (the default); `OR` between terms is refused.
//!
//! Fields: `organization` (= `owner_org`), `groups`, `tags`, `res_format`,
//! `license_id`, `name`, `id`, `title`, `type` (= `dataset_type`), `state`,
//! `capacity`, `private`, `metadata_modified`, `metadata_created`, `num_resources`,
//! `num_tags`, `open_type`, `update_frequency` and `extras_<key>` for every extra;
//! `text:words` searches words. Sorts: `score`, `metadata_modified`,
//! `metadata_created`, `name`, `title_string`, each `asc` or `desc`. Facets:
//! `organization`, `groups`, `tags`, `res_format`, `license_id`.
use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{
    DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc,
};
use gongshu_domain::catalog::Domain;
use gongshu_services::open::{self, OpenCatalog, OpenDataset, OpenSearch};
use serde_json::{json, Map, Value};

use super::package::{extras, package_of, res_formats, tags};
use super::{Call, CkanError, CkanResult, LICENSE_ID, LICENSE_TITLE};
use crate::state::AppState;

/// CKAN's default and largest page of results.
const DEFAULT_ROWS: u64 = 10;
const MAX_ROWS: u64 = 1000;
/// CKAN's default number of values per facet.
const DEFAULT_FACET_LIMIT: i64 = 50;
const DEFAULT_SORT: &str = "score desc, metadata_modified desc";
/// The facets offered.
pub(crate) const FACETS: [&str; 5] = ["organization", "groups", "tags", "res_format", "license_id"];

/// What a field holds, so that its values and bounds compare rightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Time,
    Number,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Organization,
    Groups,
    Tags,
    ResFormat,
    License,
    Name,
    Id,
    Title,
    Type,
    State,
    Capacity,
    Private,
    Modified,
    Created,
    NumResources,
    NumTags,
    Extra(String),
}

/// The extras' keys, which are also fields (`open_type`, `extras_open_type`).
const EXTRA_KEYS: [&str; 8] = [
    "open_type",
    "open_conditions",
    "update_frequency",
    "source_department",
    "resource_code",
    "rows",
    "citation",
    "citation_en",
];

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "organization" | "owner_org" => Field::Organization,
            "groups" => Field::Groups,
            "tags" => Field::Tags,
            "res_format" => Field::ResFormat,
            "license_id" => Field::License,
            "name" => Field::Name,
            "id" => Field::Id,
            "title" | "title_string" => Field::Title,
            "type" | "dataset_type" => Field::Type,
            "state" => Field::State,
            "capacity" => Field::Capacity,
            "private" => Field::Private,
            "metadata_modified" => Field::Modified,
            "metadata_created" => Field::Created,
            "num_resources" => Field::NumResources,
            "num_tags" => Field::NumTags,
            "open_type" | "update_frequency" => Field::Extra(name.into()),
            other => {
                let key = other.strip_prefix("extras_")?;
                if !EXTRA_KEYS.contains(&key) {
                    return None;
                }
                Field::Extra(key.into())
            }
        })
    }

    fn kind(&self) -> Kind {
        match self {
            Field::Modified | Field::Created => Kind::Time,
            Field::NumResources | Field::NumTags => Kind::Number,
            _ => Kind::Text,
        }
    }
}

/// A bound or value, typed by its field.
#[derive(Debug, Clone, PartialEq)]
enum Typed {
    Text(String),
    Time(DateTime<Utc>),
    Number(i64),
}

impl Typed {
    fn compare_to(&self, other: &Typed) -> Option<Ordering> {
        match (self, other) {
            (Typed::Text(a), Typed::Text(b)) => Some(a.cmp(b)),
            (Typed::Time(a), Typed::Time(b)) => Some(a.cmp(b)),
            (Typed::Number(a), Typed::Number(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
enum Match {
    Any,
    Equals(Typed),
    Prefix(String),
    Range {
        lo: Option<(Typed, bool)>,
        hi: Option<(Typed, bool)>,
    },
    OneOf(Vec<Match>),
}

/// One `field:value` condition.
#[derive(Debug, Clone)]
struct Filter {
    negate: bool,
    field: Field,
    matches: Match,
}

/// What `q` and `fq` ask: words for the index, and filters.
#[derive(Debug, Default)]
struct Query {
    words: Vec<String>,
    filters: Vec<Filter>,
}

/// A value as written: a word, a quoted phrase, a range or a group.
#[derive(Debug, Clone)]
enum Raw {
    Word(String),
    Quoted(String),
    Range {
        lo: Option<String>,
        hi: Option<String>,
        lo_incl: bool,
        hi_incl: bool,
    },
    Group(Vec<Raw>),
}

/// One term: `[+|-|NOT] [field:] value`.
#[derive(Debug, Clone)]
struct Clause {
    negate: bool,
    field: Option<String>,
    value: Raw,
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
}

impl Lexer {
    fn new(text: &str) -> Self {
        Self {
            chars: text.chars().collect(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// Consumes `word` when it stands alone (followed by a space or the end).
    fn keyword(&mut self, word: &str) -> bool {
        let n = word.chars().count();
        let matches = self.chars[self.at..]
            .iter()
            .take(n)
            .copied()
            .eq(word.chars());
        let ends = self
            .chars
            .get(self.at + n)
            .is_none_or(|c| c.is_whitespace());
        if matches && ends {
            self.at += n;
            true
        } else {
            false
        }
    }

    fn clauses(&mut self) -> Result<Vec<Clause>, String> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.peek().is_none() {
                return Ok(out);
            }
            if self.keyword("AND") || self.keyword("&&") {
                continue;
            }
            if self.keyword("OR") || self.keyword("||") {
                return Err("OR between terms is not supported; use field:(a OR b)".into());
            }
            let mut negate = false;
            if self.keyword("NOT") {
                negate = true;
                self.skip_ws();
            }
            match self.peek() {
                Some('+') => self.at += 1,
                Some('-') => {
                    negate = !negate;
                    self.at += 1;
                }
                Some('(') => return Err("grouping terms in parentheses is not supported".into()),
                _ => {}
            }
            let field = self.field_name();
            let value = self.value()?;
            out.push(Clause {
                negate,
                field,
                value,
            });
        }
    }

    /// `name:` at the cursor, consumed; otherwise nothing is consumed.
    fn field_name(&mut self) -> Option<String> {
        let start = self.at;
        let mut end = start;
        while self
            .chars
            .get(end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        {
            end += 1;
        }
        if end > start && self.chars.get(end) == Some(&':') {
            self.at = end + 1;
            Some(self.chars[start..end].iter().collect())
        } else {
            None
        }
    }

    fn value(&mut self) -> Result<Raw, String> {
        match self.peek() {
            Some('"') => {
                self.at += 1;
                let mut s = String::new();
                loop {
                    match self.peek() {
                        None => return Err("unclosed quote".into()),
                        Some('\\') => {
                            self.at += 1;
                            if let Some(c) = self.peek() {
                                s.push(c);
                                self.at += 1;
                            }
                        }
                        Some('"') => {
                            self.at += 1;
                            return Ok(Raw::Quoted(s));
                        }
                        Some(c) => {
                            s.push(c);
                            self.at += 1;
                        }
                    }
                }
            }
            Some(open @ ('[' | '{')) => {
                self.at += 1;
                let start = self.at;
                while self.peek().is_some_and(|c| c != ']' && c != '}') {
                    self.at += 1;
                }
                let Some(close) = self.peek() else {
                    return Err("unclosed range".into());
                };
                let inner: String = self.chars[start..self.at].iter().collect();
                self.at += 1;
                let (lo, hi) = inner
                    .split_once(" TO ")
                    .ok_or_else(|| format!("a range needs 'X TO Y': [{inner}]"))?;
                let bound = |b: &str| {
                    let b = b.trim().trim_matches('"');
                    (b != "*" && !b.is_empty()).then(|| b.to_string())
                };
                Ok(Raw::Range {
                    lo: bound(lo),
                    hi: bound(hi),
                    lo_incl: open == '[',
                    hi_incl: close == ']',
                })
            }
            Some('(') => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        None => return Err("unclosed parenthesis".into()),
                        Some(')') => {
                            self.at += 1;
                            break;
                        }
                        _ => {}
                    }
                    if self.keyword("OR") || self.keyword("||") {
                        continue;
                    }
                    if self.keyword("AND") || self.keyword("&&") {
                        return Err("AND inside parentheses is not supported".into());
                    }
                    items.push(self.value()?);
                }
                if items.is_empty() {
                    return Err("empty parentheses".into());
                }
                Ok(Raw::Group(items))
            }
            _ => {
                let mut s = String::new();
                while let Some(c) = self.peek() {
                    if c.is_whitespace() || c == ')' {
                        break;
                    }
                    self.at += 1;
                    if c == '\\' {
                        if let Some(n) = self.peek() {
                            s.push(n);
                            self.at += 1;
                        }
                    } else {
                        s.push(c);
                    }
                }
                if s.is_empty() {
                    return Err(format!("a value is missing at position {}", self.at + 1));
                }
                Ok(Raw::Word(s))
            }
        }
    }
}

/// Parses a datetime bound: ISO 8601 or `NOW`, followed by Solr date math.
fn parse_time(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim().replace(' ', "+");
    if let Some(rest) = text.strip_prefix("NOW") {
        return date_math(now, rest);
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let splits = chars
        .iter()
        .filter(|(i, c)| *i >= 10 && matches!(c, '+' | '-' | '/'))
        .map(|(i, _)| *i)
        .chain(std::iter::once(text.len()));
    for at in splits {
        if let Some(base) = parse_datetime(&text[..at]) {
            if let Some(t) = date_math(base, &text[at..]) {
                return Some(t);
            }
        }
    }
    None
}

fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(Utc.from_utc_datetime(&t));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
}

/// Applies Solr date math (`/DAY`, `-1DAY`, `+6MONTHS` …) to `t`.
fn date_math(mut t: DateTime<Utc>, mut rest: &str) -> Option<DateTime<Utc>> {
    fn unit(word: &str) -> Option<&'static str> {
        let w = word.strip_suffix('S').unwrap_or(word);
        Some(match w {
            "YEAR" => "YEAR",
            "MONTH" => "MONTH",
            "WEEK" => "WEEK",
            "DAY" | "DATE" => "DAY",
            "HOUR" => "HOUR",
            "MINUTE" => "MINUTE",
            "SECOND" => "SECOND",
            "MILLI" | "MILLISECOND" => "MILLI",
            _ => return None,
        })
    }
    while let Some(op) = rest.chars().next() {
        rest = &rest[1..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let amount: i64 = if op == '/' {
            0
        } else {
            rest[..digits].parse().ok()?
        };
        let rest_after = &rest[digits..];
        let word_len = rest_after
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .count();
        let u = unit(&rest_after[..word_len])?;
        rest = &rest_after[word_len..];
        t = match op {
            '/' => {
                if digits != 0 {
                    return None;
                }
                let d = t.date_naive();
                let day = |d: NaiveDate| -> Option<DateTime<Utc>> {
                    Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?))
                };
                let round: Option<DateTime<Utc>> = match u {
                    "YEAR" => day(NaiveDate::from_ymd_opt(d.year(), 1, 1)?),
                    "MONTH" => day(NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?),
                    "WEEK" | "DAY" => day(d),
                    "HOUR" => t.with_nanosecond(0)?.with_second(0)?.with_minute(0),
                    "MINUTE" => t.with_nanosecond(0)?.with_second(0),
                    "SECOND" => t.with_nanosecond(0),
                    _ => Some(t),
                };
                round?
            }
            '+' | '-' => {
                let signed = if op == '-' { -amount } else { amount };
                match u {
                    "YEAR" | "MONTH" => {
                        let months = if u == "YEAR" { amount * 12 } else { amount };
                        let months = Months::new(u32::try_from(months).ok()?);
                        if op == '-' {
                            t.checked_sub_months(months)?
                        } else {
                            t.checked_add_months(months)?
                        }
                    }
                    "WEEK" => t + Duration::try_weeks(signed)?,
                    "DAY" => t + Duration::try_days(signed)?,
                    "HOUR" => t + Duration::try_hours(signed)?,
                    "MINUTE" => t + Duration::try_minutes(signed)?,
                    "SECOND" => t + Duration::try_seconds(signed)?,
                    _ => t + Duration::try_milliseconds(signed)?,
                }
            }
            _ => return None,
        };
    }
    Some(t)
}

fn typed(field: &Field, text: &str, now: DateTime<Utc>) -> Result<Typed, String> {
    match field.kind() {
        Kind::Text => Ok(Typed::Text(text.to_string())),
        Kind::Time => parse_time(text, now).map(Typed::Time).ok_or_else(|| {
            format!("'{text}' is not a datetime (2000-01-01T00:00:00Z) or date math (NOW-1DAY)")
        }),
        Kind::Number => text
            .parse::<i64>()
            .map(Typed::Number)
            .map_err(|_| format!("'{text}' is not a number")),
    }
}

fn to_match(field: &Field, raw: &Raw, now: DateTime<Utc>) -> Result<Match, String> {
    Ok(match raw {
        Raw::Word(w) if w == "*" => Match::Any,
        Raw::Word(w) if field.kind() == Kind::Text && w.len() > 1 && w.ends_with('*') => {
            Match::Prefix(w.trim_end_matches('*').to_string())
        }
        Raw::Word(w) | Raw::Quoted(w) => Match::Equals(typed(field, w, now)?),
        Raw::Range {
            lo,
            hi,
            lo_incl,
            hi_incl,
        } => {
            let bound = |b: &Option<String>, incl: bool| -> Result<Option<(Typed, bool)>, String> {
                b.as_deref()
                    .map(|t| typed(field, t, now).map(|v| (v, incl)))
                    .transpose()
            };
            Match::Range {
                lo: bound(lo, *lo_incl)?,
                hi: bound(hi, *hi_incl)?,
            }
        }
        Raw::Group(items) => Match::OneOf(
            items
                .iter()
                .map(|r| to_match(field, r, now))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// Adds the terms of `q` (`from_q`) or of a filter query to `query`. In `q`, a term
/// whose field is unknown is taken as words, as Solr's text search would.
fn parse_into(text: &str, from_q: bool, query: &mut Query) -> Result<(), String> {
    let now = Utc::now();
    for clause in Lexer::new(text).clauses()? {
        let field = match clause.field.as_deref() {
            None | Some("text") => None,
            Some(name) => match Field::parse(name) {
                Some(f) => Some(f),
                None if from_q => None,
                None => return Err(format!("unknown field '{name}'")),
            },
        };
        match field {
            Some(field) => {
                let matches = to_match(&field, &clause.value, now)?;
                query.filters.push(Filter {
                    negate: clause.negate,
                    field,
                    matches,
                });
            }
            None => {
                let text = match (&clause.field, &clause.value) {
                    (None | Some(_), Raw::Word(w)) if w == "*:*" || w == "*" => continue,
                    (Some(f), Raw::Word(w) | Raw::Quoted(w)) if f != "text" => format!("{f}:{w}"),
                    (_, Raw::Word(w) | Raw::Quoted(w)) => w.clone(),
                    _ => return Err("a range or a group needs a field".into()),
                };
                if clause.negate {
                    return Err(format!(
                        "excluding words is not supported ('-{text}'); exclude with -field:value"
                    ));
                }
                query.words.push(text);
            }
        }
    }
    Ok(())
}

/// The values of a field of a dataset.
fn values(s: &AppState, d: &OpenDataset, field: &Field) -> Vec<Typed> {
    let text = |v: &str| vec![Typed::Text(v.to_string())];
    match field {
        Field::Organization => text(&d.owner_org_id),
        Field::Groups => text(d.content.domain.key()),
        Field::Tags => tags(d).into_iter().map(Typed::Text).collect(),
        Field::ResFormat => res_formats()
            .into_iter()
            .map(|f| Typed::Text(f.to_string()))
            .collect(),
        Field::License => text(super::LICENSE_ID),
        Field::Name => text(&open::package_name(d)),
        Field::Id => text(&d.id),
        Field::Title => text(&d.content.name),
        Field::Type => text("dataset"),
        Field::State => text("active"),
        Field::Capacity => text("public"),
        Field::Private => text("false"),
        Field::Modified => vec![Typed::Time(d.modified_at)],
        Field::Created => vec![Typed::Time(d.created_at)],
        Field::NumResources => vec![Typed::Number(res_formats().len() as i64)],
        Field::NumTags => vec![Typed::Number(tags(d).len() as i64)],
        Field::Extra(key) => extras(s, d)
            .into_iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| Typed::Text(v))
            .collect(),
    }
}

fn matches_value(field: &Field, m: &Match, v: &Typed) -> bool {
    match m {
        Match::Any => true,
        Match::Equals(want) => match (want, v) {
            (Typed::Text(a), Typed::Text(b)) if *field == Field::ResFormat => {
                a.eq_ignore_ascii_case(b)
            }
            _ => want == v,
        },
        Match::Prefix(p) => matches!(v, Typed::Text(t) if t.starts_with(p.as_str())),
        Match::Range { lo, hi } => {
            let above = lo.as_ref().is_none_or(|(b, incl)| match v.compare_to(b) {
                Some(Ordering::Greater) => true,
                Some(Ordering::Equal) => *incl,
                _ => false,
            });
            let below = hi.as_ref().is_none_or(|(b, incl)| match v.compare_to(b) {
                Some(Ordering::Less) => true,
                Some(Ordering::Equal) => *incl,
                _ => false,
            });
            above && below
        }
        Match::OneOf(items) => items.iter().any(|m| matches_value(field, m, v)),
    }
}

fn passes(s: &AppState, d: &OpenDataset, filters: &[Filter]) -> bool {
    filters.iter().all(|f| {
        let hit = values(s, d, &f.field)
            .iter()
            .any(|v| matches_value(&f.field, &f.matches, v));
        hit != f.negate
    })
}

#[derive(Debug, Clone, Copy)]
enum SortField {
    Score,
    Modified,
    Created,
    Name,
    Title,
}

fn parse_sort(spec: &str) -> Result<Vec<(SortField, bool)>, String> {
    spec.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            let mut words = part.split_whitespace();
            let field = match words.next().unwrap_or_default() {
                "score" => SortField::Score,
                "metadata_modified" => SortField::Modified,
                "metadata_created" => SortField::Created,
                "name" => SortField::Name,
                "title_string" | "title" => SortField::Title,
                other => {
                    return Err(format!(
                        "cannot sort on '{other}': use score, metadata_modified, metadata_created, name or title_string"
                    ))
                }
            };
            let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(d) => return Err(format!("sort direction '{d}' is neither asc nor desc")),
            };
            Ok((field, desc))
        })
        .collect()
}

/// A matching dataset with its rank in the word search (None without words).
struct Hit<'c> {
    d: &'c OpenDataset,
    name: String,
    rank: Option<usize>,
}

fn compare(a: &Hit<'_>, b: &Hit<'_>, keys: &[(SortField, bool)]) -> Ordering {
    for (field, desc) in keys {
        let ord = match field {
            // Best first is "score desc": a lower rank is a higher score.
            SortField::Score => b.rank.cmp(&a.rank),
            SortField::Modified => a.d.modified_at.cmp(&b.d.modified_at),
            SortField::Created => a.d.created_at.cmp(&b.d.created_at),
            SortField::Name => a.name.cmp(&b.name),
            SortField::Title => a.d.content.name.cmp(&b.d.content.name),
        };
        let ord = if *desc { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.name.cmp(&b.name)
}

/// Ids of the datasets matching `words`, best first.
async fn word_matches(
    call: &Call<'_>,
    catalog: &OpenCatalog,
    words: &[String],
) -> CkanResult<Vec<String>> {
    const PAGE: usize = gongshu_search::MAX_LIMIT;
    let search = OpenSearch {
        q: Some(words.join(" ")),
        ..OpenSearch::default()
    };
    let mut ids = Vec::new();
    loop {
        let (total, page, _) =
            open::matching_ids(&call.s.app, catalog, &search, PAGE, ids.len()).await?;
        let n = page.len();
        ids.extend(page);
        if n == 0 || ids.len() >= total || ids.len() > gongshu_search::MAX_OFFSET {
            return Ok(ids);
        }
    }
}

/// The values a facet counts for a dataset.
fn facet_values(field: &str, d: &OpenDataset) -> Vec<String> {
    match field {
        "organization" => vec![d.owner_org_id.clone()],
        "groups" => vec![d.content.domain.key().to_string()],
        "tags" => tags(d),
        "res_format" => res_formats().into_iter().map(String::from).collect(),
        _ => vec![LICENSE_ID.to_string()],
    }
}

fn facet_display(field: &str, value: &str, catalog: &OpenCatalog) -> String {
    match field {
        "organization" => catalog
            .org_names
            .get(value)
            .cloned()
            .unwrap_or_else(|| value.to_string()),
        "groups" => Domain::parse(value).map_or(value.to_string(), |d| d.label_zh().to_string()),
        "license_id" => LICENSE_TITLE.to_string(),
        _ => value.to_string(),
    }
}

/// `facets` and `search_facets` of the matching datasets.
fn facets(
    fields: &[String],
    hits: &[Hit<'_>],
    catalog: &OpenCatalog,
    limit: i64,
    mincount: u64,
) -> (Value, Value) {
    let mut facets = Map::new();
    let mut search_facets = Map::new();
    for field in fields {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for h in hits {
            for v in facet_values(field, h.d) {
                *counts.entry(v).or_insert(0) += 1;
            }
        }
        let mut items: Vec<(String, u64)> =
            counts.into_iter().filter(|(_, n)| *n >= mincount).collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if limit >= 0 {
            items.truncate(limit as usize);
        }
        let counted: Map<String, Value> =
            items.iter().map(|(v, n)| (v.clone(), json!(n))).collect();
        facets.insert(field.clone(), Value::Object(counted));
        let listed: Vec<Value> = items
            .iter()
            .map(|(v, n)| {
                json!({
                    "name": v,
                    "display_name": facet_display(field, v, catalog),
                    "count": n,
                })
            })
            .collect();
        search_facets.insert(field.clone(), json!({ "title": field, "items": listed }));
    }
    (Value::Object(facets), Value::Object(search_facets))
}

/// `package_search`: words, filters, sort, facets and paging over the open catalog.
/// The result is JSON text (see [`super::Reply`]).
pub(crate) async fn package_search(call: &Call<'_>) -> CkanResult<String> {
    let p = &call.params;
    let mut query = Query::default();
    let q = p.str("q")?.unwrap_or_default();
    parse_into(&q, true, &mut query).map_err(|e| invalid_query("q", &e))?;
    if let Some(fq) = p.str("fq")? {
        parse_into(&fq, false, &mut query).map_err(|e| invalid_query("fq", &e))?;
    }
    for fq in p.list("fq_list")?.unwrap_or_default() {
        parse_into(&fq, false, &mut query).map_err(|e| invalid_query("fq_list", &e))?;
    }
    let rows = p.natural("rows")?.unwrap_or(DEFAULT_ROWS).min(MAX_ROWS) as usize;
    let start = p.natural("start")?.unwrap_or(0) as usize;
    let sort = p
        .str("sort")?
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SORT.to_string());
    let keys = parse_sort(&sort).map_err(|e| CkanError::validation("sort", e))?;
    let facet_fields = if p.boolean("facet", true)? {
        p.list("facet.field")?.unwrap_or_default()
    } else {
        Vec::new()
    };
    if let Some(f) = facet_fields.iter().find(|f| !FACETS.contains(&f.as_str())) {
        return Err(CkanError::validation(
            "facet.field",
            format!(
                "不支持分面“{f}” / cannot facet on '{f}': use {}",
                FACETS.join(", ")
            ),
        ));
    }
    let facet_limit = p.integer("facet.limit")?.unwrap_or(DEFAULT_FACET_LIMIT);
    let facet_mincount = p.natural("facet.mincount")?.unwrap_or(1);
    let fl: Option<Vec<String>> = p.str("fl")?.map(|s| {
        s.split([',', ' '])
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(String::from)
            .collect()
    });

    let catalog = open::catalog(&call.s.app).await?;
    let candidates: Vec<(&OpenDataset, Option<usize>)> = if query.words.is_empty() {
        catalog.datasets.iter().map(|d| (d, None)).collect()
    } else {
        word_matches(call, &catalog, &query.words)
            .await?
            .iter()
            .enumerate()
            .filter_map(|(rank, id)| catalog.get(id).map(|d| (d, Some(rank))))
            .collect()
    };
    let mut hits: Vec<Hit<'_>> = candidates
        .into_iter()
        .filter(|(d, _)| passes(call.s, d, &query.filters))
        .map(|(d, rank)| Hit {
            d,
            name: open::package_name(d),
            rank,
        })
        .collect();
    hits.sort_by(|a, b| compare(a, b, &keys));
    let (facets, search_facets) =
        facets(&facet_fields, &hits, &catalog, facet_limit, facet_mincount);
    // The result is written as JSON text: each package as kept with the snapshot.
    let mut results = String::from("[");
    for (i, h) in hits.iter().skip(start).take(rows).enumerate() {
        if i > 0 {
            results.push(',');
        }
        let full = package_of(call.s, &catalog, h.d);
        match &fl {
            Some(keep) if !keep.iter().any(|k| k == "*") => {
                let mut m = Map::new();
                for k in keep {
                    if let Some(v) = full.value.get(k) {
                        m.insert(k.clone(), v.clone());
                    }
                }
                results.push_str(&Value::Object(m).to_string());
            }
            _ => results.push_str(&full.json),
        }
    }
    results.push(']');
    Ok(format!(
        "{{\"count\":{},\"sort\":{},\"facets\":{},\"search_facets\":{},\"results\":{}}}",
        hits.len(),
        Value::from(sort),
        facets,
        search_facets,
        results
    ))
}

fn invalid_query(field: &str, why: &str) -> CkanError {
    CkanError::validation(
        field,
        format!("检索条件无法解析 / Search query could not be parsed: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 15, 10, 30, 45).unwrap()
    }

    #[test]
    fn opn_2_ckan_date_math_follows_solr() {
        let t = |s| parse_time(s, now()).map(|t| t.to_rfc3339());
        assert_eq!(t("NOW"), Some(now().to_rfc3339()));
        assert_eq!(t("NOW-1DAY").unwrap(), "2026-03-14T10:30:45+00:00");
        assert_eq!(t("NOW/DAY-7DAYS").unwrap(), "2026-03-08T00:00:00+00:00");
        assert_eq!(t("NOW-1MONTH/MONTH").unwrap(), "2026-02-01T00:00:00+00:00");
        assert_eq!(t("NOW 2HOURS").unwrap(), "2026-03-15T12:30:45+00:00");
        assert_eq!(
            t("2000-01-01T00:00:00Z").unwrap(),
            "2000-01-01T00:00:00+00:00"
        );
        assert_eq!(
            t("2000-01-01T00:00:00.000Z+1YEAR").unwrap(),
            "2001-01-01T00:00:00+00:00"
        );
        assert_eq!(t("2020-02-03").unwrap(), "2020-02-03T00:00:00+00:00");
        assert_eq!(t("yesterday"), None);
        assert_eq!(t("NOW-1FORTNIGHT"), None);
    }

    #[test]
    fn opn_2_ckan_fq_subset_parses() {
        let mut q = Query::default();
        parse_into(
            r#"groups:transport -organization:"abc def" +metadata_modified:[2000-01-01T00:00:00Z TO *] res_format:(CSV OR JSON) name:410* AND tags:交通运输"#,
            false,
            &mut q,
        )
        .unwrap();
        assert_eq!(q.filters.len(), 6);
        assert!(q.words.is_empty());
        assert!(q.filters[1].negate);
        assert!(matches!(&q.filters[1].matches, Match::Equals(Typed::Text(t)) if t == "abc def"));
        assert!(matches!(
            q.filters[2].matches,
            Match::Range {
                lo: Some(_),
                hi: None
            }
        ));
        assert!(matches!(&q.filters[3].matches, Match::OneOf(v) if v.len() == 2));
        assert!(matches!(&q.filters[4].matches, Match::Prefix(p) if p == "410"));

        let mut q = Query::default();
        parse_into("公交 线路 groups:transport weird:thing *:*", true, &mut q).unwrap();
        assert_eq!(q.words, vec!["公交", "线路", "weird:thing"]);
        assert_eq!(q.filters.len(), 1);

        for bad in [
            "weird:thing",
            "groups:a OR groups:b",
            "metadata_modified:[soon TO *]",
            "(groups:a)",
            "name:\"open",
            "num_tags:many",
        ] {
            assert!(
                parse_into(bad, false, &mut Query::default()).is_err(),
                "{bad}"
            );
        }
        assert!(parse_sort("score desc, metadata_modified desc").is_ok());
        assert!(parse_sort("views_recent desc").is_err());
    }
}
