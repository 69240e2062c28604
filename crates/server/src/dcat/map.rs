//! How the open catalog maps onto DCAT-AP 3 (the table is in the documentation of
//! [`super`]): the addresses that name things, the EU vocabularies our domains, update
//! frequencies and file formats map to, and the description of a dataset, its
//! distributions and the catalog.
use chrono::{DateTime, SecondsFormat, Utc};
use gongshu_domain::catalog::{Domain, OpenType, UpdateFrequency};
use gongshu_services::datasets::ExportFormat;
use gongshu_services::open::OpenDataset;

use super::rdf::{Graph, Resource};
use crate::api::open::FILES;

/// EU Publications Office authority tables (data theme, frequency, file type, …).
const EU: &str = "http://publications.europa.eu/resource/authority/";
/// IANA media types.
const IANA: &str = "https://www.iana.org/assignments/media-types/";
const DATA_PACKAGE_SPEC: &str = "https://specs.frictionlessdata.io/data-package/";

/// The addresses that name the catalog, its datasets and their documents, all under
/// the deployment's public address.
pub struct Links {
    base: String,
}

impl Links {
    pub fn new(public_url: &str) -> Self {
        Self {
            base: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// The portal's home page, the catalog's `foaf:homepage`.
    pub fn homepage(&self) -> String {
        format!("{}/open", self.base)
    }

    /// The catalog itself.
    pub fn catalog(&self) -> String {
        format!("{}/open#catalog", self.base)
    }

    /// The platform that publishes the catalog.
    pub fn platform(&self) -> String {
        format!("{}/open#publisher", self.base)
    }

    /// The platform's open data terms, the licence of every direct download.
    pub fn terms(&self) -> String {
        format!("{}/open#open-data-terms", self.base)
    }

    /// A dataset's portal page (its `dcat:landingPage`).
    pub fn landing(&self, code: &str) -> String {
        format!("{}/open/datasets/{code}", self.base)
    }

    /// The dataset itself.
    pub fn dataset(&self, code: &str) -> String {
        format!("{}#dataset", self.landing(code))
    }

    /// A source department, as the publisher of its datasets.
    pub fn department(&self, org_id: &str) -> String {
        let id: String = form_urlencoded::byte_serialize(org_id.as_bytes()).collect();
        format!("{}/open/datasets?source_org_id={id}#publisher", self.base)
    }

    /// One page of the catalog document in `ext` (`ttl`, `jsonld`).
    pub fn page(&self, ext: &str, page: usize, page_size: usize) -> String {
        let mut url = format!("{}/catalog.{ext}?page={page}", self.base);
        if page_size != super::PAGE_SIZE {
            url.push_str(&format!("&page_size={page_size}"));
        }
        url
    }
}

/// RFC 3339 in UTC to the second, as `xsd:dateTime` takes it.
fn date_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The EU data themes a domain belongs to (codes of the data-theme table).
pub fn themes(domain: Domain) -> &'static [&'static str] {
    match domain {
        Domain::Population => &["SOCI"],
        Domain::LegalEntity => &["ECON"],
        Domain::NaturalResources => &["ENVI", "REGI"],
        Domain::ELicence => &["GOVE"],
        Domain::MacroEconomy => &["ECON"],
        Domain::SocialSecurity => &["SOCI"],
        Domain::Health => &["HEAL"],
        Domain::Education => &["EDUC"],
        Domain::MarketRegulation => &["ECON"],
        Domain::Transport => &["TRAN"],
        Domain::Environment => &["ENVI"],
        Domain::PublicSafety => &["JUST"],
        Domain::Agriculture => &["AGRI"],
        Domain::Meteorology => &["ENVI"],
        Domain::GovernmentServices => &["GOVE"],
    }
}

/// The English label the EU data-theme table gives a theme.
fn theme_label(code: &str) -> &'static str {
    match code {
        "AGRI" => "Agriculture, fisheries, forestry and food",
        "ECON" => "Economy and finance",
        "EDUC" => "Education, culture and sport",
        "ENVI" => "Environment",
        "GOVE" => "Government and public sector",
        "HEAL" => "Health",
        "JUST" => "Justice, legal system and public safety",
        "REGI" => "Regions and cities",
        "SOCI" => "Population and society",
        "TRAN" => "Transport",
        _ => "Data theme",
    }
}

