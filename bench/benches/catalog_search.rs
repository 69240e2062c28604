//! CAT-10 benchmark: catalog full-text search (tantivy + jieba, `gongshu-search`) over
//! synthetic catalog entries, side by side in one run with its peer, a naive
//! in-process scan (`str::contains` over each entry's lowercased name, summary and
//! data-item names, with the same filters and facet counts). Both answer the same
//! queries, one at a time on one thread, interleaved. Results go to
//! docs/performance.md.
//!
//! ```text
//! cargo bench -p gongshu-bench --bench catalog_search
//! ```
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs one small smoke round.
//! Knobs: GONGSHU_BENCH_ENTRIES, GONGSHU_BENCH_QUERIES, GONGSHU_BENCH_ROUNDS.
// Links the bench library, and with it the allocator the `gongshu` binary runs with.
extern crate gongshu_bench;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use gongshu_domain::catalog::{
    Category, DataItem, Domain, EntryContent, FieldType, Grade, KeyRole, OpenType, ResourceFormat,
    ShareMode, ShareType, UpdateFrequency,
};
use gongshu_search::{CatalogIndex, Filters, SearchDoc, SearchQuery, SearchResult, FACETS};

/// The issue's targets: index build, and query latency percentiles.
const TARGET_BUILD: Duration = Duration::from_secs(60);
const TARGET_P50: Duration = Duration::from_millis(5);
const TARGET_P99: Duration = Duration::from_millis(25);
/// Hits per page, as the portal shows them.
const PAGE: usize = 20;

struct Config {
    full: bool,
    entries: usize,
    queries: usize,
    rounds: usize,
    upserts: usize,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Config {
    fn from_env(full: bool) -> Self {
        let (entries, queries, rounds, upserts) = if full {
            (100_000, 300, 3, 50)
        } else {
            (2_000, 40, 1, 3)
        };
        Self {
            full,
            entries: env_usize("GONGSHU_BENCH_ENTRIES", entries).max(1),
            queries: env_usize("GONGSHU_BENCH_QUERIES", queries).max(1),
            rounds: env_usize("GONGSHU_BENCH_ROUNDS", rounds).max(1),
            upserts,
        }
    }
}

/// splitmix64: deterministic, so every run indexes the same catalog.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index into `weights`, drawn in proportion to them.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// A department: its short id, name, main domain, subjects (with an English name
/// some entries carry) and the data items of its records.
struct Department {
    key: &'static str,
    name: &'static str,
    domain: Domain,
    subjects: &'static [(&'static str, &'static str)],
    items: &'static [&'static str],
}

