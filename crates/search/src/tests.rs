use std::sync::Arc;

use gongshu_domain::catalog::{
    Category, DataItem, Domain, EntryContent, FieldType, Grade, KeyRole, OpenType, ResourceFormat,
    ShareType, UpdateFrequency,
};

use super::*;

fn item(name: &str, code_name: &str) -> DataItem {
    DataItem {
        name: name.into(),
        code_name: code_name.into(),
        field_type: FieldType::String,
        length: None,
        meaning: String::new(),
        sensitive: false,
        key_role: KeyRole::None,
        element_code: None,
        constraints: Default::default(),
    }
}

fn content(name: &str, summary: &str, items: &[&str]) -> EntryContent {
    EntryContent {
        name: name.into(),
        summary: summary.into(),
        category: Category::Base,
        domain: Domain::Population,
        format: ResourceFormat::Database,
        source_org_id: "org-psb".into(),
        providing_org_id: None,
        approving_department: String::new(),
        co_builder_org_ids: vec![],
        items: items
            .iter()
            .enumerate()
            .map(|(i, n)| item(n, &format!("item_{i}")))
            .collect(),
        share_type: ShareType::Unconditional,
        share_conditions: String::new(),
        share_scope: String::new(),
        share_modes: vec![],
        legal_basis: String::new(),
        open_type: OpenType::NotOpen,
        open_conditions: String::new(),
        open_reason: None,
        open_basis: String::new(),
        update_frequency: UpdateFrequency::Daily,
        timeliness: String::new(),
        grade: Grade::General,
        sensitivity: None,
        classified: false,
        release_date: None,
        related_codes: vec![],
    }
}

fn doc(id: &str, content: EntryContent) -> SearchDoc {
    SearchDoc {
        id: id.into(),
        code: format!("101-{:0>6}", id.trim_start_matches("e")),
        owner_org_id: content.source_org_id.clone(),
        status: "published".into(),
        content,
    }
}

/// A small catalog of four departments' entries.
fn catalog() -> Vec<SearchDoc> {
    let mut resident = content(
        "常住人口信息",
        "本市常住人口的基本信息，按月更新",
        &["公民身份号码", "姓名", "常住地址"],
    );
    resident.source_org_id = "org-psb".into();
    let mut household = content(
        "户籍人口信息",
        "户籍登记的人口基本情况",
        &["公民身份号码", "户号"],
    );
    household.source_org_id = "org-psb".into();
    household.share_type = ShareType::Conditional;
    let mut legal = content(
        "法人信息",
        "市场主体登记的企业法人基本信息",
        &["统一社会信用代码", "法定代表人"],
    );
    legal.source_org_id = "org-amr".into();
    legal.domain = Domain::LegalEntity;
    legal.category = Category::Base;
    let mut marriage = content(
        "婚姻登记信息",
        "Marriage registration records of the civil affairs bureau",
        &["男方姓名", "女方姓名", "登记日期"],
    );
    marriage.source_org_id = "org-mca".into();
    marriage.domain = Domain::GovernmentServices;
    marriage.category = Category::Business;
    marriage.share_type = ShareType::Conditional;
    let mut weather = content(
        "Population register of weather stations",
        "气象观测站点名录",
        &["站点编号", "经度", "纬度"],
    );
    weather.source_org_id = "org-cma".into();
    weather.domain = Domain::Meteorology;
    weather.category = Category::Business;
    weather.format = ResourceFormat::ServiceInterface;
    weather.update_frequency = UpdateFrequency::RealTime;
    vec![
        doc("e1", resident),
        doc("e2", household),
        doc("e3", legal),
        doc("e4", marriage),
        doc("e5", weather),
    ]
}

fn search(index: &CatalogIndex, text: &str) -> SearchResult {
    index
        .search(&SearchQuery {
            text: text.into(),
            ..SearchQuery::default()
        })
        .expect("search")
}

fn ids(result: &SearchResult) -> Vec<&str> {
    result.hits.iter().map(|h| h.id.as_str()).collect()
}

fn sorted_ids(result: &SearchResult) -> Vec<&str> {
    let mut ids = ids(result);
    ids.sort_unstable();
    ids
}

fn facet<'a>(result: &'a SearchResult, name: &str) -> &'a [(String, u64)] {
    result.facets.get(name).expect("facet present")
}