/// The EU frequency an update frequency maps to (code of the frequency table).
pub fn frequency(f: UpdateFrequency) -> &'static str {
    match f {
        UpdateFrequency::RealTime => "UPDATE_CONT",
        UpdateFrequency::Daily => "DAILY",
        UpdateFrequency::Weekly => "WEEKLY",
        UpdateFrequency::Monthly => "MONTHLY",
        UpdateFrequency::Quarterly => "QUARTERLY",
        UpdateFrequency::HalfYearly => "ANNUAL_2",
        UpdateFrequency::Yearly => "ANNUAL",
        UpdateFrequency::Other => "OTHER",
    }
}

/// A file format as (EU file type, IANA media type if registered, label). JSON lines
/// has no entry of its own in either table (`application/x-ndjson` is not
/// registered): it is JSON text, with no media type stated.
pub fn file_type(format: ExportFormat) -> (&'static str, Option<&'static str>, &'static str) {
    match format {
        ExportFormat::Csv => ("CSV", Some("text/csv"), "CSV"),
        ExportFormat::Json => ("JSON", None, "NDJSON"),
        ExportFormat::Xlsx => (
            "XLSX",
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "Excel XLSX",
        ),
        ExportFormat::Parquet => ("PARQUET", Some("application/vnd.apache.parquet"), "Parquet"),
    }
}

fn eu(table: &str, code: &str) -> String {
    format!("{EU}{table}/{code}")
}

/// An entry of an EU authority table, typed as DCAT-AP's range wants it.
fn eu_term(g: &mut Graph, table: &str, code: &str, class: &'static str) -> String {
    let iri = eu(table, code);
    if let Some(r) = g.describe(&iri, class) {
        r.link("skos:inScheme", format!("{EU}{table}"));
    }
    iri
}

fn document(g: &mut Graph, iri: &str) {
    g.describe(iri, "foaf:Document");
}

fn language(g: &mut Graph, code: &str) -> String {
    eu_term(g, "language", code, "dct:LinguisticSystem")
}

fn theme(g: &mut Graph, code: &str) -> String {
    let iri = eu("data-theme", code);
    if let Some(r) = g.describe(&iri, "skos:Concept") {
        r.text("skos:prefLabel", theme_label(code), "en")
            .link("skos:inScheme", format!("{EU}data-theme"));
    }
    iri
}

fn access_right(g: &mut Graph, code: &str) -> String {
    eu_term(g, "access-right", code, "dct:RightsStatement")
}

fn media_type(g: &mut Graph, media: &str) -> String {
    let iri = format!("{IANA}{media}");
    g.describe(&iri, "dct:MediaType");
    iri
}

fn standard(g: &mut Graph, iri: &str, zh: &str, en: &str) {
    if let Some(r) = g.describe(iri, "dct:Standard") {
        r.text("dct:title", zh, "zh").text("dct:title", en, "en");
    }
}

/// The platform, publisher of the catalog.
fn platform(g: &mut Graph, links: &Links) -> String {
    let iri = links.platform();
    if let Some(r) = g.describe(&iri, "foaf:Agent") {
        r.text("foaf:name", "公共数据开放平台", "zh").text(
            "foaf:name",
            "Public data open portal",
            "en",
        );
    }
    iri
}

/// A source department, publisher of its datasets.
fn department(g: &mut Graph, links: &Links, d: &OpenDataset) -> String {
    let iri = links.department(&d.owner_org_id);
    if let Some(r) = g.describe(&iri, "foaf:Agent") {
        r.text("foaf:name", &d.source_org_name, "zh")
            .plain("dct:identifier", &d.owner_org_id);
    }
    iri
}