const DEPARTMENTS: &[Department] = &[
    Department {
        key: "psb",
        name: "公安局",
        domain: Domain::Population,
        subjects: &[
            ("常住人口", "resident population"),
            ("户籍", "household registration"),
            ("流动人口", "floating population"),
            ("居住证", "residence permit"),
            ("出入境证件", "exit-entry documents"),
            ("机动车驾驶证", "driving licence"),
            ("治安案件", "public order cases"),
        ],
        items: &[
            "户号",
            "与户主关系",
            "民族",
            "文化程度",
            "户籍地址",
            "居住地址",
            "证件有效期",
        ],
    },
    Department {
        key: "mca",
        name: "民政局",
        domain: Domain::GovernmentServices,
        subjects: &[
            ("婚姻登记", "marriage registration"),
            ("社会组织登记", "social organisation registration"),
            ("最低生活保障", "minimum living allowance"),
            ("养老机构", "elderly care institutions"),
            ("殡葬服务", "funeral services"),
        ],
        items: &[
            "男方姓名",
            "女方姓名",
            "登记类型",
            "结婚证字号",
            "救助金额",
            "床位数",
        ],
    },
    Department {
        key: "hc",
        name: "卫生健康委",
        domain: Domain::Health,
        subjects: &[
            ("出生医学证明", "birth medical certificate"),
            ("医疗机构执业许可", "medical institution licence"),
            ("预防接种", "vaccination"),
            ("医师执业注册", "physician registration"),
            ("死亡医学证明", "death medical certificate"),
        ],
        items: &[
            "新生儿姓名",
            "出生孕周",
            "接生机构",
            "疫苗名称",
            "接种剂次",
            "执业范围",
        ],
    },
    Department {
        key: "hrss",
        name: "人力社保局",
        domain: Domain::SocialSecurity,
        subjects: &[
            ("社会保险参保", "social insurance enrolment"),
            ("养老保险缴费", "pension contributions"),
            ("失业保险金", "unemployment benefits"),
            ("工伤认定", "work injury determination"),
            ("职业技能等级", "vocational skill levels"),
        ],
        items: &[
            "参保状态",
            "缴费基数",
            "缴费月数",
            "险种类型",
            "参保单位",
            "待遇金额",
        ],
    },
    Department {
        key: "amr",
        name: "市场监管局",
        domain: Domain::MarketRegulation,
        subjects: &[
            ("市场主体登记", "market entity registration"),
            ("食品经营许可", "food business licence"),
            ("特种设备使用登记", "special equipment registration"),
            ("行政处罚", "administrative penalties"),
            ("企业年度报告", "enterprise annual reports"),
        ],
        items: &[
            "企业类型",
            "注册资本",
            "经营范围",
            "成立日期",
            "许可证编号",
            "处罚决定书文号",
        ],
    },
    Department {
        key: "nr",
        name: "自然资源和规划局",
        domain: Domain::NaturalResources,
        subjects: &[
            ("不动产登记", "real estate registration"),
            ("土地供应", "land supply"),
            ("国土空间规划", "territorial spatial planning"),
            ("地籍调查", "cadastral survey"),
        ],
        items: &[
            "不动产单元号",
            "权利人",
            "坐落",
            "宗地面积",
            "土地用途",
            "规划许可证号",
        ],
    },
    Department {
        key: "cma",
        name: "气象局",
        domain: Domain::Meteorology,
        subjects: &[
            ("气象观测", "weather observation"),
            ("天气预报", "weather forecast"),
            ("气象灾害预警", "meteorological disaster warnings"),
            ("降水量", "precipitation"),
        ],
        items: &["站点编号", "观测时间", "气温", "相对湿度", "风速", "降水量"],
    },
    Department {
        key: "edu",
        name: "教育局",
        domain: Domain::Education,
        subjects: &[
            ("学籍", "student status"),
            ("教师资格", "teacher qualification"),
            ("学校名录", "school directory"),
            ("招生录取", "admissions"),
        ],
        items: &[
            "学籍号",
            "学校名称",
            "年级",
            "班级",
            "教师资格证号",
            "录取批次",
        ],
    },
    Department {
        key: "tra",
        name: "交通运输局",
        domain: Domain::Transport,
        subjects: &[
            ("公交线路", "bus routes"),
            ("道路运输经营许可", "road transport licence"),
            ("出租汽车", "taxis"),
            ("交通流量", "traffic flow"),
        ],
        items: &[
            "线路编号",
            "站点名称",
            "车牌号码",
            "道路运输证号",
            "车流量",
            "监测时段",
        ],
    },
    Department {
        key: "eco",
        name: "生态环境局",
        domain: Domain::Environment,
        subjects: &[
            ("排污许可", "pollutant discharge permits"),
            ("空气质量监测", "air quality monitoring"),
            ("环境影响评价", "environmental impact assessment"),
            ("水质监测", "water quality monitoring"),
        ],
        items: &[
            "排污单位",
            "排放口编号",
            "监测点位",
            "污染物名称",
            "浓度",
            "评价结论",
        ],
    },
    Department {
        key: "agr",
        name: "农业农村局",
        domain: Domain::Agriculture,
        subjects: &[
            ("农机购置补贴", "farm machinery subsidies"),
            ("耕地保护", "farmland protection"),
            ("农产品质量检测", "agricultural product testing"),
            ("动物防疫", "animal epidemic prevention"),
        ],
        items: &[
            "补贴金额",
            "机具品目",
            "耕地面积",
            "检测项目",
            "检测结果",
            "免疫数量",
        ],
    },
    Department {
        key: "stats",
        name: "统计局",
        domain: Domain::MacroEconomy,
        subjects: &[
            ("地区生产总值", "gross regional product"),
            ("人口普查", "population census"),
            ("经济普查", "economic census"),
            ("居民消费价格", "consumer prices"),
        ],
        items: &[
            "指标名称",
            "指标值",
            "计量单位",
            "统计期",
            "同比增长",
            "统计口径",
        ],
    },
    Department {
        key: "gs",
        name: "政务服务中心",
        domain: Domain::GovernmentServices,
        subjects: &[
            ("政务服务事项", "government service items"),
            ("办件", "service cases"),
            ("好差评", "service ratings"),
            ("电子证照", "electronic licences"),
        ],
        items: &[
            "事项编码",
            "事项名称",
            "办件编号",
            "受理时间",
            "办结时间",
            "评价等级",
        ],
    },
];