fn pairs(values: &[(&str, u64)]) -> Vec<(String, u64)> {
    values.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

#[test]
fn cat_10_chinese_word_finds_compound_names() {
    let index = CatalogIndex::build(catalog()).unwrap();
    let result = search(&index, "人口");
    assert_eq!(sorted_ids(&result), vec!["e1", "e2"], "{result:?}");
    assert_eq!(result.total, 2);
    assert!(
        !ids(&result).contains(&"e3"),
        "法人信息 shares 人 but not the word 人口"
    );
    // A whole compound finds only its entry; two words must both occur.
    assert_eq!(ids(&search(&index, "常住人口")), vec!["e1"]);
    assert_eq!(ids(&search(&index, "户籍 人口")), vec!["e2"]);
    assert_eq!(ids(&search(&index, "婚姻登记")), vec!["e4"]);
    assert_eq!(sorted_ids(&search(&index, "法人")), vec!["e3"]);
    assert_eq!(sorted_ids(&search(&index, "人口信息")), vec!["e1", "e2"]);
    assert_eq!(search(&index, "不动产").total, 0);
}

#[test]
fn cat_10_word_held_only_in_parts_is_searched_by_its_parts() {
    // jieba keeps 人口普查 whole; this entry is indexed as 普查 and 人口 apart.
    let mut docs = catalog();
    docs.push(doc("e6", content("普查人口汇总", "按街道汇总", &["街道"])));
    let index = CatalogIndex::build(docs).unwrap();
    assert_eq!(ids(&search(&index, "人口普查")), vec!["e6"]);
    assert_eq!(search(&index, "人口普查 户籍").total, 0);
}

#[test]
fn cat_10_english_query_case_insensitive() {
    let index = CatalogIndex::build(catalog()).unwrap();
    for text in ["population", "POPULATION", "Population Register"] {
        assert_eq!(ids(&search(&index, text)), vec!["e5"], "{text}");
    }
    assert_eq!(ids(&search(&index, "marriage")), vec!["e4"]);
    assert_eq!(
        search(&index, "population marriage").total,
        0,
        "every word must occur"
    );
}

#[test]
fn cat_10_names_weigh_more_than_summaries_and_items() {
    // The word stands in a long name, a short summary, a single short item: by
    // term statistics alone the item would rank first and the name last.
    let docs = vec![
        doc(
            "e1",
            content(
                "全市不动产统一登记簿历史档案及权属变更记录汇总目录",
                "土地和房屋权属的登记簿册，含抵押、查封、异议等登记事项",
                &["权利人名称", "坐落", "宗地面积", "用途"],
            ),
        ),
        doc(
            "e2",
            content(
                "房屋交易合同网签备案",
                "不动产转移",
                &["合同编号", "买受人", "出卖人", "成交价格"],
            ),
        ),
        doc(
            "e3",
            content(
                "住房公积金个人缴存明细",
                "职工住房公积金的缴存基数、比例、金额和缴存单位",
                &["不动产"],
            ),
        ),
        doc(
            "e4",
            content("社会保险参保信息", "职工参保缴费记录", &["参保状态"]),
        ),
    ];
    let index = CatalogIndex::build(docs).unwrap();
    let result = search(&index, "不动产");
    assert_eq!(ids(&result), vec!["e1", "e2", "e3"], "{result:?}");
    assert!(result.hits[0].score > result.hits[1].score);
    assert!(result.hits[1].score > result.hits[2].score);
}

#[test]
fn cat_10_resource_code_finds_its_entry() {
    let index = CatalogIndex::build(catalog()).unwrap();
    let result = search(&index, "101-000003");
    assert_eq!(ids(&result), vec!["e3"]);
    assert_eq!(result.hits[0].code, "101-000003");
    assert_eq!(result.hits[0].name, "法人信息");
}

#[test]
fn cat_10_facets_count_matches() {
    let index = CatalogIndex::build(catalog()).unwrap();
    let result = search(&index, "信息");
    assert_eq!(result.total, 4, "{result:?}");
    assert_eq!(
        result.facets.keys().collect::<Vec<_>>(),
        {
            let mut names: Vec<_> = FACETS.iter().map(|f| f.to_string()).collect();
            names.sort();
            names
        }
        .iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(
        facet(&result, "source_org_id"),
        pairs(&[("org-psb", 2), ("org-amr", 1), ("org-mca", 1)])
    );
    assert_eq!(
        facet(&result, "domain"),
        pairs(&[
            ("population", 2),
            ("government_services", 1),
            ("legal_entity", 1)
        ])
    );
    assert_eq!(
        facet(&result, "share_type"),
        pairs(&[("conditional", 2), ("unconditional", 2)])
    );
    assert_eq!(
        facet(&result, "category"),
        pairs(&[("base", 3), ("business", 1)])
    );
    assert_eq!(facet(&result, "format"), pairs(&[("database", 4)]));
    assert_eq!(facet(&result, "grade"), pairs(&[("general", 4)]));
    assert_eq!(facet(&result, "open_type"), pairs(&[("not_open", 4)]));
    assert_eq!(facet(&result, "update_frequency"), pairs(&[("daily", 4)]));

    // Browsing (no text) counts the whole catalog.
    let all = search(&index, "");
    assert_eq!(all.total, 5);
    assert_eq!(all.hits.len(), 5);
    assert_eq!(
        facet(&all, "update_frequency"),
        pairs(&[("daily", 4), ("real_time", 1)])
    );
    assert_eq!(
        facet(&all, "source_org_id")
            .iter()
            .map(|(_, n)| n)
            .sum::<u64>(),
        5
    );
}

#[test]
fn cat_10_filters_narrow_results() {
    let index = CatalogIndex::build(catalog()).unwrap();
    let query = |text: &str, filters: Filters| {
        index
            .search(&SearchQuery {
                text: text.into(),
                filters,
                ..SearchQuery::default()
            })
            .unwrap()
    };
    let conditional = Filters {
        share_type: Some("conditional".into()),
        ..Filters::default()
    };
    let result = query("信息", conditional.clone());
    assert_eq!(sorted_ids(&result), vec!["e2", "e4"]);
    assert_eq!(result.total, 2);
    assert_eq!(
        facet(&result, "share_type"),
        pairs(&[("conditional", 2)]),
        "facets count after filters"
    );
    assert_eq!(
        facet(&result, "source_org_id"),
        pairs(&[("org-mca", 1), ("org-psb", 1)])
    );

    // Browse: filters alone, combined filters, and a value nobody has.
    let browse = query("", conditional);
    assert_eq!(sorted_ids(&browse), vec!["e2", "e4"]);
    let psb_conditional = query(
        "",
        Filters {
            source_org_id: Some("org-psb".into()),
            share_type: Some("conditional".into()),
            ..Filters::default()
        },
    );
    assert_eq!(ids(&psb_conditional), vec!["e2"]);
    let by_domain = query(
        "人口",
        Filters {
            domain: Some("meteorology".into()),
            ..Filters::default()
        },
    );
    assert_eq!(by_domain.total, 0);
    assert!(by_domain.hits.is_empty());
    assert!(facet(&by_domain, "domain").is_empty());
    for (filters, expected) in [
        (
            Filters {
                category: Some("business".into()),
                ..Filters::default()
            },
            vec!["e4", "e5"],
        ),
        (
            Filters {
                format: Some("service_interface".into()),
                ..Filters::default()
            },
            vec!["e5"],
        ),
        (
            Filters {
                update_frequency: Some("real_time".into()),
                open_type: Some("not_open".into()),
                grade: Some("general".into()),
                ..Filters::default()
            },
            vec!["e5"],
        ),
        (
            Filters {
                status: Some("published".into()),
                ..Filters::default()
            },
            vec!["e1", "e2", "e3", "e4", "e5"],
        ),
        (
            Filters {
                status: Some("offline".into()),
                ..Filters::default()
            },
            vec![],
        ),
    ] {
        assert_eq!(
            sorted_ids(&query("", filters.clone())),
            expected,
            "{filters:?}"
        );
    }
}

#[test]
fn cat_10_upsert_and_remove_are_searchable() {
    let index = Arc::new(CatalogIndex::build(catalog()).unwrap());
    assert_eq!(index.len(), 5);

    // A new entry is found by the very next search, from another thread too.
    let mut land = content("不动产登记信息", "不动产权属登记", &["不动产单元号"]);
    land.source_org_id = "org-nr".into();
    let added = doc("e6", land);
    let writer = Arc::clone(&index);
    std::thread::spawn(move || writer.upsert(added).unwrap())
        .join()
        .unwrap();
    assert_eq!(ids(&search(&index, "不动产")), vec!["e6"]);
    assert_eq!(index.len(), 6);

    // Replacing an entry re-indexes it under the same id, once.
    let mut renamed = catalog().remove(0);
    renamed.content.name = "流动人口居住登记".into();
    renamed.content.summary = "居住证办理情况".into();
    renamed.content.items = vec![item("居住证编号", "permit_no")];
    renamed.status = "offline".into();
    index.upsert(renamed).unwrap();
    assert_eq!(index.len(), 6);
    assert_eq!(ids(&search(&index, "常住人口")), Vec::<&str>::new());
    assert_eq!(ids(&search(&index, "流动人口")), vec!["e1"]);
    assert_eq!(sorted_ids(&search(&index, "人口")), vec!["e1", "e2"]);
    let offline = index
        .search(&SearchQuery {
            filters: Filters {
                status: Some("offline".into()),
                ..Filters::default()
            },
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(ids(&offline), vec!["e1"]);

    // Removal is visible at once; removing an unknown id is harmless.
    index.remove("e2").unwrap();
    index.remove("no-such-entry").unwrap();
    assert_eq!(index.len(), 5);
    assert_eq!(ids(&search(&index, "人口")), vec!["e1"]);
    assert_eq!(search(&index, "").total, 5);
    assert_eq!(
        facet(&search(&index, ""), "source_org_id"),
        pairs(&[
            ("org-amr", 1),
            ("org-cma", 1),
            ("org-mca", 1),
            ("org-nr", 1),
            ("org-psb", 1)
        ]),
        "the removed entry is no longer counted"
    );
}

#[test]
fn cat_10_build_keeps_the_last_entry_of_an_id() {
    let mut docs = catalog();
    let mut again = docs[0].clone();
    again.content.name = "流动人口信息".into();
    again.content.summary = "外来人员居住情况".into();
    again.content.items.clear();
    docs.push(again);
    let index = CatalogIndex::build(docs).unwrap();
    assert_eq!(index.len(), 5);
    assert_eq!(search(&index, "常住人口").total, 0);
    assert_eq!(ids(&search(&index, "流动人口")), vec!["e1"]);
}

#[test]
fn cat_10_pages_and_limits() {
    let index = CatalogIndex::build(catalog()).unwrap();
    let page = |limit, offset| {
        index.search(&SearchQuery {
            text: String::new(),
            filters: Filters::default(),
            limit,
            offset,
        })
    };
    let first = page(2, 0).unwrap();
    let rest = page(10, 2).unwrap();
    assert_eq!((first.total, first.hits.len()), (5, 2));
    assert_eq!((rest.total, rest.hits.len()), (5, 3));
    let mut all: Vec<_> = ids(&first).into_iter().chain(ids(&rest)).collect();
    all.sort_unstable();
    assert_eq!(
        all,
        vec!["e1", "e2", "e3", "e4", "e5"],
        "pages do not overlap"
    );

    let counts_only = page(0, 0).unwrap();
    assert_eq!((counts_only.total, counts_only.hits.len()), (5, 0));
    assert_eq!(facet(&counts_only, "grade"), pairs(&[("general", 5)]));

    let err = page(MAX_LIMIT + 1, 0).unwrap_err();
    assert_eq!(err.code(), "search.page_out_of_range");
    assert!(err.is_client_error());
    assert!(page(10, MAX_OFFSET + 1).is_err());
    let err = search_err(&index, &"人".repeat(MAX_QUERY_CHARS + 1));
    assert_eq!(err.code(), "search.query_too_long");
    assert!(err.to_string().contains("at most 200"), "{err}");

    // Punctuation-only text browses; unknown words find nothing; no panics.
    assert_eq!(search(&index, "，。！").total, 5);
    assert_eq!(search(&index, "zzzz").total, 0);
    assert_eq!(search(&index, "\"人口：(").total, 2, "no query syntax");
    assert_eq!(
        search(&index, "name:人口").total,
        0,
        "`name` is a word here"
    );
}

/// A listing (no words) is in resource-code order, whatever order entries were
/// indexed or re-indexed in, so paging through it while a department edits an
/// entry neither skips nor repeats one.
#[test]
fn cat_10_a_listing_pages_in_code_order_across_updates() {
    let mut docs = catalog();
    docs.reverse();
    let index = CatalogIndex::build(docs).unwrap();
    let page = |offset| {
        index
            .search(&SearchQuery {
                limit: 2,
                offset,
                ..SearchQuery::default()
            })
            .unwrap()
    };
    let first = page(0);
    assert_eq!(ids(&first), vec!["e1", "e2"]);
    let mut edited = catalog().remove(0);
    edited.content.summary = "本市常住人口的基本信息，按日更新".into();
    index.upsert(edited).unwrap();
    assert_eq!(ids(&page(2)), vec!["e3", "e4"]);
    assert_eq!(ids(&page(4)), vec!["e5"]);
    assert_eq!(
        ids(&page(0)),
        vec!["e1", "e2"],
        "the edited entry keeps its place"
    );
}

fn search_err(index: &CatalogIndex, text: &str) -> SearchError {
    index
        .search(&SearchQuery {
            text: text.into(),
            ..SearchQuery::default()
        })
        .unwrap_err()
}

#[test]
fn cat_10_entry_without_id_is_refused() {
    let mut docs = catalog();
    docs[1].id.clear();
    assert_eq!(
        CatalogIndex::build(docs).err().map(|e| e.code()),
        Some("search.missing_id")
    );
    let index = CatalogIndex::build(catalog()).unwrap();
    let mut nameless = catalog().remove(0);
    nameless.id.clear();
    assert!(matches!(
        index.upsert(nameless),
        Err(SearchError::MissingId)
    ));
    assert_eq!(index.len(), 5);
}

#[test]
fn cat_10_index_is_shareable() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<CatalogIndex>();
    send_sync::<Arc<CatalogIndex>>();

    let index = Arc::new(CatalogIndex::build(catalog()).unwrap());
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let index = Arc::clone(&index);
            std::thread::spawn(move || search(&index, "人口").total)
        })
        .collect();
    for r in readers {
        assert_eq!(r.join().unwrap(), 2);
    }
}

#[test]
fn opn_7_opn_11_public_filter_keeps_open_published_entries_of_their_own_source() {
    let mut docs = catalog();
    // e5 (weather) open; e3 (legal) open but registered by a body that obtained it;
    // e4 (marriage) open but offline; the rest are not open.
    docs[4].content.open_type = OpenType::Unconditional;
    docs[2].content.open_type = OpenType::Conditional;
    docs[2].owner_org_id = "org-city".into();
    docs[3].content.open_type = OpenType::Unconditional;
    docs[3].status = "offline".into();
    let mut own_conditional = content("公交线路", "全市公交线路走向", &["线路名称"]);
    own_conditional.source_org_id = "org-transport".into();
    own_conditional.open_type = OpenType::Conditional;
    docs.push(doc("e7", own_conditional));
    let index = CatalogIndex::build(docs).unwrap();
    let query = |text: &str, filters: Filters| {
        index
            .search(&SearchQuery {
                text: text.into(),
                filters,
                ..SearchQuery::default()
            })
            .unwrap()
    };
    let public = Filters {
        public: true,
        ..Filters::default()
    };
    assert_eq!(sorted_ids(&query("", public.clone())), vec!["e5", "e7"]);
    assert_eq!(sorted_ids(&query("公交", public)), vec!["e7"]);
}

#[test]
fn cat_10_a_search_asked_again_is_answered_from_the_last_write() {
    let index = CatalogIndex::build(catalog()).unwrap();
    let q = SearchQuery {
        text: "人口".into(),
        ..SearchQuery::default()
    };
    assert_eq!(index.cached(&q), None, "not asked yet");
    let first = index.search(&q).unwrap();
    assert_eq!(index.cached(&q), Some(first.clone()));
    assert_eq!(index.search(&q).unwrap(), first);

    // A write empties the kept results: the next search sees the new entry.
    index
        .upsert(doc("e9", content("流动人口登记", "居住证", &["姓名"])))
        .unwrap();
    assert_eq!(index.cached(&q), None);
    let after = index.search(&q).unwrap();
    assert_eq!(after.total, first.total + 1);
    assert!(ids(&after).contains(&"e9"), "{after:?}");
    index.remove("e9").unwrap();
    assert_eq!(index.search(&q).unwrap(), first);
}