fn terms(g: &mut Graph, links: &Links) -> String {
    let iri = links.terms();
    if let Some(r) = g.describe(&iri, "dct:LicenseDocument") {
        r.text(
            "dct:title",
            "公共数据开放平台数据使用规则：引用须注明来源与获取日期",
            "zh",
        )
        .text(
            "dct:title",
            "Open data terms: cite the source and the date obtained",
            "en",
        );
    }
    iri
}

/// The English line saying how the public takes a dataset.
fn access_en(d: &OpenDataset) -> &'static str {
    match d.content.open_type {
        OpenType::Unconditional => "Open without conditions: download it directly, no account needed.",
        _ => "Open on conditions: apply on the portal and sign a data use agreement before the data is released.",
    }
}

/// Describes an open dataset with its distributions; returns its IRI.
///
/// Unconditional data with rows mounted: one distribution per file (CSV, JSON
/// lines, XLSX, Parquet) with its download address, plus the Data Package
/// descriptor. Conditional data: the same four forms, reached through the dataset's
/// page (where one applies) with no download address, under RESTRICTED access. No
/// rows mounted yet: no distribution.
pub fn dataset(g: &mut Graph, links: &Links, d: &OpenDataset) -> String {
    let c = &d.content;
    let landing = links.landing(&d.code);
    let iri = links.dataset(&d.code);
    // Described first so that the dataset leads the nodes it refers to.
    if g.describe(&iri, "dcat:Dataset").is_none() {
        return iri;
    }
    let publisher = department(g, links, d);
    let frequency = eu_term(
        g,
        "frequency",
        frequency(c.update_frequency),
        "dct:Frequency",
    );
    let zho = language(g, "ZHO");
    let themes: Vec<String> = themes(c.domain).iter().map(|t| theme(g, t)).collect();
    let rights = access_right(
        g,
        if d.is_direct() {
            "PUBLIC"
        } else {
            "RESTRICTED"
        },
    );
    document(g, &landing);
    let contact = format!("{landing}#contact");
    if let Some(r) = g.describe(&contact, "vcard:Kind") {
        r.plain("vcard:fn", &d.source_org_name)
            .link("vcard:hasURL", &landing);
    }
    let summary = if c.summary.trim().is_empty() {
        &c.name
    } else {
        &c.summary
    };
    if let Some(r) = g.get_mut(&iri) {
        r.plain("dct:identifier", &d.code)
            .text("dct:title", &c.name, "zh")
            .text(
                "dct:title",
                &format!(
                    "Open dataset {} ({}): {}",
                    d.code,
                    c.domain.label_en(),
                    c.name
                ),
                "en",
            )
            .text("dct:description", summary, "zh")
            .text(
                "dct:description",
                &format!(
                    "{} data from {}; update frequency: {}. {}",
                    c.domain.label_en(),
                    d.source_org_name,
                    c.update_frequency.label_en().to_lowercase(),
                    access_en(d)
                ),
                "en",
            )
            .text("dcat:keyword", c.domain.label_zh(), "zh")
            .text("dcat:keyword", c.domain.label_en(), "en");
        for t in &themes {
            r.link("dcat:theme", t);
        }
        r.link("dct:publisher", &publisher)
            .link("dcat:contactPoint", &contact)
            .link("dct:accrualPeriodicity", &frequency)
            .link("dct:accessRights", &rights)
            .link("dct:language", &zho)
            .link("dcat:landingPage", &landing);
        if let Some(day) = c.release_date {
            r.typed("dct:issued", &day.to_string(), "xsd:date");
        } else if let Some(t) = d.published_at {
            r.typed("dct:issued", &date_time(t), "xsd:dateTime");
        }
        r.typed("dct:modified", &date_time(d.modified_at), "xsd:dateTime")
            .plain("dcat:version", &d.published_version.max(1).to_string());
    }
    let distributions = distributions(g, links, d);
    if let Some(r) = g.get_mut(&iri) {
        for dist in &distributions {
            r.link("dcat:distribution", dist);
        }
    }
    iri
}