const DISTRICTS: &[&str] = &[
    "全市",
    "上城区",
    "拱墅区",
    "西湖区",
    "滨江区",
    "萧山区",
    "余杭区",
    "临平区",
    "钱塘区",
];

const QUALIFIERS: &[&str] = &[
    "", "", "", "历史", "年度", "月度", "实时", "电子", "变更", "注销",
];

const SUFFIXES: &[&str] = &[
    "信息",
    "数据",
    "记录",
    "台账",
    "名录",
    "统计",
    "明细",
    "登记信息",
    "汇总表",
    "查询接口",
];

const PURPOSES: &[&str] = &[
    "政务服务办理",
    "跨部门共享核验",
    "统计分析",
    "监管执法",
    "公共服务",
    "应急管理",
    "基层治理",
];

/// Items most entries carry, with the column names departments give them.
const COMMON_ITEMS: &[(&str, &str)] = &[
    ("公民身份号码", "citizen_id"),
    ("姓名", "name"),
    ("性别", "gender"),
    ("出生日期", "birth_date"),
    ("统一社会信用代码", "credit_code"),
    ("单位名称", "org_name"),
    ("法定代表人", "legal_rep"),
    ("行政区划代码", "division_code"),
    ("地址", "address"),
    ("联系电话", "phone"),
    ("经度", "longitude"),
    ("纬度", "latitude"),
    ("办理状态", "status"),
    ("更新时间", "updated_at"),
];

/// One synthetic catalog entry, deterministic in `i`.
fn entry(i: usize) -> SearchDoc {
    let mut rng = Rng(i as u64 ^ 0x5eed_ca7a_1060_0000);
    let dept = rng.pick(DEPARTMENTS);
    let d = rng.below(DISTRICTS.len());
    let district = DISTRICTS[d];
    let (subject, english) = *rng.pick(dept.subjects);
    let qualifier = *rng.pick(QUALIFIERS);
    let suffix = *rng.pick(SUFFIXES);
    let name = format!("{district}{subject}{qualifier}{suffix}");

    let mut items = Vec::new();
    let n_items = 4 + rng.below(9);
    for k in 0..n_items {
        let (item_name, code_name) = if k % 2 == 0 {
            let (n, c) = *rng.pick(COMMON_ITEMS);
            (n.to_string(), c.to_string())
        } else {
            (
                rng.pick(dept.items).to_string(),
                format!("{}_{k}", dept.key),
            )
        };
        if items.iter().any(|it: &DataItem| it.name == item_name) {
            continue;
        }
        items.push(DataItem {
            name: item_name,
            code_name,
            field_type: FieldType::String,
            length: None,
            meaning: String::new(),
            sensitive: false,
            key_role: KeyRole::None,
            element_code: None,
            constraints: Default::default(),
        });
    }
    let update_frequency = UpdateFrequency::ALL[rng.weighted(&[5, 20, 10, 30, 15, 5, 12, 3])];
    let mut summary = format!(
        "{}{}归集的{}{}，包括{}等信息项，{}更新，用于{}。",
        district,
        dept.name,
        subject,
        suffix,
        items
            .iter()
            .take(3)
            .map(|it| it.name.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        update_frequency.label_zh(),
        rng.pick(PURPOSES),
    );
    // Some entries carry an English name (for the English portal or an API).
    if rng.below(10) == 0 {
        summary.push_str(&format!(" English name: {english} records"));
    }

    let domain = if rng.below(5) == 0 {
        *rng.pick(Domain::ALL)
    } else {
        dept.domain
    };
    let category = Category::ALL[rng.weighted(&[15, 15, 10, 60])];
    let format = ResourceFormat::ALL[rng.weighted(&[10, 15, 50, 3, 2, 0, 20])];
    let share_type = ShareType::ALL[rng.weighted(&[45, 45, 10])];
    let open_type = OpenType::ALL[rng.weighted(&[25, 25, 50])];
    let grade = Grade::ALL[rng.weighted(&[2, 13, 85])];
    let status = ["published", "offline", "draft"][rng.weighted(&[80, 5, 15])];
    let org = format!("org-{}-{:02}", dept.key, d);
    SearchDoc {
        id: format!("synthetic-{i:06}"),
        code: format!(
            "{}{:02}-{:06}",
            category.code_digit(),
            domain.code(),
            i % 1_000_000
        ),
        owner_org_id: org.clone(),
        status: status.to_string(),
        content: EntryContent {
            name,
            summary,
            category,
            domain,
            format,
            source_org_id: org,
            providing_org_id: None,
            approving_department: String::new(),
            co_builder_org_ids: vec![],
            items,
            share_type,
            share_conditions: String::new(),
            share_scope: String::new(),
            share_modes: vec![ShareMode::Api],
            legal_basis: String::new(),
            open_type,
            open_conditions: String::new(),
            open_reason: None,
            open_basis: String::new(),
            update_frequency,
            timeliness: String::new(),
            grade,
            sensitivity: None,
            classified: false,
            release_date: None,
            related_codes: vec![],
        },
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Chinese,
    English,
    Browse,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Chinese => "Chinese words",
            Kind::English => "English words",
            Kind::Browse => "browse (filters only)",
        }
    }
}