fn distributions(g: &mut Graph, links: &Links, d: &OpenDataset) -> Vec<String> {
    if !d.has_data {
        return Vec::new();
    }
    let landing = links.landing(&d.code);
    let direct = d.is_direct();
    let licence = direct.then(|| terms(g, links));
    let descriptor = format!("{landing}/datapackage.json");
    if direct {
        standard(
            g,
            &descriptor,
            &format!("{}的 Table Schema（Frictionless 数据包）", d.content.name),
            &format!("Table Schema of {} (Frictionless Data Package)", d.code),
        );
    }
    let conditions = format!("{landing}#conditions");
    if !direct {
        if let Some(r) = g.describe(&conditions, "dct:RightsStatement") {
            let text = if d.content.open_conditions.trim().is_empty() {
                "有条件开放：须在门户提出申请并签订数据利用协议"
            } else {
                d.content.open_conditions.as_str()
            };
            r.text("rdfs:label", text, "zh").text(
                "rdfs:label",
                "Open on conditions: apply on the portal and sign a data use agreement (OPN-4).",
                "en",
            );
        }
    }
    let mut out = Vec::new();
    for (file, format) in FILES {
        let (eu_type, media, label) = file_type(format);
        let format_iri = eu_term(g, "file-type", eu_type, "dct:MediaTypeOrExtent");
        let media_iri = media.map(|m| media_type(g, m));
        let iri = format!("{landing}#{}", format.extension());
        let Some(r) = g.describe(&iri, "dcat:Distribution") else {
            continue;
        };
        r.text("dct:title", &format!("{}（{label}）", d.content.name), "zh")
            .text("dct:title", &format!("{} as {label}", d.code), "en")
            .link("dct:format", &format_iri);
        if let Some(m) = &media_iri {
            r.link("dcat:mediaType", m);
        }
        if direct {
            let url = format!("{landing}/{file}");
            r.link("dcat:accessURL", &url)
                .link("dcat:downloadURL", &url)
                .link("dct:conformsTo", &descriptor);
        } else {
            r.link("dcat:accessURL", &landing)
                .link("dct:rights", &conditions);
        }
        if let Some(l) = &licence {
            r.link("dct:license", l);
        }
        if let Some(t) = d.data_updated_at {
            r.typed("dct:modified", &date_time(t), "xsd:dateTime");
        }
        out.push(iri);
    }
    if let Some(l) = &licence {
        let format_iri = eu_term(g, "file-type", "JSON", "dct:MediaTypeOrExtent");
        let media_iri = media_type(g, "application/json");
        standard(
            g,
            DATA_PACKAGE_SPEC,
            "Frictionless 数据包规范",
            "Frictionless Data Package",
        );
        let iri = format!("{landing}#datapackage");
        if let Some(r) = g.describe(&iri, "dcat:Distribution") {
            r.text(
                "dct:title",
                &format!("{}：数据包说明 datapackage.json", d.content.name),
                "zh",
            )
            .text(
                "dct:title",
                &format!(
                    "{}: Data Package descriptor (files, Table Schema, citation)",
                    d.code
                ),
                "en",
            )
            .link("dcat:accessURL", &descriptor)
            .link("dcat:downloadURL", &descriptor)
            .link("dct:format", &format_iri)
            .link("dcat:mediaType", &media_iri)
            .link("dct:conformsTo", DATA_PACKAGE_SPEC)
            .link("dct:license", l);
            out.push(iri);
        }
    }
    out
}

/// What a catalog page says of the catalog as a whole.
pub struct CatalogFacts {
    /// The latest change of any open dataset (none in an empty catalog).
    pub modified: Option<DateTime<Utc>>,
}

/// Describes the catalog, listing `datasets` (the IRIs of this page's datasets).
pub fn catalog(g: &mut Graph, links: &Links, facts: &CatalogFacts, datasets: &[String]) {
    let iri = links.catalog();
    // Described first so that the catalog leads the document.
    if g.describe(&iri, "dcat:Catalog").is_none() {
        return;
    }
    let publisher = platform(g, links);
    let homepage = links.homepage();
    document(g, &homepage);
    let zho = language(g, "ZHO");
    let eng = language(g, "ENG");
    let taxonomy = format!("{EU}data-theme");
    if let Some(r) = g.describe(&taxonomy, "skos:ConceptScheme") {
        r.text("dct:title", "Data theme", "en");
    }
    let Some(r) = g.get_mut(&iri) else {
        return;
    };
    r.text("dct:title", "公共数据开放目录", "zh")
        .text("dct:title", "Open public data catalogue", "en")
        .text(
            "dct:description",
            "公共数据开放平台向社会开放的数据集：无条件开放的可直接下载，有条件开放的须申请。",
            "zh",
        )
        .text(
            "dct:description",
            "The datasets the public data platform opens to society: data open without conditions is downloaded directly, data open on conditions is applied for.",
            "en",
        )
        .link("dct:publisher", &publisher)
        .link("foaf:homepage", &homepage)
        .link("dct:language", &zho)
        .link("dct:language", &eng)
        .link("dcat:themeTaxonomy", &taxonomy);
    if let Some(t) = facts.modified {
        r.typed("dct:modified", &date_time(t), "xsd:dateTime");
    }
    for d in datasets {
        r.link("dcat:dataset", d);
    }
}

/// Where a page of the catalog stands among all pages (Hydra paging).
pub struct Paging<'a> {
    pub ext: &'a str,
    pub page: usize,
    pub page_size: usize,
    pub total: usize,
}

impl Paging<'_> {
    pub fn last(&self) -> usize {
        self.total.div_ceil(self.page_size).max(1)
    }
}

/// Describes the page as a `hydra:PagedCollection`, with both the current Hydra
/// properties (`hydra:next` …) and the older ones harvesters still read
/// (`hydra:nextPage` …), as ckanext-dcat writes them.
pub fn paging(g: &mut Graph, links: &Links, p: &Paging<'_>) {
    let url = |n: usize| links.page(p.ext, n, p.page_size);
    let last = p.last();
    let Some(r) = g.describe(&url(p.page), "hydra:PagedCollection") else {
        return;
    };
    r.typed("hydra:totalItems", &p.total.to_string(), "xsd:integer")
        .typed(
            "hydra:itemsPerPage",
            &p.page_size.to_string(),
            "xsd:integer",
        );
    let both = |r: &mut Resource, new: &'static str, old: &'static str, n: usize| {
        r.link(new, url(n)).link(old, url(n));
    };
    both(r, "hydra:first", "hydra:firstPage", 1);
    both(r, "hydra:last", "hydra:lastPage", last);
    if p.page > 1 {
        both(r, "hydra:previous", "hydra:previousPage", p.page - 1);
    }
    if p.page < last {
        both(r, "hydra:next", "hydra:nextPage", p.page + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opn_7_every_domain_has_an_eu_theme_and_every_frequency_an_eu_frequency() {
        for d in Domain::ALL {
            let t = themes(*d);
            assert!(!t.is_empty(), "{d:?}");
            for code in t {
                assert_ne!(theme_label(code), "Data theme", "{code}");
            }
        }
        for f in UpdateFrequency::ALL {
            assert!(!frequency(*f).is_empty());
        }
        assert_eq!(themes(Domain::Transport), ["TRAN"]);
        assert_eq!(frequency(UpdateFrequency::HalfYearly), "ANNUAL_2");
    }

    #[test]
    fn opn_7_paging_counts_pages_and_names_them_under_the_public_address() {
        let links = Links::new("https://data.example.gov.cn/");
        let p = |total| Paging {
            ext: "ttl",
            page: 1,
            page_size: 100,
            total,
        };
        assert_eq!(p(0).last(), 1);
        assert_eq!(p(100).last(), 1);
        assert_eq!(p(101).last(), 2);
        assert_eq!(
            links.page("ttl", 2, super::super::PAGE_SIZE),
            "https://data.example.gov.cn/catalog.ttl?page=2"
        );
        assert_eq!(
            links.page("jsonld", 3, 7),
            "https://data.example.gov.cn/catalog.jsonld?page=3&page_size=7"
        );
        assert_eq!(
            links.department("a b&c"),
            "https://data.example.gov.cn/open/datasets?source_org_id=a+b%26c#publisher"
        );
    }
}