/// `n` queries as the portal sends them: Chinese words (subjects, their parts, item
/// names, a district with a subject), English words, and filter-only browsing; a
/// third of the searches carry a filter. Deterministic.
fn queries(n: usize) -> Vec<(Kind, SearchQuery)> {
    const CHINESE_PARTS: &[&str] = &[
        "人口",
        "登记",
        "许可",
        "保险",
        "证明",
        "气象",
        "监测",
        "补贴",
        "普查",
        "不动产",
        "医学",
        "婚姻",
        "学籍",
        "公交",
    ];
    const ENGLISH: &[&str] = &[
        "population",
        "Registration",
        "weather",
        "licence",
        "Census",
        "monitoring",
        "real estate",
        "insurance",
    ];
    let mut rng = Rng(0x0c47_1000);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let dept = rng.pick(DEPARTMENTS);
        let (subject, _) = *rng.pick(dept.subjects);
        let (kind, text) = match i % 10 {
            0..=2 => (Kind::Chinese, subject.to_string()),
            3 => (Kind::Chinese, rng.pick(CHINESE_PARTS).to_string()),
            4 => (Kind::Chinese, rng.pick(dept.items).to_string()),
            5 => (
                Kind::Chinese,
                format!("{} {}", rng.pick(&DISTRICTS[1..]), subject),
            ),
            6 => (
                Kind::Chinese,
                format!("{} {}", subject, rng.pick(CHINESE_PARTS)),
            ),
            7 | 8 => (Kind::English, rng.pick(ENGLISH).to_string()),
            _ => (Kind::Browse, String::new()),
        };
        let mut filters = Filters::default();
        if kind == Kind::Browse || rng.below(3) == 0 {
            match rng.below(4) {
                0 => filters.status = Some("published".into()),
                1 => filters.domain = Some(dept.domain.key().into()),
                2 => filters.share_type = Some("conditional".into()),
                _ => {
                    filters.status = Some("published".into());
                    filters.source_org_id = Some(format!(
                        "org-{}-{:02}",
                        dept.key,
                        rng.below(DISTRICTS.len())
                    ));
                }
            }
        }
        out.push((
            kind,
            SearchQuery {
                text,
                filters,
                limit: PAGE,
                offset: 0,
            },
        ));
    }
    out
}

/// What the peer answers: the total, the first page of ids, the facet counts.
type NaiveResult = (usize, Vec<String>, BTreeMap<String, Vec<(String, u64)>>);

/// The peer: every entry's searchable text, lowercased once, and its filter values.
struct NaiveScan {
    rows: Vec<NaiveRow>,
}

struct NaiveRow {
    id: String,
    text: String,
    /// In the order of [`FACETS`], then status.
    values: [String; 9],
}

impl NaiveScan {
    fn build(docs: &[SearchDoc]) -> Self {
        let rows = docs
            .iter()
            .map(|d| {
                let c = &d.content;
                let mut text = format!("{}\n{}", c.name, c.summary);
                for item in &c.items {
                    text.push('\n');
                    text.push_str(&item.name);
                }
                NaiveRow {
                    id: d.id.clone(),
                    text: text.to_lowercase(),
                    values: [
                        c.source_org_id.clone(),
                        c.category.key().to_string(),
                        c.domain.key().to_string(),
                        c.share_type.key().to_string(),
                        c.open_type.key().to_string(),
                        c.grade.key().to_string(),
                        c.format.key().to_string(),
                        c.update_frequency.key().to_string(),
                        d.status.clone(),
                    ],
                }
            })
            .collect();
        Self { rows }
    }

    /// Entries containing every whitespace-separated part of the text, meeting every
    /// filter; the first page in catalog order (no ranking); the same facet counts.
    fn search(&self, q: &SearchQuery) -> NaiveResult {
        let needles: Vec<String> = q.text.split_whitespace().map(str::to_lowercase).collect();
        let f = &q.filters;
        let wanted: [Option<&str>; 9] = [
            f.source_org_id.as_deref(),
            f.category.as_deref(),
            f.domain.as_deref(),
            f.share_type.as_deref(),
            f.open_type.as_deref(),
            f.grade.as_deref(),
            f.format.as_deref(),
            f.update_frequency.as_deref(),
            f.status.as_deref(),
        ];
        let mut counts: Vec<HashMap<&str, u64>> = vec![HashMap::new(); FACETS.len()];
        let mut total = 0;
        let mut hits = Vec::new();
        for row in &self.rows {
            let passes = wanted
                .iter()
                .zip(&row.values)
                .all(|(w, v)| w.is_none_or(|w| w == v));
            if !passes || !needles.iter().all(|n| row.text.contains(n.as_str())) {
                continue;
            }
            total += 1;
            if total > q.offset && hits.len() < q.limit {
                hits.push(row.id.clone());
            }
            for (facet, value) in counts.iter_mut().zip(&row.values) {
                *facet.entry(value.as_str()).or_insert(0) += 1;
            }
        }
        let facets = FACETS
            .iter()
            .zip(counts)
            .map(|(name, c)| {
                let mut values: Vec<(String, u64)> =
                    c.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                (name.to_string(), values)
            })
            .collect();
        (total, hits, facets)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

#[derive(Default)]
struct Samples {
    index: Vec<Duration>,
    naive: Vec<Duration>,
    index_matches: u64,
    naive_matches: u64,
    queries: usize,
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let cfg = Config::from_env(full);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "# Catalog search (CAT-10): {cores} cores (available_parallelism), {}",
        if cfg.full {
            "release build"
        } else {
            "smoke run (no --bench): figures not meaningful"
        }
    );

    let start = Instant::now();
    let docs: Vec<SearchDoc> = (0..cfg.entries).map(entry).collect();
    let generated = start.elapsed();
    let mean_chars = docs
        .iter()
        .map(|d| {
            let c = &d.content;
            c.name.chars().count()
                + c.summary.chars().count()
                + c.items
                    .iter()
                    .map(|i| i.name.chars().count())
                    .sum::<usize>()
        })
        .sum::<usize>()
        / docs.len();
    println!(
        "{} synthetic entries generated in {:.1} s, mean {} characters of name + summary + \
         item names, {} data items on average",
        docs.len(),
        generated.as_secs_f64(),
        mean_chars,
        docs.iter().map(|d| d.content.items.len()).sum::<usize>() / docs.len()
    );

    // jieba's dictionary loads once per process; time it apart from the build.
    let start = Instant::now();
    CatalogIndex::build(std::iter::empty()).expect("empty index");
    let dictionary = start.elapsed();

    let to_index = docs.clone();
    let start = Instant::now();
    let index = CatalogIndex::build(to_index).expect("build index");
    let build = start.elapsed();
    assert_eq!(index.len(), docs.len());

    let start = Instant::now();
    let naive = NaiveScan::build(&docs);
    let naive_build = start.elapsed();
    println!(
        "jieba dictionary load {:.2} s; index build {:.1} s ({:.0} entries/s); naive scan \
         preparation (lowercased texts) {:.2} s",
        dictionary.as_secs_f64(),
        build.as_secs_f64(),
        docs.len() as f64 / build.as_secs_f64(),
        naive_build.as_secs_f64()
    );

    let queries = queries(cfg.queries);
    // Warm-up: every query once on both sides.
    for (_, q) in &queries {
        index.search_uncached(q).expect("search");
        naive.search(q);
    }
    let kinds = [Kind::Chinese, Kind::English, Kind::Browse];
    let mut by_kind: Vec<Samples> = kinds.iter().map(|_| Samples::default()).collect();
    for _ in 0..cfg.rounds {
        for (kind, q) in &queries {
            let start = Instant::now();
            let result: SearchResult = index.search_uncached(q).expect("search");
            let index_time = start.elapsed();
            let start = Instant::now();
            let (naive_total, naive_hits, naive_facets) = naive.search(q);
            let naive_time = start.elapsed();
            assert_eq!(naive_facets.len(), result.facets.len());
            assert!(naive_hits.len() <= PAGE && result.hits.len() <= PAGE);
            let s = &mut by_kind[kinds.iter().position(|k| k == kind).unwrap_or(0)];
            s.index.push(index_time);
            s.naive.push(naive_time);
            s.index_matches += result.total as u64;
            s.naive_matches += naive_total as u64;
            s.queries += 1;
            if *kind == Kind::Browse {
                assert_eq!(
                    result.total, naive_total,
                    "browsing matches the same entries"
                );
                assert_eq!(result.facets, naive_facets, "and counts the same facets");
            }
        }
    }

    let mut all = Samples::default();
    for s in &by_kind {
        all.index.extend(&s.index);
        all.naive.extend(&s.naive);
        all.index_matches += s.index_matches;
        all.naive_matches += s.naive_matches;
        all.queries += s.queries;
    }
    println!(
        "\n{} queries × {} round(s) after one warm-up pass, one at a time on one thread, \
         {PAGE} hits per page, facets {} counted over all matches; a third carry a filter",
        queries.len(),
        cfg.rounds,
        FACETS.len()
    );
    println!();
    println!(
        "| {} entries | searches | naive scan p50 ms | **index p50 ms** | p50 ratio (scan ÷ index) | \
         naive scan p99 ms | **index p99 ms** | p99 ratio | mean matches: index / scan |",
        docs.len()
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut summary = None;
    for (label, s) in kinds
        .iter()
        .map(|k| k.label())
        .zip(by_kind.iter_mut())
        .chain(std::iter::once(("all", &mut all)))
    {
        if s.queries == 0 {
            continue;
        }
        s.index.sort();
        s.naive.sort();
        let (ip50, ip99) = (percentile(&s.index, 50.0), percentile(&s.index, 99.0));
        let (np50, np99) = (percentile(&s.naive, 50.0), percentile(&s.naive, 99.0));
        println!(
            "| {label} | {} | {} | **{}** | {:.1} | {} | **{}** | {:.1} | {:.0} / {:.0} |",
            s.queries,
            ms(np50),
            ms(ip50),
            np50.as_secs_f64() / ip50.as_secs_f64(),
            ms(np99),
            ms(ip99),
            np99.as_secs_f64() / ip99.as_secs_f64(),
            s.index_matches as f64 / s.queries as f64,
            s.naive_matches as f64 / s.queries as f64,
        );
        if label == "all" {
            summary = Some((ip50, ip99));
        }
    }
    println!(
        "| index build | {} entries | {:.2} s (prepare texts) | **{:.1} s** | | | | | |",
        docs.len(),
        naive_build.as_secs_f64(),
        build.as_secs_f64()
    );

    // Keeping the index current: one entry re-published = upsert, commit, reload.
    let mut upserts = Vec::with_capacity(cfg.upserts);
    for k in 0..cfg.upserts {
        let mut doc = docs[(k * 7919) % docs.len()].clone();
        doc.content.name.push_str("（修订）");
        let start = Instant::now();
        index.upsert(doc).expect("upsert");
        upserts.push(start.elapsed());
    }
    upserts.sort();
    assert_eq!(index.len(), docs.len(), "upserts replace, they do not add");
    println!(
        "\nupsert (commit + reload, visible to the next search): p50 {} ms, max {} ms over {}",
        ms(percentile(&upserts, 50.0)),
        ms(upserts.last().copied().unwrap_or_default()),
        upserts.len()
    );

    if cfg.full {
        let (p50, p99) = summary.unwrap_or_default();
        let verdict = |ok: bool| if ok { "met" } else { "missed" };
        println!(
            "targets: build < {} s {} ({:.1} s); p50 < {} ms {} ({} ms); p99 < {} ms {} ({} ms)",
            TARGET_BUILD.as_secs(),
            verdict(build < TARGET_BUILD),
            build.as_secs_f64(),
            TARGET_P50.as_millis(),
            verdict(p50 < TARGET_P50),
            ms(p50),
            TARGET_P99.as_millis(),
            verdict(p99 < TARGET_P99),
            ms(p99)
        );
    }
}
