//! OPN-2: the demo's open data. Sixty synthetic datasets that departments open to
//! the public — weather, air quality, bus lines, schools, licensed businesses,
//! hospitals, budgets … — each published by its source department (OPN-11) and
//! mounted with real rows through the loading pipeline, so the public portal has
//! something to show. Four are opened on conditions. Every value comes from a fixed
//! seed; credit codes are checksum-valid but belong to no one.
use std::f64::consts::PI;
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};
use gongshu_domain::catalog::{
    Category, DataItem, Domain, EntryContent, FieldType, Grade, ItemConstraints, KeyRole,
    OpenReason, OpenType, ResourceFormat, Sensitivity, ShareMode, ShareType, UpdateFrequency,
};
use gongshu_domain::ids::{CreditCode, DivisionCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::context::{App, Ctx};
use crate::dataset_input::InputFormat;
use crate::datasets::{self, Channel, LoadOptions};
use crate::error::{ErrorKind, ServiceError, ServiceResult};

/// The seed of the open demo data.
const OPEN_SEED: u64 = 20_260_601;

/// What the open demo published.
#[derive(Debug, Clone, Serialize)]
pub struct OpenDemoSummary {
    pub datasets: usize,
    pub conditional: usize,
    pub rows: u64,
}

/// One open dataset: its catalog description and its rows (values in item order).
struct OpenDataset {
    name: String,
    /// Demo organisation key of the source department, which also owns the entry.
    org: &'static str,
    domain: Domain,
    frequency: UpdateFrequency,
    summary: String,
    /// The conditions of a dataset opened on conditions (OPN-4).
    conditions: Option<&'static str>,
    items: Vec<DataItem>,
    rows: Vec<Vec<String>>,
}

fn dataset(
    name: impl Into<String>,
    org: &'static str,
    domain: Domain,
    frequency: UpdateFrequency,
    summary: impl Into<String>,
    items: Vec<DataItem>,
    rows: Vec<Vec<String>>,
) -> OpenDataset {
    OpenDataset {
        name: name.into(),
        org,
        domain,
        frequency,
        summary: summary.into(),
        conditions: None,
        items,
        rows,
    }
}

impl OpenDataset {
    fn on_conditions(mut self, conditions: &'static str) -> Self {
        self.conditions = Some(conditions);
        self
    }
}

const RESEARCH_ONLY: &str = "仅限科研用途，需签订数据利用协议，不得用于识别具体单位或个人";

/// The catalog entry of an open dataset: the one place its content is filled in.
fn open_content(d: &OpenDataset, source_org_id: &str, release_date: NaiveDate) -> EntryContent {
    let conditional = d.conditions.is_some();
    EntryContent {
        name: d.name.clone(),
        summary: format!("{}（演示合成数据）", d.summary),
        category: Category::Business,
        domain: d.domain,
        format: match d.frequency {
            UpdateFrequency::Yearly | UpdateFrequency::HalfYearly | UpdateFrequency::Quarterly => {
                ResourceFormat::Spreadsheet
            }
            _ => ResourceFormat::Database,
        },
        source_org_id: source_org_id.into(),
        providing_org_id: None,
        approving_department: String::new(),
        co_builder_org_ids: Vec::new(),
        items: d.items.clone(),
        share_type: ShareType::Unconditional,
        share_conditions: String::new(),
        share_scope: "全省政务部门".into(),
        share_modes: vec![ShareMode::Api, ShareMode::Download],
        legal_basis: String::new(),
        open_type: if conditional {
            OpenType::Conditional
        } else {
            OpenType::Unconditional
        },
        open_conditions: d.conditions.unwrap_or_default().into(),
        open_reason: conditional.then_some(OpenReason::HighBenefitHighRisk),
        open_basis: if conditional {
            "HZ 33（三）：数据价值高，现阶段须限定用途并签订数据利用协议（合成）".into()
        } else {
            "《示范省公共数据条例》（合成）第三十条：不含个人信息、商业秘密和国家秘密".into()
        },
        update_frequency: d.frequency,
        timeliness: match d.frequency {
            UpdateFrequency::RealTime => "数据产生后 10 分钟内更新",
            UpdateFrequency::Daily => "次日 10 时前更新",
            UpdateFrequency::Weekly => "每周一更新上周数据",
            UpdateFrequency::Monthly => "次月 15 日前更新",
            UpdateFrequency::Quarterly => "季后 30 日内更新",
            UpdateFrequency::HalfYearly | UpdateFrequency::Yearly => "次年 3 月底前更新",
            UpdateFrequency::Other => "变更后 5 个工作日内更新",
        }
        .into(),
        grade: Grade::General,
        sensitivity: Some(if conditional {
            Sensitivity::L2
        } else {
            Sensitivity::L1
        }),
        classified: false,
        release_date: Some(release_date),
        related_codes: Vec::new(),
    }
}

/// Data items from `名称|code_name|type|含义` lines, where the type is `text N`,
/// `int`, `number`, `date` or `credit` (a GB 32100 credit code), and `key …` marks
/// (part of) the record key. A malformed line is a bug the tests catch.
fn items(spec: &[&str]) -> Vec<DataItem> {
    spec.iter()
        .map(|line| {
            let [name, code_name, kind, meaning] = line.split('|').collect::<Vec<_>>()[..] else {
                panic!("demo item spec {line}");
            };
            let (key, kind) = match kind.strip_prefix("key ") {
                Some(rest) => (true, rest),
                None => (false, kind),
            };
            let (field_type, length, role) = match kind.split_once(' ') {
                Some(("text", n)) => {
                    let n = n
                        .parse()
                        .unwrap_or_else(|_| panic!("demo item length {line}"));
                    (FieldType::String, Some(n), KeyRole::None)
                }
                _ => match kind {
                    "int" => (FieldType::Integer, None, KeyRole::None),
                    "number" => (FieldType::Number, None, KeyRole::None),
                    "date" => (FieldType::Date, None, KeyRole::None),
                    "credit" => (FieldType::String, Some(18), KeyRole::CreditCode),
                    _ => panic!("demo item type {kind}"),
                },
            };
            let key_role = if key { KeyRole::RecordKey } else { role };
            DataItem {
                name: name.into(),
                code_name: code_name.into(),
                field_type,
                length,
                meaning: meaning.into(),
                sensitive: false,
                key_role,
                element_code: None,
                constraints: ItemConstraints {
                    required: key_role != KeyRole::None,
                    ..ItemConstraints::default()
                },
            }
        })
        .collect()
}

macro_rules! row {
    ($($v:expr),* $(,)?) => { vec![$($v.to_string()),*] };
}

fn rows(
    n: usize,
    rng: &mut StdRng,
    mut f: impl FnMut(usize, &mut StdRng) -> Vec<String>,
) -> Vec<Vec<String>> {
    (0..n).map(|i| f(i, rng)).collect()
}

// ---------------------------------------------------------------------------
// Places, names and numbers of the synthetic city.

#[derive(Clone, Copy, PartialEq)]
struct Area {
    name: &'static str,
    code: &'static str,
    towns: &'static [&'static str],
    centre: (f64, f64),
}

const CITY: Area = Area {
    name: "云川市",
    code: "830100",
    towns: &["湖滨街道", "东湖街道", "青山镇", "白石镇"],
    centre: (113.00, 28.20),
};
const DONGHU: Area = Area {
    name: "东湖区",
    code: "830102",
    towns: &["湖滨街道", "东湖街道", "文昌街道", "新华街道"],
    centre: (113.04, 28.22),
};
const QINGSHAN: Area = Area {
    name: "青山县",
    code: "830121",
    towns: &["青山镇", "白石镇", "柳溪乡", "龙潭镇"],
    centre: (112.88, 28.09),
};

const ROADS: &[&str] = &[
    "湖滨路",
    "青山大道",
    "云川街",
    "东湖北路",
    "文昌巷",
    "新华路",
    "人民路",
    "解放路",
    "建设大道",
    "滨江路",
    "学府路",
    "金桥路",
    "长乐街",
    "望江路",
    "桂花路",
    "朝阳路",
    "白石路",
    "柳溪路",
    "龙潭街",
    "迎宾大道",
];
const LANDMARKS: &[&str] = &[
    "火车站",
    "市民中心",
    "人民医院",
    "体育中心",
    "云川大学",
    "汽车东站",
    "东湖公园",
    "青山客运站",
    "文化广场",
    "科技园",
    "会展中心",
    "滨江公园",
    "老城区",
    "高新区管委会",
    "中心医院",
    "湿地公园",
];
const PLACES: &[&str] = &[
    "湖滨", "文昌", "新华", "青山", "白石", "柳溪", "东湖", "城南", "城北", "育才", "龙潭", "桂花",
    "望江", "金桥", "朝阳", "长乐",
];
const WORDS: &[&str] = &[
    "恒信", "华泰", "瑞丰", "金桥", "嘉和", "宏达", "天成", "万家", "鑫源", "德润", "盛世", "安康",
    "博雅", "永安", "新锐", "汇通", "和顺", "百合", "同福", "利民", "聚源", "弘毅", "正阳", "康宁",
    "锦程",
];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

/// A place word unique for each `i` below 16 × 9 (湖滨, …, 湖滨二, …).
fn place(i: usize) -> String {
    let round = i / PLACES.len();
    let suffix = if round == 0 {
        String::new()
    } else {
        cn_num(round + 1)
    };
    format!("{}{suffix}", PLACES[i % PLACES.len()])
}

/// 1 … 99 in Chinese numerals.
fn cn_num(n: usize) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => D[n].to_string(),
        10..=19 => format!("十{}", D[n % 10]),
        20..=99 => format!("{}十{}", D[n / 10], D[n % 10]),
        _ => n.to_string(),
    }
}

/// The county a city-wide record lies in.
fn county(rng: &mut StdRng, area: Area) -> Area {
    if area == CITY {
        if rng.gen_bool(0.6) {
            DONGHU
        } else {
            QINGSHAN
        }
    } else {
        area
    }
}

fn address(rng: &mut StdRng, area: Area) -> String {
    let area = county(rng, area);
    format!(
        "示范省云川市{}{}{}号",
        area.name,
        pick(rng, ROADS),
        rng.gen_range(1..400)
    )
}

fn phone(rng: &mut StdRng) -> String {
    format!("0830-{}", rng.gen_range(82_000_000..89_000_000))
}

/// Longitude and latitude near the area's centre.
fn position(rng: &mut StdRng, area: Area) -> (String, String) {
    (
        format!("{:.6}", area.centre.0 + rng.gen_range(-0.06..0.06)),
        format!("{:.6}", area.centre.1 + rng.gen_range(-0.05..0.05)),
    )
}

fn f1(x: f64) -> String {
    format!("{x:.1}")
}

fn f2(x: f64) -> String {
    format!("{x:.2}")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("demo date")
}

/// The year the demo's series cover.
const YEAR: i32 = 2025;

fn day_of_year(i: usize) -> NaiveDate {
    date(YEAR, 1, 1) + Duration::days(i as i64)
}

/// A day between `from` and `from + days`.
fn some_day(rng: &mut StdRng, from: NaiveDate, days: i64) -> NaiveDate {
    from + Duration::days(rng.gen_range(0..days))
}

/// `2024-01` … for month `i` counted from January of `first_year`.
fn month_label(first_year: i32, i: usize) -> String {
    format!("{}-{:02}", first_year + (i / 12) as i32, i % 12 + 1)
}

const DAYS_IN_MONTH: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// +1 in mid-January, −1 in mid-July.
fn winter(i: usize) -> f64 {
    (2.0 * PI * (i as f64 - 15.0) / 365.0).cos()
}

/// The chance of rain on day `i`, highest in the June plum rains.
fn wet_chance(i: usize) -> f64 {
    0.25 + 0.2 * (2.0 * PI * (i as f64 - 80.0) / 365.0).sin()
}

/// A synthetic company name, unique for each `i` below 3 × 25 × `kinds.len()`.
fn company(i: usize, kinds: &[&str]) -> String {
    let region = ["云川", "东湖", "青山"][i % 3];
    let word = WORDS[(i / 3) % WORDS.len()];
    let kind = kinds[(i / (3 * WORDS.len())) % kinds.len()];
    format!("{region}{word}{kind}有限公司")
}

fn credit_code(authority: char, category: char, area: Area, sequence: u32) -> String {
    let division = DivisionCode::parse(area.code).expect("demo division");
    CreditCode::synthesize(authority, category, &division, sequence)
        .expect("synthetic credit code")
        .as_str()
        .to_string()
}

fn stop_name(rng: &mut StdRng) -> String {
    if rng.gen_bool(0.4) {
        format!("{}站", pick(rng, LANDMARKS))
    } else {
        format!(
            "{}{}",
            pick(rng, ROADS),
            pick(rng, &["口", "东", "西", "南", "北", "中段"])
        )
    }
}

// ---------------------------------------------------------------------------
// 气象 Meteorology (no meteorological bureau in the demo region: the ecology and
// environment bureau publishes).

const WINDS: &[&str] = &[
    "北风",
    "东北风",
    "东风",
    "东南风",
    "南风",
    "西南风",
    "西风",
    "西北风",
];

fn daily_weather(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(365, rng, |i, rng| {
        let mean = 17.5 - 11.5 * winter(i) + rng.gen_range(-2.5..2.5);
        let wet = rng.gen_bool(wet_chance(i));
        let sky = match (wet, mean < 3.0) {
            (true, true) => "小雪",
            (true, false) => pick(rng, &["小雨", "小雨", "中雨", "阵雨", "雷阵雨", "大雨"]),
            (false, _) => pick(rng, &["晴", "晴", "多云", "多云", "阴"]),
        };
        row![
            day_of_year(i),
            f1(mean + rng.gen_range(3.0..6.5)),
            f1(mean - rng.gen_range(2.5..5.5)),
            sky,
            if wet {
                rng.gen_range(78..98)
            } else {
                rng.gen_range(45..80)
            },
            pick(rng, WINDS),
            rng.gen_range(1..5),
            f1(if wet {
                rng.gen_range(0.0..2.0)
            } else {
                rng.gen_range(3.0..10.5)
            }),
        ]
    });
    dataset(
        "云川市逐日天气实况数据",
        "ecology",
        Domain::Meteorology,
        UpdateFrequency::Daily,
        "云川市国家基本气象站逐日地面观测结果，含气温、天气现象、湿度、风和日照。",
        items(&[
            "观测日期|observed_on|key date|地面观测的日期",
            "最高气温|max_temperature|number|日最高气温，摄氏度",
            "最低气温|min_temperature|number|日最低气温，摄氏度",
            "天气现象|weather|text 10|白天主要天气现象",
            "平均相对湿度|relative_humidity|int|日平均相对湿度，百分比",
            "风向|wind_direction|text 6|日最多风向",
            "风力等级|wind_scale|int|日最大风力，蒲福风级",
            "日照时数|sunshine_hours|number|日照时数，小时",
        ]),
        rows,
    )
}

fn precipitation(rng: &mut StdRng, area: Area) -> OpenDataset {
    let station = format!("{}国家气象观测站", area.name);
    let mut total = 0.0;
    let rows = rows(365, rng, |i, rng| {
        let amount = if rng.gen_bool(wet_chance(i)) {
            let x: f64 = rng.gen_range(0.05..1.0);
            (x * x * 400.0).round() / 10.0
        } else {
            0.0
        };
        total += amount;
        let level = match amount {
            a if a <= 0.0 => "无降水",
            a if a < 10.0 => "小雨",
            a if a < 25.0 => "中雨",
            a if a < 50.0 => "大雨",
            _ => "暴雨",
        };
        row![
            day_of_year(i),
            station,
            f1(amount),
            f1(amount * rng.gen_range(0.2..0.6)),
            level,
            f1(total),
        ]
    });
    dataset(
        format!("{}逐日降水量数据", area.name),
        "ecology",
        Domain::Meteorology,
        UpdateFrequency::Daily,
        format!(
            "{}国家气象观测站逐日降水量、最大小时降水量和年内累计降水量。",
            area.name
        ),
        items(&[
            "观测日期|observed_on|key date|降水观测的日期",
            "观测站|station|text 30|观测站名称",
            "日降水量|precipitation|number|当日 20 时至 20 时降水量，毫米",
            "最大小时降水量|max_hourly_precipitation|number|当日最大一小时降水量，毫米",
            "降水等级|precipitation_level|text 6|按日降水量划分的等级",
            "年累计降水量|precipitation_to_date|number|当年 1 月 1 日起累计降水量，毫米",
        ]),
        rows,
    )
}

fn aqi_level(aqi: i64) -> &'static str {
    match aqi {
        ..=50 => "优",
        51..=100 => "良",
        101..=150 => "轻度污染",
        151..=200 => "中度污染",
        201..=300 => "重度污染",
        _ => "严重污染",
    }
}

fn air_quality(rng: &mut StdRng, area: Area, station: &str, offset: f64) -> OpenDataset {
    let rows = rows(365, rng, |i, rng| {
        let aqi = (68.0 + offset + 38.0 * winter(i) + rng.gen_range(-28.0..35.0))
            .clamp(18.0, 280.0)
            .round() as i64;
        let o3 = (95.0 - 55.0 * winter(i) + rng.gen_range(-30.0..30.0))
            .max(20.0)
            .round() as i64;
        let pm25 = (aqi as f64 * rng.gen_range(0.42..0.7)).round() as i64;
        let pm10 = (pm25 as f64 * rng.gen_range(1.4..1.9)).round() as i64;
        let primary = if aqi <= 50 {
            "无"
        } else if winter(i) < -0.3 && o3 > 140 {
            "臭氧"
        } else if rng.gen_bool(0.75) {
            "细颗粒物"
        } else {
            "可吸入颗粒物"
        };
        row![
            day_of_year(i),
            station,
            aqi,
            aqi_level(aqi),
            primary,
            pm25,
            pm10,
            o3
        ]
    });
    dataset(
        format!("{}{}空气质量日报数据", area.name, station),
        "ecology",
        Domain::Environment,
        UpdateFrequency::Daily,
        format!("{station}逐日空气质量指数、级别、首要污染物和主要污染物浓度。"),
        items(&[
            "监测日期|monitored_on|key date|空气质量监测的日期",
            "监测站点|station|text 30|空气质量自动监测站名称",
            "空气质量指数|aqi|int|日空气质量指数 AQI",
            "空气质量级别|quality_level|text 10|按 AQI 划分的级别",
            "首要污染物|primary_pollutant|text 10|AQI 大于 50 时的首要污染物",
            "细颗粒物浓度|pm2_5|int|PM2.5 日均浓度，微克每立方米",
            "可吸入颗粒物浓度|pm10|int|PM10 日均浓度，微克每立方米",
            "臭氧浓度|o3_8h|int|臭氧日最大 8 小时平均浓度，微克每立方米",
        ]),
        rows,
    )
}

fn weather_warnings(rng: &mut StdRng) -> OpenDataset {
    let mut days: Vec<usize> = (0..40).map(|_| rng.gen_range(0..360)).collect();
    days.sort_unstable();
    let mut rows = Vec::new();
    for (n, i) in days.into_iter().enumerate() {
        let issued = day_of_year(i);
        let kind = match issued.month() {
            6..=8 => pick(rng, &["暴雨", "高温", "雷电", "暴雨"]),
            12 | 1 | 2 => pick(rng, &["寒潮", "大雾", "道路结冰", "寒潮"]),
            _ => pick(rng, &["大风", "大雾", "雷电", "暴雨"]),
        };
        let guide = match kind {
            "暴雨" => "注意防范城乡积涝和山洪、地质灾害，避免在低洼地带停留",
            "高温" => "避免午后高温时段户外作业，注意防暑降温",
            "雷电" => "尽量减少户外活动，切勿在空旷场地或大树下避雨",
            "寒潮" => "注意添衣保暖，做好农作物和水管防冻",
            "大雾" => "驾驶人员减速慢行，注意交通安全",
            "道路结冰" => "减少车辆外出，行人注意防滑",
            _ => "加固门窗和户外设施，减少户外活动",
        };
        rows.push(row![
            format!("YCQX{YEAR}{:03}", n + 1),
            issued,
            kind,
            pick(rng, &["蓝色", "黄色", "黄色", "橙色", "蓝色", "红色"]),
            pick(rng, &["全市", "东湖区", "青山县", "东湖区、青山县"]),
            guide,
            issued + Duration::days(rng.gen_range(0..3)),
        ]);
    }
    dataset(
        "云川市气象灾害预警信号发布信息",
        "ecology",
        Domain::Meteorology,
        UpdateFrequency::RealTime,
        "全市发布的气象灾害预警信号：类型、级别、影响区域、防御指南和解除日期。",
        items(&[
            "预警编号|warning_no|key text 20|预警信号的发布编号",
            "发布日期|issued_on|date|预警信号发布的日期",
            "预警类型|warning_type|text 10|灾害性天气的类型",
            "预警级别|warning_level|text 4|蓝色、黄色、橙色或红色",
            "影响区域|affected_area|text 60|预警覆盖的区县",
            "防御指南|guidance|text 200|公众防御建议",
            "解除日期|lifted_on|date|预警信号解除的日期",
        ]),
        rows,
    )
}

// ---------------------------------------------------------------------------
// 交通 Transport.

fn bus_lines(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(60, rng, |i, rng| {
        let n = i + 1;
        row![
            format!("YC{n:03}"),
            format!("{n}路"),
            stop_name(rng),
            stop_name(rng),
            format!(
                "{:02}:{:02}",
                5 + rng.gen_range(0..2),
                [0, 15, 30, 45][rng.gen_range(0..4)]
            ),
            format!(
                "{}:{:02}",
                20 + rng.gen_range(0..3),
                [0, 30][rng.gen_range(0..2)]
            ),
            f1(if n > 50 { 2.0 } else { 1.0 }),
            f1(rng.gen_range(6.0..28.0)),
            rng.gen_range(12..42),
            format!("云川公交集团有限公司第{}分公司", cn_num(i % 4 + 1)),
        ]
    });
    dataset(
        "云川市公交线路信息",
        "transport",
        Domain::Transport,
        UpdateFrequency::Monthly,
        "全市运营中的公交线路：起终点、首末班时间、票价、线路长度和运营单位。",
        items(&[
            "线路编号|line_id|key text 10|公交线路的唯一编号",
            "线路名称|line_name|text 20|对外公布的线路名称",
            "起点站|first_stop|text 40|线路起点站名称",
            "终点站|last_stop|text 40|线路终点站名称",
            "首班时间|first_departure|text 5|起点站首班发车时间",
            "末班时间|last_departure|text 5|起点站末班发车时间",
            "票价|fare|number|单程票价，元",
            "线路长度|length_km|number|单程线路长度，公里",
            "站点数|stops|int|单程停靠站点数",
            "运营单位|operator|text 50|承担运营的公交企业",
        ]),
        rows,
    )
}

fn bus_stops(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(400, rng, |i, rng| {
        let area = county(rng, CITY);
        let (lon, lat) = position(rng, area);
        row![
            format!("ZD{:05}", i + 1),
            stop_name(rng),
            pick(rng, ROADS),
            area.name,
            lon,
            lat,
            rng.gen_range(1..9),
            if rng.gen_bool(0.7) { "是" } else { "否" },
        ]
    });
    dataset(
        "云川市公交站点信息",
        "transport",
        Domain::Transport,
        UpdateFrequency::Monthly,
        "全市公交站点的位置、所在道路、途经线路数和候车亭设置情况。",
        items(&[
            "站点编号|stop_id|key text 10|公交站点的唯一编号",
            "站点名称|stop_name|text 40|站牌上的站点名称",
            "所在道路|road|text 30|站点所在道路",
            "所在区县|county|text 10|站点所在区县",
            "经度|longitude|number|站点经度，CGCS2000",
            "纬度|latitude|number|站点纬度，CGCS2000",
            "途经线路数|lines|int|停靠该站的线路数",
            "是否设有候车亭|has_shelter|text 2|是或否",
        ]),
        rows,
    )
}

fn parking(rng: &mut StdRng, area: Area, n: usize, tag: &str) -> OpenDataset {
    let rows = rows(n, rng, |i, rng| {
        let spaces = rng.gen_range(30..600);
        let (lon, lat) = position(rng, area);
        row![
            format!("TCC{tag}{:04}", i + 1),
            format!("{}{}号停车场", pick(rng, ROADS), i + 1),
            address(rng, area),
            pick(
                rng,
                &["路外公共停车场", "立体停车库", "地下停车场", "路内停车泊位"]
            ),
            spaces,
            spaces * rng.gen_range(0..25) / 100,
            pick(
                rng,
                &[
                    "首小时 3 元，之后每小时 2 元，全天封顶 20 元",
                    "每次 5 元",
                    "30 分钟内免费，之后每小时 2 元",
                    "免费",
                ]
            ),
            pick(rng, &["00:00-24:00", "07:00-22:00", "06:30-23:00"]),
            lon,
            lat,
        ]
    });
    dataset(
        format!("{}公共停车场信息", area.name),
        "transport",
        Domain::Transport,
        UpdateFrequency::Monthly,
        format!(
            "{}对外开放的公共停车场：位置、泊位数、充电泊位数、收费标准和开放时间。",
            area.name
        ),
        items(&[
            "停车场编号|parking_id|key text 12|停车场的唯一编号",
            "停车场名称|parking_name|text 40|停车场名称",
            "地址|address|text 100|停车场地址",
            "停车场类型|parking_type|text 20|路外、立体、地下或路内",
            "泊位总数|spaces|int|小型车泊位总数",
            "充电泊位数|charging_spaces|int|配建充电设施的泊位数",
            "收费标准|fee|text 60|小型车收费标准",
            "开放时间|opening_hours|text 20|每日开放时段",
            "经度|longitude|number|入口经度，CGCS2000",
            "纬度|latitude|number|入口纬度，CGCS2000",
        ]),
        rows,
    )
}

fn charging(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(300, rng, |i, rng| {
        let area = county(rng, CITY);
        let (lon, lat) = position(rng, area);
        row![
            format!("CD{:05}", i + 1),
            format!("{}{}号充电站", pick(rng, PLACES), i + 1),
            address(rng, area),
            pick(
                rng,
                &[
                    "云川供电公司",
                    "云川新能源充电服务有限公司",
                    "示范省充电科技有限公司",
                    "云川公交集团有限公司"
                ]
            ),
            rng.gen_range(0..20),
            rng.gen_range(0..30),
            f2(rng.gen_range(0.9..1.6)),
            lon,
            lat,
            some_day(rng, date(2020, 1, 1), 2000),
        ]
    });
    dataset(
        "云川市公共充电设施信息",
        "transport",
        Domain::Transport,
        UpdateFrequency::Monthly,
        "全市对社会开放的电动汽车充电站：位置、运营单位、快慢充桩数和收费标准。",
        items(&[
            "充电站编号|station_id|key text 10|充电站的唯一编号",
            "充电站名称|station_name|text 40|充电站名称",
            "地址|address|text 100|充电站地址",
            "运营单位|operator|text 50|充电站运营企业",
            "快充桩数|fast_chargers|int|直流快充桩数量",
            "慢充桩数|slow_chargers|int|交流慢充桩数量",
            "充电单价|price|number|电费与服务费合计，元每千瓦时",
            "经度|longitude|number|充电站经度，CGCS2000",
            "纬度|latitude|number|充电站纬度，CGCS2000",
            "投运日期|opened_on|date|充电站投入运营的日期",
        ]),
        rows,
    )
}

fn driving_schools(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(25, rng, |i, rng| {
        row![
            format!("YCJP{:04}", i + 1),
            format!("云川{}机动车驾驶员培训有限公司", WORDS[i % WORDS.len()]),
            address(rng, CITY),
            pick(
                rng,
                &["C1、C2", "A1、A2、B2、C1", "C1、C2、C5", "C1、C2、D、E"]
            ),
            rng.gen_range(20..180),
            pick(rng, &["AAA", "AA", "AA", "A"]),
            phone(rng),
        ]
    });
    dataset(
        "云川市机动车驾驶员培训机构名录",
        "transport",
        Domain::Transport,
        UpdateFrequency::Quarterly,
        "经备案的机动车驾驶员培训机构：培训车型、教练车数量和服务质量信誉等级。",
        items(&[
            "备案编号|filing_no|key text 10|驾培机构备案编号",
            "机构名称|school_name|text 60|驾培机构名称",
            "经营地址|address|text 100|主要经营场所",
            "培训车型|vehicle_classes|text 30|可培训的准驾车型",
            "教练车数量|training_vehicles|int|在册教练车数量",
            "信誉等级|credit_rating|text 4|年度服务质量信誉考核等级",
            "联系电话|phone|text 20|对外咨询电话",
        ]),
        rows,
    )
}

fn bus_ridership(rng: &mut StdRng) -> OpenDataset {
    let mut rows = Vec::new();
    for line in 1..=30 {
        let base: f64 = rng.gen_range(60_000.0..600_000.0);
        for (m, days) in DAYS_IN_MONTH.iter().enumerate() {
            let season = (if m == 1 { 0.8 } else { 1.0 }) + rng.gen_range(-0.08..0.08);
            let monthly = (base * season).round() as i64;
            rows.push(row![
                month_label(YEAR, m),
                format!("YC{line:03}"),
                format!("{line}路"),
                monthly,
                monthly / days,
                f1(rng.gen_range(55.0..92.0)),
            ]);
        }
    }
    dataset(
        "云川市公交线路月客运量数据",
        "transport",
        Domain::Transport,
        UpdateFrequency::Monthly,
        "主要公交线路逐月客运量、日均客运量和刷卡乘车占比，供客流研究使用。",
        items(&[
            "统计月份|month|key text 7|统计的年月",
            "线路编号|line_id|key text 10|公交线路的唯一编号",
            "线路名称|line_name|text 20|对外公布的线路名称",
            "月客运量|passengers|int|当月客运量，人次",
            "日均客运量|daily_passengers|int|当月日均客运量，人次",
            "刷卡乘车占比|card_share|number|刷卡和扫码乘车占比，百分比",
        ]),
        rows,
    )
    .on_conditions(RESEARCH_ONLY)
}

// ---------------------------------------------------------------------------
// 教育 Education.

fn schools(rng: &mut StdRng, area: Area, n: usize) -> OpenDataset {
    let mut counters = [0usize; 5];
    let rows = rows(n, rng, |i, rng| {
        let kind =
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4][rng.gen_range(0..20)];
        counters[kind] += 1;
        let c = counters[kind];
        let (stage, name, classes) = match kind {
            0 => ("小学", format!("{}第{}小学", area.name, cn_num(c)), 12..48),
            1 => ("初中", format!("{}第{}中学", area.name, cn_num(c)), 12..36),
            2 => (
                "九年一贯制",
                format!("{}{}学校", area.name, place(c)),
                18..54,
            ),
            3 => (
                "高中",
                format!("{}第{}高级中学", area.name, cn_num(c)),
                18..60,
            ),
            _ => (
                "完全中学",
                format!("{}{}中学", area.name, place(c + 4)),
                24..60,
            ),
        };
        let classes = rng.gen_range(classes);
        let county = county(rng, area);
        row![
            format!("21{}{:04}", &area.code[2..], i + 1),
            name,
            stage,
            if rng.gen_bool(0.85) {
                "公办"
            } else {
                "民办"
            },
            county.name,
            address(rng, county),
            classes,
            classes * rng.gen_range(35..50),
            phone(rng),
        ]
    });
    dataset(
        format!("{}中小学校名录", area.name),
        "education",
        Domain::Education,
        UpdateFrequency::Yearly,
        format!(
            "{}中小学校的学段、办学性质、地址、班级数和在校学生数。",
            area.name
        ),
        items(&[
            "学校标识码|school_id|key text 10|教育部门赋予学校的标识码",
            "学校名称|school_name|text 60|学校全称",
            "学段|stage|text 10|小学、初中、高中等",
            "办学性质|ownership|text 4|公办或民办",
            "所在区县|county|text 10|学校所在区县",
            "学校地址|address|text 100|学校主校区地址",
            "班级数|classes|int|本学年班级数",
            "在校学生数|students|int|本学年在校学生数",
            "联系电话|phone|text 20|学校对外电话",
        ]),
        rows,
    )
}

fn kindergartens(rng: &mut StdRng, area: Area, n: usize) -> OpenDataset {
    let rows = rows(n, rng, |i, rng| {
        let (nature, name, fee): (&str, String, f64) = match rng.gen_range(0..5) {
            0 | 1 => (
                "公办",
                format!("{}{}幼儿园", area.name, place(i)),
                rng.gen_range(600.0..1200.0),
            ),
            2 | 3 => (
                "民办普惠",
                format!("{}{}幼儿园", place(i), WORDS[i % WORDS.len()]),
                rng.gen_range(1000.0..1800.0),
            ),
            _ => (
                "民办",
                format!("云川{}{}双语幼儿园", WORDS[i % WORDS.len()], place(i)),
                rng.gen_range(2000.0..5000.0),
            ),
        };
        let classes = rng.gen_range(3..15);
        row![
            format!("11{}{:04}", &area.code[2..], i + 1),
            name,
            nature,
            pick(rng, &["省一级", "市一级", "市二级", "市三级", "未定级"]),
            address(rng, area),
            classes,
            classes * rng.gen_range(22..32),
            (fee / 10.0).round() * 10.0,
        ]
    });
    dataset(
        format!("{}幼儿园名录", area.name),
        "education",
        Domain::Education,
        UpdateFrequency::Yearly,
        format!(
            "{}幼儿园的办园性质、等级、地址、班级数、在园幼儿数和保育教育费标准。",
            area.name
        ),
        items(&[
            "幼儿园标识码|kindergarten_id|key text 10|教育部门赋予的标识码",
            "幼儿园名称|kindergarten_name|text 60|幼儿园全称",
            "办园性质|ownership|text 10|公办、民办普惠或民办",
            "办园等级|rating|text 10|等级评定结果",
            "地址|address|text 100|园址",
            "班级数|classes|int|本学年班级数",
            "在园幼儿数|children|int|本学年在园幼儿数",
            "保育教育费|monthly_fee|number|保育教育费标准，元每月",
        ]),
        rows,
    )
}

/// 义务教育 enrolment zones of the primary and middle schools of `schools`.
fn enrolment_zones(rng: &mut StdRng, schools: &OpenDataset) -> OpenDataset {
    let mut rows = Vec::new();
    for s in schools
        .rows
        .iter()
        .filter(|r| r[2] == "小学" || r[2] == "初中")
        .take(100)
    {
        let (a, b) = (pick(rng, ROADS), pick(rng, ROADS));
        rows.push(row![
            s[0],
            s[1],
            s[2],
            format!(
                "{a}以东、{b}以北，含{}社区、{}社区",
                pick(rng, PLACES),
                pick(rng, PLACES)
            ),
            rng.gen_range(2..10) * 45,
            s[8],
        ]);
    }
    dataset(
        "云川市义务教育学校招生划片范围信息",
        "education",
        Domain::Education,
        UpdateFrequency::Yearly,
        "市属义务教育学校本年度招生划片范围和招生计划。",
        items(&[
            "学校标识码|school_id|key text 10|教育部门赋予学校的标识码",
            "学校名称|school_name|text 60|学校全称",
            "学段|stage|text 10|小学或初中",
            "划片范围|zone|text 200|对口招生的道路和社区范围",
            "招生计划数|planned_intake|int|本年度起始年级招生计划",
            "咨询电话|phone|text 20|招生咨询电话",
        ]),
        rows,
    )
}

fn training_whitelist(rng: &mut StdRng) -> OpenDataset {
    const SUBJECTS: &[(&str, &str)] = &[
        ("美术", "文化艺术类"),
        ("音乐", "文化艺术类"),
        ("舞蹈", "文化艺术类"),
        ("书法", "文化艺术类"),
        ("体育", "体育类"),
        ("游泳", "体育类"),
        ("科技", "科技类"),
        ("编程", "科技类"),
    ];
    let rows = rows(80, rng, |i, rng| {
        let (subject, kind) = SUBJECTS[i % SUBJECTS.len()];
        row![
            format!("PX{:05}", i + 1),
            format!("云川{}{subject}培训中心", place(i / SUBJECTS.len())),
            kind,
            address(rng, CITY),
            format!("云教培许字{:05}号", 100 + i),
            pick(rng, &["按课时收费，预收费纳入资金监管", "按月收费"]),
            phone(rng),
        ]
    });
    dataset(
        "云川市校外培训机构白名单",
        "education",
        Domain::Education,
        UpdateFrequency::Monthly,
        "经审批登记、纳入预收费监管的非学科类校外培训机构。",
        items(&[
            "机构编号|institution_id|key text 10|培训机构的唯一编号",
            "机构名称|institution_name|text 60|培训机构名称",
            "培训类别|category|text 10|体育类、文化艺术类或科技类",
            "培训地址|address|text 100|培训场所地址",
            "办学许可证号|licence_no|text 30|办学许可证编号",
            "收费方式|fee_mode|text 40|收费与资金监管方式",
            "联系电话|phone|text 20|对外咨询电话",
        ]),
        rows,
    )
}

// ---------------------------------------------------------------------------
// 卫生 Health.

fn medical_institutions(rng: &mut StdRng, area: Area, org: &'static str, n: usize) -> OpenDataset {
    let mut general = 0;
    let rows = rows(n, rng, |i, rng| {
        let county = county(rng, area);
        let town = pick(rng, county.towns);
        let kind = if i < 3 { 0 } else { rng.gen_range(1..20) };
        let (category, name, grade, nature, beds) = match kind {
            0 => {
                general += 1;
                (
                    "综合医院",
                    format!("{}第{}人民医院", area.name, cn_num(general)),
                    if general == 1 && area == CITY {
                        "三级甲等"
                    } else {
                        "二级甲等"
                    },
                    "非营利性",
                    rng.gen_range(300..1500),
                )
            }
            1 => (
                "中医医院",
                format!("{}{}中医医院", area.name, place(i)),
                "二级甲等",
                "非营利性",
                rng.gen_range(150..500),
            ),
            2 | 3 => (
                "专科医院",
                format!(
                    "云川{}{}",
                    place(i),
                    pick(rng, &["口腔医院", "眼科医院", "康复医院", "妇产医院"])
                ),
                pick(rng, &["二级", "一级"]),
                pick(rng, &["非营利性", "营利性"]),
                rng.gen_range(50..300),
            ),
            4..=7 => (
                "基层医疗卫生机构",
                if town.ends_with("街道") {
                    format!("{town}{}社区卫生服务站", place(i))
                } else {
                    format!("{town}{}卫生院", place(i))
                },
                "一级",
                "非营利性",
                rng.gen_range(10..60),
            ),
            8..=10 => (
                "门诊部",
                format!(
                    "云川{}{}门诊部",
                    place(i),
                    pick(rng, &["综合", "中医", "口腔"])
                ),
                "未定级",
                "营利性",
                0,
            ),
            _ => (
                "诊所",
                format!(
                    "云川{}{}诊所",
                    place(i),
                    pick(rng, &["内科", "口腔", "中医", "全科"])
                ),
                "未定级",
                "营利性",
                0,
            ),
        };
        row![
            format!("PDY{}{:05}", area.code, i + 1),
            name,
            category,
            grade,
            nature,
            address(rng, county),
            beds,
            phone(rng),
        ]
    });
    dataset(
        format!("{}医疗机构名录", area.name),
        org,
        Domain::Health,
        UpdateFrequency::Monthly,
        format!(
            "{}依法执业的医疗机构：类别、等级、经营性质、地址和核定床位数。",
            area.name
        ),
        items(&[
            "机构编码|institution_id|key text 20|医疗机构登记编码",
            "机构名称|institution_name|text 60|医疗机构第一名称",
            "机构类别|category|text 20|医疗机构类别",
            "机构等级|grade|text 10|医院等级评审结果",
            "经营性质|nature|text 10|非营利性或营利性",
            "地址|address|text 100|执业地址",
            "核定床位数|beds|int|执业许可核定的床位数",
            "联系电话|phone|text 20|对外咨询电话",
        ]),
        rows,
    )
}

fn vaccination_clinics(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(60, rng, |i, rng| {
        let county = county(rng, CITY);
        row![
            format!("JZ{:04}", i + 1),
            format!("{}{}预防接种门诊", county.name, place(i)),
            county.name,
            address(rng, county),
            pick(
                rng,
                &[
                    "周一至周五 08:00-11:30，14:00-17:00",
                    "周二、周四、周六 08:00-11:30",
                    "周一至周六 08:00-12:00"
                ]
            ),
            pick(
                rng,
                &[
                    "儿童免疫规划疫苗",
                    "成人疫苗",
                    "儿童及成人疫苗",
                    "狂犬病暴露预防处置"
                ]
            ),
            phone(rng),
        ]
    });
    dataset(
        "云川市预防接种门诊信息",
        "health",
        Domain::Health,
        UpdateFrequency::Monthly,
        "全市预防接种门诊的地址、服务时间、接种类别和咨询电话。",
        items(&[
            "门诊编号|clinic_id|key text 10|接种门诊的唯一编号",
            "门诊名称|clinic_name|text 60|接种门诊名称",
            "所在区县|county|text 10|门诊所在区县",
            "地址|address|text 100|门诊地址",
            "服务时间|service_hours|text 60|接种服务时间",
            "接种类别|services|text 40|提供的接种服务类别",
            "咨询电话|phone|text 20|接种咨询电话",
        ]),
        rows,
    )
}

fn insured_providers(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(250, rng, |i, rng| {
        let county = county(rng, CITY);
        let (prefix, kind, name) = if i % 5 < 2 {
            (
                "H",
                "定点医疗机构",
                format!("{}{}医院", county.name, place(i / 5 * 2 + i % 5)),
            )
        } else {
            (
                "P",
                "定点零售药店",
                format!(
                    "云川{}大药房{}店",
                    WORDS[i % WORDS.len()],
                    place(i / WORDS.len())
                ),
            )
        };
        row![
            format!("{prefix}{}{:05}", county.code, i + 1),
            name,
            kind,
            county.name,
            address(rng, county),
            some_day(rng, date(2019, 1, 1), 2500),
            if rng.gen_bool(0.95) { "是" } else { "否" },
        ]
    });
    dataset(
        "云川市医保定点医药机构名录",
        "medical",
        Domain::SocialSecurity,
        UpdateFrequency::Monthly,
        "签订医保服务协议的定点医疗机构和定点零售药店，及是否开通异地就医直接结算。",
        items(&[
            "定点机构编码|provider_id|key text 14|医保定点机构编码",
            "机构名称|provider_name|text 60|定点医药机构名称",
            "机构类型|provider_type|text 10|定点医疗机构或定点零售药店",
            "所在区县|county|text 10|机构所在区县",
            "地址|address|text 100|机构地址",
            "协议起始日期|agreement_from|date|医保服务协议生效日期",
            "异地直接结算|cross_region_settlement|text 2|是否开通异地就医直接结算",
        ]),
        rows,
    )
}

fn outpatient_statistics(rng: &mut StdRng) -> OpenDataset {
    let mut rows = Vec::new();
    for h in 0..20 {
        let (name, base) = if h < 4 {
            (format!("云川市第{}人民医院", cn_num(h + 1)), 90_000.0)
        } else {
            (format!("云川市{}医院", place(h)), 20_000.0)
        };
        let size: f64 = rng.gen_range(0.5..1.5);
        for m in 0..12 {
            let visits = base * size * (1.0 + 0.25 * winter(m * 30 + 15)) * rng.gen_range(0.9..1.1);
            rows.push(row![
                month_label(YEAR, m),
                format!("PDY830100{:05}", h + 1),
                name,
                visits.round() as i64,
                (visits * rng.gen_range(0.08..0.15)).round() as i64,
                (visits * rng.gen_range(0.02..0.05)).round() as i64,
            ]);
        }
    }
    dataset(
        "云川市医疗机构门诊量统计数据",
        "health",
        Domain::Health,
        UpdateFrequency::Monthly,
        "市属主要医疗机构逐月门诊、急诊人次和出院人数，供卫生服务研究使用。",
        items(&[
            "统计月份|month|key text 7|统计的年月",
            "机构编码|institution_id|key text 20|医疗机构登记编码",
            "机构名称|institution_name|text 60|医疗机构第一名称",
            "门诊人次|outpatient_visits|int|当月门诊人次",
            "急诊人次|emergency_visits|int|当月急诊人次",
            "出院人数|discharges|int|当月出院人数",
        ]),
        rows,
    )
    .on_conditions(RESEARCH_ONLY)
}

// ---------------------------------------------------------------------------
// 市场监管 Market regulation. Credit codes are synthesized here only for the
// licensed businesses and pharmacies of the city bureau, so county data never
// competes with it for a datum of the legal-entity base (CAT-3).

const ENTERPRISE_NAME: &str = "企业名称|enterprise_name|text 60|企业在市场监管部门登记的名称";
const CREDIT_CODE: &str = "统一社会信用代码|credit_code|credit|企业的统一社会信用代码";

fn licensed_businesses(rng: &mut StdRng) -> OpenDataset {
    const MATTERS: &[(&str, &str, &str)] = &[
        ("食品生产许可", "SC", "食品"),
        ("药品经营许可", "YJ", "医药"),
        ("医疗器械经营许可", "XK", "医疗器械"),
        ("特种设备生产许可", "TS", "机械设备"),
        ("工业产品生产许可", "GY", "建材"),
        ("检验检测机构资质认定", "JC", "检测技术"),
        ("食品经营许可", "JY", "餐饮管理"),
    ];
    let rows = rows(500, rng, |i, rng| {
        let (matter, prefix, kind) = MATTERS[i % MATTERS.len()];
        let area = county(rng, CITY);
        let issued = some_day(rng, date(2021, 1, 1), 1800);
        row![
            format!("{prefix}{}{:06}", area.code, i + 1),
            credit_code('9', '1', area, 31_000_000 + i as u32),
            company(i / MATTERS.len(), &[kind]),
            matter,
            "云川市市场监督管理局",
            issued,
            issued + Duration::days(5 * 365),
            address(rng, area),
        ]
    });
    dataset(
        "云川市许可企业名录",
        "market",
        Domain::MarketRegulation,
        UpdateFrequency::Daily,
        "市场监管部门作出的行政许可：许可证编号、企业、许可事项和有效期。",
        items(&[
            "许可证编号|licence_no|key text 20|行政许可证书编号",
            CREDIT_CODE,
            ENTERPRISE_NAME,
            "许可事项|licensed_matter|text 30|行政许可事项名称",
            "许可机关|licensing_authority|text 40|作出许可的机关",
            "许可日期|issued_on|date|作出许可的日期",
            "有效期至|valid_until|date|许可证有效期截止日期",
            "住所|address|text 100|企业登记住所",
        ]),
        rows,
    )
}

fn food_licences(rng: &mut StdRng, area: Area, org: &'static str, n: usize) -> OpenDataset {
    const SHOPS: &[(&str, &str, &str)] = &[
        ("面馆", "餐饮服务经营者", "热食类食品制售"),
        ("小吃店", "餐饮服务经营者", "热食类食品制售；冷食类食品制售"),
        ("火锅店", "餐饮服务经营者", "热食类食品制售"),
        ("饭店", "餐饮服务经营者", "热食类食品制售；冷食类食品制售"),
        ("烘焙坊", "餐饮服务经营者", "糕点类食品（含裱花蛋糕）制售"),
        ("茶饮店", "餐饮服务经营者", "自制饮品制售"),
        (
            "超市",
            "食品销售经营者",
            "预包装食品销售（含冷藏冷冻食品）；散装食品销售",
        ),
        (
            "便利店",
            "食品销售经营者",
            "预包装食品销售（不含冷藏冷冻食品）",
        ),
        ("食堂", "单位食堂", "热食类食品制售"),
    ];
    let rows = rows(n, rng, |i, rng| {
        let (shop, kind, scope) = SHOPS[i % SHOPS.len()];
        let issued = some_day(rng, date(2021, 1, 1), 1800);
        let county = county(rng, area);
        let owner = if shop == "食堂" {
            format!("{}{}学校", county.name, place(i / SHOPS.len()))
        } else {
            format!("{}{}", place(i / SHOPS.len()), WORDS[i % WORDS.len()])
        };
        row![
            format!("JY{}{}{:05}", 1 + i % 3, area.code, i + 1),
            format!("{owner}{shop}"),
            address(rng, county),
            kind,
            scope,
            issued,
            issued + Duration::days(5 * 365),
        ]
    });
    dataset(
        format!("{}食品经营许可信息", area.name),
        org,
        Domain::MarketRegulation,
        UpdateFrequency::Daily,
        format!(
            "{}核发的食品经营许可证：经营者、经营场所、主体业态、经营项目和有效期。",
            area.name
        ),
        items(&[
            "许可证编号|licence_no|key text 20|食品经营许可证编号",
            "经营者名称|operator_name|text 60|许可证载明的经营者名称",
            "经营场所|premises|text 100|经营场所地址",
            "主体业态|business_form|text 20|经营主体业态",
            "经营项目|business_scope|text 100|许可的经营项目",
            "发证日期|issued_on|date|许可证发证日期",
            "有效期至|valid_until|date|许可证有效期截止日期",
        ]),
        rows,
    )
}

fn pharmacies(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(300, rng, |i, rng| {
        let area = county(rng, CITY);
        row![
            format!("YCYJ{:06}", i + 1),
            credit_code('9', '1', area, 32_000_000 + i as u32),
            format!(
                "云川{}大药房连锁有限公司{}店",
                WORDS[i % WORDS.len()],
                place(i / WORDS.len())
            ),
            if i % WORDS.len() < 20 {
                "零售（连锁）"
            } else {
                "零售"
            },
            address(rng, area),
            pick(rng, &["08:00-22:00", "00:00-24:00", "07:30-21:30"]),
            if rng.gen_bool(0.7) { "是" } else { "否" },
        ]
    });
    dataset(
        "云川市药品零售企业名录",
        "market",
        Domain::MarketRegulation,
        UpdateFrequency::Daily,
        "持有药品经营许可证的零售药店：经营方式、地址、营业时间和是否医保定点。",
        items(&[
            "药品经营许可证号|licence_no|key text 12|药品经营许可证编号",
            CREDIT_CODE,
            ENTERPRISE_NAME,
            "经营方式|retail_mode|text 10|零售或零售（连锁）",
            "注册地址|address|text 100|许可证载明的注册地址",
            "营业时间|opening_hours|text 20|每日营业时间",
            "是否医保定点|insured|text 2|是否为医保定点零售药店",
        ]),
        rows,
    )
}

fn spot_checks(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(200, rng, |i, rng| {
        row![
            format!("SSJ{YEAR}{:05}", i + 1),
            pick(
                rng,
                &[
                    "企业公示信息抽查",
                    "食品经营者监督检查",
                    "特种设备使用单位检查",
                    "广告发布合规检查"
                ]
            ),
            company(i, &["商贸", "科技", "餐饮管理", "物流", "电器"]),
            some_day(rng, date(YEAR, 3, 1), 270),
            pick(
                rng,
                &[
                    "未发现问题",
                    "未发现问题",
                    "未发现问题",
                    "未发现问题",
                    "未发现问题",
                    "未按规定公示年度报告",
                    "通过登记的住所无法联系",
                    "发现问题已责令改正",
                ]
            ),
            "云川市市场监督管理局",
        ]
    });
    dataset(
        "云川市双随机抽查结果信息",
        "market",
        Domain::MarketRegulation,
        UpdateFrequency::Monthly,
        "“双随机、一公开”监管抽查的对象、事项、日期和结果。",
        items(&[
            "记录编号|record_no|key text 14|抽查结果记录编号",
            "抽查事项|check_item|text 40|抽查任务的事项",
            "检查对象名称|subject_name|text 60|被抽查的市场主体名称",
            "检查日期|checked_on|date|实施检查的日期",
            "检查结果|result|text 40|检查结果",
            "检查机关|authority|text 40|实施检查的机关",
        ]),
        rows,
    )
}

fn product_checks(rng: &mut StdRng) -> OpenDataset {
    const PRODUCTS: &[(&str, &str)] = &[
        ("电线电缆", "导体电阻"),
        ("儿童玩具", "小零件"),
        ("电动自行车", "整车质量"),
        ("塑料购物袋", "厚度"),
        ("家用燃气灶具", "熄火保护装置"),
        ("学生用品", "可迁移元素"),
        ("复混肥料", "总养分"),
        ("建筑用钢筋", "屈服强度"),
        ("电热水壶", "泄漏电流"),
        ("服装", "纤维含量"),
    ];
    let rows = rows(150, rng, |i, rng| {
        let (product, failed_item) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        let passed = rng.gen_bool(0.9);
        row![
            format!("CJ{YEAR}{:05}", i + 1),
            product,
            format!(
                "{}-{}",
                pick(rng, &["YC", "QS", "DH", "ZX"]),
                rng.gen_range(100..999)
            ),
            company(i + 200, &["制造", "实业", "电器", "塑业"]),
            some_day(rng, date(YEAR, 2, 1), 300),
            if passed { "合格" } else { "不合格" },
            if passed { "" } else { failed_item },
        ]
    });
    dataset(
        "云川市产品质量监督抽查结果信息",
        "market",
        Domain::MarketRegulation,
        UpdateFrequency::Quarterly,
        "产品质量监督抽查的产品、生产企业、抽样日期、检验结论和不合格项目。",
        items(&[
            "抽查编号|sample_no|key text 14|抽样单编号",
            "产品名称|product|text 30|被抽查的产品",
            "规格型号|model|text 20|产品规格型号",
            "生产企业名称|manufacturer|text 60|标称生产企业",
            "抽样日期|sampled_on|date|抽样的日期",
            "检验结论|conclusion|text 6|合格或不合格",
            "不合格项目|failed_item|text 40|不合格时的项目",
        ]),
        rows,
    )
}

// ---------------------------------------------------------------------------
// 文旅体 Culture, tourism and sport (no culture bureau in the demo region: the
// education bureau publishes).

fn scenic_spots(rng: &mut StdRng) -> OpenDataset {
    const NAMES: &[&str] = &[
        "青山", "白石", "柳溪", "龙潭", "东湖", "云川", "桂花", "望江", "凤凰", "九龙",
    ];
    const KINDS: &[&str] = &["风景区", "湿地公园", "古镇", "森林公园", "生态园"];
    let rows = rows(30, rng, |i, rng| {
        let rating = match i {
            0 => "AAAAA",
            1..=6 => "AAAA",
            7..=21 => "AAA",
            _ => "AA",
        };
        let area = county(rng, CITY);
        row![
            format!("JQ{:03}", i + 1),
            format!("{}{}", NAMES[i % NAMES.len()], KINDS[i / NAMES.len()]),
            rating,
            area.name,
            address(rng, area),
            pick(rng, &["08:00-17:30", "全天开放", "08:30-18:00"]),
            f1(if rng.gen_bool(0.4) {
                0.0
            } else {
                (rng.gen_range(2..16) * 10) as f64
            }),
            phone(rng),
        ]
    });
    dataset(
        "云川市A级旅游景区名录",
        "education",
        Domain::Education,
        UpdateFrequency::Quarterly,
        "全市 A 级旅游景区的等级、地址、开放时间、门票价格和咨询电话。",
        items(&[
            "景区编号|spot_id|key text 6|景区的唯一编号",
            "景区名称|spot_name|text 40|景区名称",
            "景区等级|rating|text 6|A 级景区等级",
            "所在区县|county|text 10|景区所在区县",
            "地址|address|text 100|景区地址",
            "开放时间|opening_hours|text 20|景区开放时间",
            "门票价格|ticket_price|number|成人门票价格，元，0 为免费",
            "咨询电话|phone|text 20|游客咨询电话",
        ]),
        rows,
    )
}

fn libraries(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(25, rng, |i, rng| {
        let area = [CITY, DONGHU, QINGSHAN][i % 3];
        let name = match i {
            0..=2 => format!("{}图书馆", area.name),
            _ if i % 2 == 0 => format!("{}图书馆{}分馆", area.name, place(i)),
            _ => format!("{}{}城市书房", area.name, place(i)),
        };
        let big = i < 3;
        row![
            format!("TSG{:03}", i + 1),
            name,
            address(rng, area),
            if big {
                rng.gen_range(8000..30000)
            } else {
                rng.gen_range(80..800)
            },
            if big {
                rng.gen_range(400_000..2_000_000)
            } else {
                rng.gen_range(3000..30000)
            },
            if big {
                rng.gen_range(500..1500)
            } else {
                rng.gen_range(20..120)
            },
            pick(
                rng,
                &[
                    "周二至周日 09:00-21:00",
                    "每日 08:00-22:00",
                    "24 小时自助开放"
                ]
            ),
            phone(rng),
        ]
    });
    dataset(
        "云川市公共图书馆信息",
        "education",
        Domain::Education,
        UpdateFrequency::Yearly,
        "公共图书馆、分馆和城市书房的地址、馆舍面积、藏书量、阅览座位和开放时间。",
        items(&[
            "图书馆编号|library_id|key text 6|图书馆的唯一编号",
            "图书馆名称|library_name|text 40|图书馆名称",
            "地址|address|text 100|馆址",
            "馆舍面积|floor_area|int|馆舍建筑面积，平方米",
            "藏书量|holdings|int|纸质藏书量，册",
            "阅览座位|seats|int|阅览座位数",
            "开放时间|opening_hours|text 30|对外开放时间",
            "联系电话|phone|text 20|咨询电话",
        ]),
        rows,
    )
}

fn museums(rng: &mut StdRng) -> OpenDataset {
    const TOPICS: &[(&str, &str)] = &[
        ("陶瓷", "艺术类"),
        ("民俗", "历史类"),
        ("茶文化", "历史类"),
        ("水利", "自然科技类"),
        ("地质", "自然科技类"),
        ("书画", "艺术类"),
        ("钱币", "历史类"),
        ("革命历史", "纪念类"),
        ("农耕文化", "历史类"),
        ("中医药", "自然科技类"),
        ("戏曲", "艺术类"),
        ("竹编", "艺术类"),
        ("石刻", "历史类"),
        ("铁路", "自然科技类"),
        ("非遗", "综合类"),
        ("丝绸", "艺术类"),
        ("古桥", "历史类"),
    ];
    let rows = rows(20, rng, |i, rng| {
        let (name, kind, state) = if i < 3 {
            let area = [CITY, DONGHU, QINGSHAN][i];
            (format!("{}博物馆", area.name), "综合类", "国有")
        } else {
            let (topic, kind) = TOPICS[i - 3];
            (
                format!("云川{topic}博物馆"),
                kind,
                if i % 3 == 0 { "非国有" } else { "国有" },
            )
        };
        row![
            format!("BWG{:03}", i + 1),
            name,
            kind,
            state,
            if state == "国有" { "是" } else { "否" },
            address(rng, CITY),
            pick(rng, &["周二至周日 09:00-17:00", "周三至周日 09:30-16:30"]),
            phone(rng),
        ]
    });
    dataset(
        "云川市博物馆名录",
        "education",
        Domain::Education,
        UpdateFrequency::Yearly,
        "经备案的博物馆：类型、性质、是否免费开放、地址和开放时间。",
        items(&[
            "博物馆编号|museum_id|key text 6|博物馆的唯一编号",
            "博物馆名称|museum_name|text 40|博物馆名称",
            "博物馆类型|museum_type|text 10|综合类、历史类、艺术类等",
            "性质|ownership|text 6|国有或非国有",
            "是否免费开放|free_entry|text 2|是或否",
            "地址|address|text 100|馆址",
            "开放时间|opening_hours|text 30|对外开放时间",
            "联系电话|phone|text 20|咨询电话",
        ]),
        rows,
    )
}

fn hotels(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(40, rng, |i, rng| {
        let star = match i {
            0..=2 => "五星级",
            3..=11 => "四星级",
            12..=29 => "三星级",
            _ => "二星级",
        };
        row![
            format!("XJ{:03}", i + 1),
            format!(
                "云川{}{}",
                WORDS[i % WORDS.len()],
                ["大酒店", "宾馆", "国际酒店", "度假酒店"][i / WORDS.len() + (i % 2) * 2]
            ),
            star,
            match star {
                "五星级" => rng.gen_range(250..500),
                "四星级" => rng.gen_range(150..300),
                _ => rng.gen_range(50..180),
            },
            address(rng, CITY),
            phone(rng),
        ]
    });
    dataset(
        "云川市星级饭店名录",
        "education",
        Domain::Education,
        UpdateFrequency::HalfYearly,
        "评定的星级旅游饭店：星级、客房数、地址和联系电话。",
        items(&[
            "饭店编号|hotel_id|key text 6|饭店的唯一编号",
            "饭店名称|hotel_name|text 40|饭店名称",
            "星级|star_rating|text 6|旅游饭店星级",
            "客房数|rooms|int|可供出租的客房数",
            "地址|address|text 100|饭店地址",
            "联系电话|phone|text 20|前台电话",
        ]),
        rows,
    )
}

fn heritage_sites(rng: &mut StdRng) -> OpenDataset {
    const KINDS: &[(&str, &str)] = &[
        ("古桥", "古建筑"),
        ("祠堂", "古建筑"),
        ("古井", "古建筑"),
        ("石牌坊", "古建筑"),
        ("旧居", "近现代重要史迹及代表性建筑"),
        ("古塔", "古建筑"),
        ("古窑址", "古遗址"),
        ("书院", "古建筑"),
        ("古墓群", "古墓葬"),
        ("摩崖石刻", "石窟寺及石刻"),
    ];
    let rows = rows(80, rng, |i, rng| {
        let (kind, category) = KINDS[i % KINDS.len()];
        let level = match i {
            0..=1 => "全国重点文物保护单位",
            2..=9 => "省级文物保护单位",
            10..=34 => "市级文物保护单位",
            _ => "县级文物保护单位",
        };
        let era = if kind == "旧居" {
            "民国"
        } else {
            pick(rng, &["宋", "元", "明", "清", "清", "明"])
        };
        let area = county(rng, CITY);
        row![
            format!("WB{:04}", i + 1),
            format!("{}{kind}", place(i / KINDS.len() * 2 + i % 2)),
            level,
            era,
            category,
            area.name,
            some_day(rng, date(1985, 1, 1), 13000),
        ]
    });
    dataset(
        "云川市文物保护单位名录",
        "education",
        Domain::Education,
        UpdateFrequency::Yearly,
        "全市各级文物保护单位的级别、年代、类别、所在区县和公布日期。",
        items(&[
            "文保单位编号|site_id|key text 8|文物保护单位编号",
            "名称|site_name|text 40|文物保护单位名称",
            "保护级别|protection_level|text 20|公布的保护级别",
            "年代|era|text 10|文物年代",
            "类别|category|text 20|文物类别",
            "所在区县|county|text 10|所在区县",
            "公布日期|listed_on|date|公布为文物保护单位的日期",
        ]),
        rows,
    )
}

fn sports_venues(rng: &mut StdRng) -> OpenDataset {
    const KINDS: &[&str] = &[
        "体育馆",
        "游泳馆",
        "全民健身中心",
        "体育公园",
        "网球中心",
        "足球公园",
        "篮球公园",
    ];
    let rows = rows(40, rng, |i, rng| {
        let area = county(rng, CITY);
        row![
            format!("TY{:03}", i + 1),
            format!("{}{}", place(i / KINDS.len()), KINDS[i % KINDS.len()]),
            area.name,
            address(rng, area),
            pick(rng, &["06:00-22:00", "08:00-21:00", "全天开放"]),
            pick(rng, &["免费", "低收费", "免费时段与低收费时段结合"]),
            rng.gen_range(2..60) * 100,
        ]
    });
    dataset(
        "云川市公共体育场馆信息",
        "education",
        Domain::Education,
        UpdateFrequency::Yearly,
        "向社会开放的公共体育场馆：地址、开放时间、收费方式和容量。",
        items(&[
            "场馆编号|venue_id|key text 6|场馆的唯一编号",
            "场馆名称|venue_name|text 40|场馆名称",
            "所在区县|county|text 10|场馆所在区县",
            "地址|address|text 100|场馆地址",
            "开放时间|opening_hours|text 20|对外开放时间",
            "收费方式|fee_mode|text 20|免费或低收费开放方式",
            "可容纳人数|capacity|int|同时可容纳的健身人数",
        ]),
        rows,
    )
}

// ---------------------------------------------------------------------------
// 民政 Civil affairs.

fn elderly_care(rng: &mut StdRng, area: Area, org: &'static str, n: usize) -> OpenDataset {
    let rows = rows(n, rng, |i, rng| {
        let county = county(rng, area);
        let (nature, name) = match i % 3 {
            0 => (
                "公办",
                format!("{}{}养老服务中心", pick(rng, county.towns), place(i)),
            ),
            1 => ("公建民营", format!("{}{}颐养院", county.name, place(i))),
            _ => (
                "民办",
                format!("云川{}{}康养中心", WORDS[i % WORDS.len()], place(i)),
            ),
        };
        let beds = rng.gen_range(30..400);
        let low = rng.gen_range(15..35) * 100;
        row![
            format!("YL{}{:04}", area.code, i + 1),
            name,
            nature,
            county.name,
            address(rng, county),
            beds,
            beds * rng.gen_range(40..80) / 100,
            format!("{low}-{}元/月", low + rng.gen_range(10..40) * 100),
            phone(rng),
        ]
    });
    dataset(
        format!("{}养老机构名录", area.name),
        org,
        Domain::SocialSecurity,
        UpdateFrequency::Quarterly,
        format!(
            "{}已备案的养老机构：性质、地址、床位数、护理型床位数和收费区间。",
            area.name
        ),
        items(&[
            "机构编号|institution_id|key text 12|养老机构备案编号",
            "机构名称|institution_name|text 60|养老机构名称",
            "机构性质|nature|text 6|公办、公建民营或民办",
            "所在区县|county|text 10|机构所在区县",
            "地址|address|text 100|机构地址",
            "床位数|beds|int|备案床位总数",
            "护理型床位数|care_beds|int|其中护理型床位数",
            "收费区间|fee_range|text 20|月收费区间",
            "联系电话|phone|text 20|咨询电话",
        ]),
        rows,
    )
}

fn social_organisations(rng: &mut StdRng) -> OpenDataset {
    const TOPICS: &[&str] = &[
        "摄影",
        "书法",
        "老年体育",
        "餐饮行业",
        "物流行业",
        "个体劳动者",
        "志愿服务",
        "青年企业家",
        "围棋",
        "象棋",
        "登山",
        "茶叶",
        "中医药",
        "养老服务",
        "家政服务",
        "软件行业",
        "旅游",
        "农业产业化",
        "园林绿化",
        "物业管理",
        "文化创意",
        "残疾人康复",
        "心理健康",
        "社区治理",
        "垂钓",
        "舞蹈",
        "合唱",
        "民间文艺",
        "科普",
        "环境保护",
        "律师",
        "会计",
        "建筑装饰",
        "电子商务",
    ];
    let rows = rows(300, rng, |i, rng| {
        let area = [CITY, DONGHU, QINGSHAN][i % 3];
        let topic = TOPICS[(i / 3) % TOPICS.len()];
        let round = i / (3 * TOPICS.len());
        let (kind, category, name, scope) = match round {
            0 => (
                "社会团体",
                '1',
                format!("{}{topic}协会", area.name),
                format!("{topic}领域的行业交流、培训、咨询服务"),
            ),
            1 => (
                "民办非企业单位",
                '2',
                format!("{}{topic}服务中心", area.name),
                format!("提供{topic}相关的公益服务和技能培训"),
            ),
            _ if i % 5 == 0 => (
                "基金会",
                '3',
                format!("{}{topic}发展基金会", area.name),
                format!("资助{topic}相关的公益项目"),
            ),
            _ => (
                "民办非企业单位",
                '2',
                format!("{}{topic}社会工作服务社", area.name),
                format!("开展{topic}相关的社会工作服务"),
            ),
        };
        row![
            credit_code('5', category, area, 40_000_000 + i as u32),
            name,
            kind,
            scope,
            format!("{}民政局", area.name),
            some_day(rng, date(2005, 1, 1), 7000),
            address(rng, area),
        ]
    });
    dataset(
        "云川市社会组织名录",
        "civil",
        Domain::SocialSecurity,
        UpdateFrequency::Monthly,
        "依法登记的社会团体、民办非企业单位和基金会：类型、业务范围、登记机关和成立日期。",
        items(&[
            "统一社会信用代码|credit_code|credit|社会组织的统一社会信用代码",
            "社会组织名称|organisation_name|text 60|登记的社会组织名称",
            "组织类型|organisation_type|text 10|社会团体、民办非企业单位或基金会",
            "业务范围|business_scope|text 100|章程核准的业务范围",
            "登记管理机关|registrar|text 20|登记管理机关",
            "成立登记日期|registered_on|date|成立登记的日期",
            "住所|address|text 100|登记住所",
        ]),
        rows,
    )
}

fn communities(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(60, rng, |i, rng| {
        let street = i % DONGHU.towns.len();
        let households = rng.gen_range(800..6000);
        row![
            format!(
                "{}{:03}{:03}",
                DONGHU.code,
                street + 1,
                i / DONGHU.towns.len() + 1
            ),
            format!("{}社区居民委员会", place(i)),
            DONGHU.towns[street],
            address(rng, DONGHU),
            households,
            households * rng.gen_range(24..30) / 10,
            phone(rng),
        ]
    });
    dataset(
        "东湖区社区居民委员会名录",
        "donghu_civil",
        Domain::SocialSecurity,
        UpdateFrequency::Yearly,
        "东湖区社区居民委员会的所属街道、办公地址、户数、常住人口和联系电话。",
        items(&[
            "社区代码|community_code|key text 12|统计用城乡划分代码",
            "社区名称|community_name|text 40|社区居民委员会名称",
            "所属街道|subdistrict|text 20|所属街道办事处",
            "办公地址|address|text 100|社区党群服务中心地址",
            "户数|households|int|辖区户数",
            "常住人口|residents|int|辖区常住人口",
            "联系电话|phone|text 20|社区服务电话",
        ]),
        rows,
    )
}

// ---------------------------------------------------------------------------
// 生态环境 Environment, and the water and power companies.

fn surface_water(rng: &mut StdRng) -> OpenDataset {
    const SECTIONS: &[(&str, &str)] = &[
        ("柳溪入境", "柳溪"),
        ("柳溪青山桥", "柳溪"),
        ("云川江上游", "云川江"),
        ("云川江城区", "云川江"),
        ("云川江出境", "云川江"),
        ("东湖湖心", "东湖"),
        ("东湖出口", "东湖"),
        ("白石河口", "白石河"),
        ("龙潭水库坝前", "龙潭水库"),
        ("龙潭水库库尾", "龙潭水库"),
    ];
    let mut rows = Vec::new();
    for (s, (name, water)) in SECTIONS.iter().enumerate() {
        let base: f64 = rng.gen_range(0.1..1.3);
        for m in 0..24 {
            let ammonia: f64 = (base * rng.gen_range(0.6..1.5)).max(0.03);
            let class = match ammonia {
                a if a <= 0.15 => "I类",
                a if a <= 0.5 => "II类",
                a if a <= 1.0 => "III类",
                a if a <= 1.5 => "IV类",
                a if a <= 2.0 => "V类",
                _ => "劣V类",
            };
            rows.push(row![
                format!("DM{:02}", s + 1),
                month_label(YEAR - 1, m),
                format!("{name}断面"),
                water,
                class,
                f1(rng.gen_range(5.0..9.5)),
                f1(rng.gen_range(1.5..5.5)),
                f2(ammonia),
                format!("{:.3}", ammonia * rng.gen_range(0.1..0.2)),
                if ammonia <= 1.0 { "是" } else { "否" },
            ]);
        }
    }
    dataset(
        "云川市地表水水质监测数据",
        "ecology",
        Domain::Environment,
        UpdateFrequency::Monthly,
        "地表水国控、省控断面逐月水质类别和主要指标浓度。",
        items(&[
            "断面编号|section_id|key text 4|监测断面编号",
            "监测月份|month|key text 7|监测的年月",
            "断面名称|section_name|text 30|监测断面名称",
            "所在水体|water_body|text 20|河流、湖泊或水库名称",
            "水质类别|water_class|text 6|按 GB 3838 评价的水质类别",
            "溶解氧|dissolved_oxygen|number|毫克每升",
            "高锰酸盐指数|permanganate_index|number|毫克每升",
            "氨氮|ammonia_nitrogen|number|毫克每升",
            "总磷|total_phosphorus|number|毫克每升",
            "是否达到目标|meets_target|text 2|是否达到 III 类水质目标",
        ]),
        rows,
    )
}

fn noise(rng: &mut StdRng) -> OpenDataset {
    const ZONES: &[(&str, f64, f64)] = &[
        ("1类", 55.0, 45.0),
        ("2类", 60.0, 50.0),
        ("3类", 65.0, 55.0),
        ("4a类", 70.0, 55.0),
    ];
    let mut rows = Vec::new();
    for p in 0..20 {
        let (zone, day_limit, night_limit) = ZONES[p % ZONES.len()];
        let site = format!("{}监测点", LANDMARKS[p % LANDMARKS.len()]);
        for q in 0..8 {
            let day = day_limit - rng.gen_range(-2.0..8.0);
            let night = night_limit - rng.gen_range(-3.0..7.0);
            rows.push(row![
                format!("ZS{:02}", p + 1),
                format!("{}Q{}", YEAR - 1 + q / 4, q % 4 + 1),
                site,
                zone,
                f1(day),
                f1(night),
                if day <= day_limit && night <= night_limit {
                    "是"
                } else {
                    "否"
                },
            ]);
        }
    }
    dataset(
        "云川市声环境质量监测数据",
        "ecology",
        Domain::Environment,
        UpdateFrequency::Quarterly,
        "功能区声环境监测点逐季度昼间、夜间等效声级及达标情况。",
        items(&[
            "点位编号|site_id|key text 4|监测点位编号",
            "监测季度|quarter|key text 6|监测的年度和季度",
            "点位名称|site_name|text 30|监测点位名称",
            "声环境功能区|zone_class|text 6|GB 3096 声环境功能区类别",
            "昼间等效声级|day_level|number|分贝（A）",
            "夜间等效声级|night_level|number|分贝（A）",
            "是否达标|compliant|text 2|昼夜均达标为是",
        ]),
        rows,
    )
}

fn key_polluters(rng: &mut StdRng) -> OpenDataset {
    const TRADES: &[(&str, &str)] = &[
        ("化学原料和化学制品制造业", "化工"),
        ("污水处理及其再生利用", "水务"),
        ("火力发电", "热电"),
        ("水泥制造", "建材"),
        ("纺织印染", "印染"),
        ("畜禽养殖", "牧业"),
        ("金属表面处理及热处理加工", "金属制品"),
    ];
    let rows = rows(100, rng, |i, rng| {
        let (trade, kind) = TRADES[i % TRADES.len()];
        let area = county(rng, CITY);
        row![
            format!("PW{}{:04}", area.code, i + 1),
            company(i + 300, &[kind]),
            area.name,
            trade,
            pick(
                rng,
                &[
                    "水环境",
                    "大气环境",
                    "土壤污染",
                    "水环境、大气环境",
                    "环境风险"
                ]
            ),
            format!("{}{:08}001P", area.code, 50_000 + i),
        ]
    });
    dataset(
        "云川市重点排污单位名录",
        "ecology",
        Domain::Environment,
        UpdateFrequency::Yearly,
        "本年度环境监管重点单位：行业、重点管理类别和排污许可证编号。",
        items(&[
            "单位编号|unit_id|key text 12|重点排污单位编号",
            "单位名称|unit_name|text 60|排污单位名称",
            "所在区县|county|text 10|所在区县",
            "行业类别|industry|text 30|国民经济行业类别",
            "重点管理类别|management_category|text 20|纳入重点管理的环境要素",
            "排污许可证编号|permit_no|text 30|排污许可证编号",
        ]),
        rows,
    )
}

fn tap_water(rng: &mut StdRng) -> OpenDataset {
    const PLANTS: &[&str] = &["东湖水厂", "城南水厂", "青山水厂", "龙潭水厂"];
    let mut rows = Vec::new();
    for (p, plant) in PLANTS.iter().enumerate() {
        for m in 0..24 {
            rows.push(row![
                format!("SC{:02}", p + 1),
                month_label(YEAR - 1, m),
                plant,
                f2(rng.gen_range(0.08..0.45)),
                f2(rng.gen_range(0.3..0.8)),
                f1(rng.gen_range(6.9..7.8)),
                rng.gen_range(0..12),
                rng.gen_range(80..160),
                "符合 GB 5749 要求",
            ]);
        }
    }
    dataset(
        "云川市供水水质公示数据",
        "water",
        Domain::Environment,
        UpdateFrequency::Monthly,
        "各水厂出厂水逐月水质检测结果：浑浊度、余氯、pH、菌落总数和总硬度。",
        items(&[
            "水厂编号|plant_id|key text 4|水厂编号",
            "检测月份|month|key text 7|检测的年月",
            "水厂名称|plant_name|text 20|水厂名称",
            "浑浊度|turbidity|number|散射浑浊度单位 NTU",
            "游离余氯|free_chlorine|number|毫克每升",
            "酸碱度|ph|number|pH 值",
            "菌落总数|colony_count|int|CFU 每毫升",
            "总硬度|total_hardness|int|以碳酸钙计，毫克每升",
            "检测结论|conclusion|text 20|与生活饮用水卫生标准比对的结论",
        ]),
        rows,
    )
}

fn water_outages(rng: &mut StdRng) -> OpenDataset {
    let mut days: Vec<i64> = (0..60).map(|_| rng.gen_range(0..330)).collect();
    days.sort_unstable();
    let mut rows = Vec::new();
    for (i, d) in days.into_iter().enumerate() {
        let area = county(rng, CITY);
        let start = rng.gen_range(7..14);
        rows.push(row![
            format!("TS{YEAR}{:04}", i + 1),
            date(YEAR, 1, 1) + Duration::days(d),
            format!("{:02}:00-{:02}:00", start, start + rng.gen_range(3..9)),
            area.name,
            format!("{}沿线及{}片区", pick(rng, ROADS), pick(rng, PLACES)),
            pick(rng, &["管网改造", "管道抢修", "水厂设备检修", "阀门更换"]),
            rng.gen_range(2..60) * 50,
        ]);
    }
    dataset(
        "云川市计划停水通知信息",
        "water",
        Domain::GovernmentServices,
        UpdateFrequency::RealTime,
        "供水企业发布的计划停水通知：日期、时段、区域、原因和影响户数。",
        items(&[
            "通知编号|notice_no|key text 12|停水通知编号",
            "停水日期|outage_on|date|停水的日期",
            "停水时段|outage_hours|text 20|停水起止时间",
            "所在区县|county|text 10|停水区域所在区县",
            "停水区域|affected_area|text 60|停水影响的道路和片区",
            "停水原因|reason|text 20|停水原因",
            "影响户数|households|int|预计影响用户数",
        ]),
        rows,
    )
}

fn power_outages(rng: &mut StdRng) -> OpenDataset {
    let mut days: Vec<i64> = (0..100).map(|_| rng.gen_range(0..330)).collect();
    days.sort_unstable();
    let mut rows = Vec::new();
    for (i, d) in days.into_iter().enumerate() {
        let area = county(rng, CITY);
        let start = rng.gen_range(6..12);
        rows.push(row![
            format!("TD{YEAR}{:04}", i + 1),
            date(YEAR, 1, 1) + Duration::days(d),
            format!("{:02}:30-{:02}:30", start, start + rng.gen_range(2..10)),
            area.name,
            format!(
                "{}{}号至{}号沿线",
                pick(rng, ROADS),
                rng.gen_range(1..100),
                rng.gen_range(100..400)
            ),
            pick(
                rng,
                &["线路检修", "配电设备更换", "配合市政工程", "新装增容接火"]
            ),
        ]);
    }
    dataset(
        "云川市计划停电信息",
        "power",
        Domain::GovernmentServices,
        UpdateFrequency::RealTime,
        "供电企业发布的计划停电：日期、时段、停电范围和原因。",
        items(&[
            "停电编号|notice_no|key text 12|计划停电编号",
            "停电日期|outage_on|date|停电的日期",
            "停电时段|outage_hours|text 20|停电起止时间",
            "所在区县|county|text 10|停电区域所在区县",
            "停电范围|affected_area|text 60|停电影响的道路和门牌",
            "停电原因|reason|text 20|停电原因",
        ]),
        rows,
    )
}

fn power_use(rng: &mut StdRng) -> OpenDataset {
    const SECTORS: &[(&str, f64)] = &[
        ("农林牧渔业", 1.8),
        ("工业", 42.0),
        ("建筑业", 2.6),
        ("交通运输、仓储和邮政业", 3.9),
        ("信息传输、软件和信息技术服务业", 2.2),
        ("批发和零售业", 5.1),
        ("住宿和餐饮业", 2.4),
        ("城乡居民生活", 18.0),
    ];
    let mut rows = Vec::new();
    for (name, base) in SECTORS {
        for m in 0..24 {
            let w = winter(m % 12 * 30 + 15);
            let season = 1.0 + 0.18 * (-w).max(0.0) + 0.1 * w.max(0.0);
            let growth = if m >= 12 { 1.05 } else { 1.0 };
            let amount = base * 1000.0 * season * growth * rng.gen_range(0.95..1.05);
            rows.push(row![
                month_label(YEAR - 1, m),
                name,
                f1(amount),
                f1(if m >= 12 {
                    rng.gen_range(1.0..9.0)
                } else {
                    rng.gen_range(-2.0..7.0)
                }),
            ]);
        }
    }
    dataset(
        "云川市分行业用电量统计数据",
        "power",
        Domain::MacroEconomy,
        UpdateFrequency::Monthly,
        "全社会分行业逐月用电量和同比增速，供经济运行分析研究使用。",
        items(&[
            "统计月份|month|key text 7|统计的年月",
            "行业|sector|key text 20|用电分类行业",
            "用电量|consumption|number|当月用电量，万千瓦时",
            "同比增长|growth|number|比上年同月增长，百分比",
        ]),
        rows,
    )
    .on_conditions("仅限经济运行分析和科研用途，需签订数据利用协议，成果发布前须经数源单位确认")
}

// ---------------------------------------------------------------------------
// 财政 and 统计 (no finance bureau in the demo region: the statistics bureau
// publishes the budget tables).

fn budget_rows(rng: &mut StdRng, subjects: &[(&str, &str, &str, f64)]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for year in YEAR - 4..=YEAR {
        let growth = 1.0 + 0.05 * f64::from(year - (YEAR - 4));
        for (code, name, side, base) in subjects {
            let planned = (base * growth * rng.gen_range(0.95..1.05)).round();
            let actual = (planned * rng.gen_range(0.88..1.08)).round();
            rows.push(row![
                year,
                code,
                name,
                side,
                planned,
                actual,
                f1(actual / planned * 100.0),
            ]);
        }
    }
    rows
}

fn budget_items() -> Vec<DataItem> {
    items(&[
        "预算年度|budget_year|key int|预算所属年度",
        "科目编码|subject_code|key text 10|政府收支分类科目编码",
        "科目名称|subject_name|text 40|政府收支分类科目名称",
        "收支类别|side|text 4|收入或支出",
        "预算数|budgeted|number|年初预算数，万元",
        "执行数|executed|number|决算或执行数，万元",
        "完成率|completion_rate|number|执行数占预算数的百分比",
    ])
}

fn general_budget(rng: &mut StdRng) -> OpenDataset {
    const SUBJECTS: &[(&str, &str, &str, f64)] = &[
        ("1010101", "国内增值税", "收入", 620_000.0),
        ("1010401", "企业所得税", "收入", 280_000.0),
        ("1010501", "个人所得税", "收入", 95_000.0),
        ("1011001", "城市维护建设税", "收入", 68_000.0),
        ("1011201", "房产税", "收入", 42_000.0),
        ("1011401", "城镇土地使用税", "收入", 30_000.0),
        ("1011901", "契税", "收入", 110_000.0),
        ("10304", "行政事业性收费收入", "收入", 36_000.0),
        ("10305", "罚没收入", "收入", 21_000.0),
        ("10307", "国有资源（资产）有偿使用收入", "收入", 88_000.0),
        ("201", "一般公共服务支出", "支出", 150_000.0),
        ("204", "公共安全支出", "支出", 98_000.0),
        ("205", "教育支出", "支出", 310_000.0),
        ("206", "科学技术支出", "支出", 62_000.0),
        ("207", "文化旅游体育与传媒支出", "支出", 28_000.0),
        ("208", "社会保障和就业支出", "支出", 240_000.0),
        ("210", "卫生健康支出", "支出", 170_000.0),
        ("211", "节能环保支出", "支出", 45_000.0),
        ("212", "城乡社区支出", "支出", 205_000.0),
        ("213", "农林水支出", "支出", 120_000.0),
    ];
    dataset(
        "云川市一般公共预算收支数据",
        "stats",
        Domain::MacroEconomy,
        UpdateFrequency::Yearly,
        "市本级一般公共预算收支分科目的年初预算数和执行数，近五年。",
        budget_items(),
        budget_rows(rng, SUBJECTS),
    )
}

fn fund_budget(rng: &mut StdRng) -> OpenDataset {
    const SUBJECTS: &[(&str, &str, &str, f64)] = &[
        ("1030148", "国有土地使用权出让收入", "收入", 900_000.0),
        ("1030147", "城市基础设施配套费收入", "收入", 60_000.0),
        ("1030155", "彩票公益金收入", "收入", 12_000.0),
        ("1030178", "污水处理费收入", "收入", 25_000.0),
        (
            "21208",
            "国有土地使用权出让收入安排的支出",
            "支出",
            850_000.0,
        ),
        ("21213", "城市基础设施配套费安排的支出", "支出", 58_000.0),
        ("229", "彩票公益金安排的支出", "支出", 11_000.0),
        ("21214", "污水处理费安排的支出", "支出", 24_000.0),
    ];
    dataset(
        "云川市政府性基金预算收支数据",
        "stats",
        Domain::MacroEconomy,
        UpdateFrequency::Yearly,
        "市本级政府性基金预算收支分科目的年初预算数和执行数，近五年。",
        budget_items(),
        budget_rows(rng, SUBJECTS),
    )
}

fn population_yearbook(rng: &mut StdRng) -> OpenDataset {
    let mut rows = Vec::new();
    for (area, base, urban) in [
        (CITY, 320.0, 62.0),
        (DONGHU, 118.0, 88.0),
        (QINGSHAN, 64.0, 41.0),
    ] {
        for year in YEAR - 9..=YEAR {
            let t = f64::from(year - (YEAR - 9));
            let births: f64 = 11.5 - 0.5 * t + rng.gen_range(-0.3..0.3);
            let deaths: f64 = 6.8 + 0.12 * t + rng.gen_range(-0.2..0.2);
            let (births, deaths) = (
                (births * 100.0).round() / 100.0,
                (deaths * 100.0).round() / 100.0,
            );
            rows.push(row![
                year,
                area.code,
                area.name,
                f2(base * (1.0 + 0.006 * t)),
                f2(base * 0.93 * (1.0 + 0.002 * t)),
                f2(births),
                f2(deaths),
                f2(births - deaths),
                f1(urban + 0.9 * t),
            ]);
        }
    }
    dataset(
        "云川市人口统计年鉴摘要数据",
        "stats",
        Domain::MacroEconomy,
        UpdateFrequency::Yearly,
        "全市及各区县近十年常住人口、户籍人口、出生率、死亡率、自然增长率和城镇化率。",
        items(&[
            "年份|year|key int|统计年度",
            "地区代码|division_code|key text 6|行政区划代码",
            "地区名称|division_name|text 10|行政区划名称",
            "年末常住人口|resident_population|number|万人",
            "户籍人口|registered_population|number|万人",
            "出生率|birth_rate|number|千分比",
            "死亡率|death_rate|number|千分比",
            "自然增长率|natural_growth_rate|number|千分比",
            "城镇化率|urbanisation_rate|number|城镇常住人口占比，百分比",
        ]),
        rows,
    )
}

fn gdp(rng: &mut StdRng) -> OpenDataset {
    let mut rows = Vec::new();
    for q in 0..40 {
        let year = YEAR - 9 + (q / 4) as i32;
        let trend = 520.0 * 1.06f64.powf(q as f64 / 4.0);
        let season = [0.88, 0.98, 1.0, 1.14][q % 4];
        let primary = (trend * season * rng.gen_range(0.05..0.07) * 100.0).round() / 100.0;
        let secondary = (trend * season * rng.gen_range(0.38..0.43) * 100.0).round() / 100.0;
        let tertiary = (trend * season * rng.gen_range(0.50..0.55) * 100.0).round() / 100.0;
        let growth = if year == 2020 {
            rng.gen_range(-4.0..3.0)
        } else {
            rng.gen_range(4.5..7.5)
        };
        rows.push(row![
            format!("{year}Q{}", q % 4 + 1),
            f2(primary + secondary + tertiary),
            f2(primary),
            f2(secondary),
            f2(tertiary),
            f1(growth),
        ]);
    }
    dataset(
        "云川市地区生产总值数据",
        "stats",
        Domain::MacroEconomy,
        UpdateFrequency::Quarterly,
        "近十年分季度地区生产总值、三次产业增加值和可比价增速。",
        items(&[
            "统计季度|quarter|key text 6|统计的年度和季度",
            "地区生产总值|gdp|number|当季地区生产总值，亿元",
            "第一产业增加值|primary_industry|number|亿元",
            "第二产业增加值|secondary_industry|number|亿元",
            "第三产业增加值|tertiary_industry|number|亿元",
            "同比增长|growth|number|按可比价计算的同比增长，百分比",
        ]),
        rows,
    )
}

fn consumer_prices(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(60, rng, |m, rng| {
        let index =
            |rng: &mut StdRng, spread: f64| f1(100.0 + rng.gen_range(-spread..spread) + 0.8);
        row![
            month_label(YEAR - 4, m),
            index(rng, 1.5),
            index(rng, 4.0),
            index(rng, 1.5),
            index(rng, 1.0),
            index(rng, 2.5),
            index(rng, 1.2),
        ]
    });
    dataset(
        "云川市居民消费价格指数数据",
        "stats",
        Domain::MacroEconomy,
        UpdateFrequency::Monthly,
        "近五年逐月居民消费价格总指数和主要类别指数，上年同月为 100。",
        items(&[
            "统计月份|month|key text 7|统计的年月",
            "居民消费价格指数|cpi|number|总指数，上年同月为 100",
            "食品烟酒类|food|number|类别指数，上年同月为 100",
            "衣着类|clothing|number|类别指数，上年同月为 100",
            "居住类|housing|number|类别指数，上年同月为 100",
            "交通通信类|transport|number|类别指数，上年同月为 100",
            "医疗保健类|healthcare|number|类别指数，上年同月为 100",
        ]),
        rows,
    )
}

// ---------------------------------------------------------------------------
// 自然资源、住房、人社、公安 Land, housing, employment and road safety.

fn land_supply(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(150, rng, |i, rng| {
        let area = county(rng, CITY);
        let (use_, way) = match rng.gen_range(0..10) {
            0..=3 => ("住宅用地", "挂牌出让"),
            4..=5 => ("商服用地", "挂牌出让"),
            6..=7 => ("工业用地", "挂牌出让"),
            8 => ("公共管理与公共服务用地", "划拨"),
            _ => ("住宅用地", "招标出让"),
        };
        let hectares: f64 = rng.gen_range(0.5..12.0);
        let price = match (use_, way) {
            (_, "划拨") => 0.0,
            ("工业用地", _) => hectares * rng.gen_range(300.0..600.0),
            _ => hectares * rng.gen_range(1500.0..6000.0),
        };
        let road = pick(rng, ROADS);
        let signed = some_day(rng, date(YEAR - 2, 1, 1), 1000);
        row![
            format!("{}{}B{:05}", area.code, signed.year(), i + 1),
            format!(
                "{}{road}{}侧地块",
                area.name,
                pick(rng, &["东", "南", "西", "北"])
            ),
            format!("{}{road}与{}交叉口", area.name, pick(rng, ROADS)),
            format!("{hectares:.4}"),
            use_,
            way,
            f2(price),
            signed,
        ]
    });
    dataset(
        "云川市国有建设用地供应信息",
        "resources",
        Domain::NaturalResources,
        UpdateFrequency::Monthly,
        "国有建设用地出让和划拨结果：地块位置、面积、用途、供地方式和成交价款。",
        items(&[
            "电子监管号|supervision_no|key text 20|土地供应电子监管号",
            "项目名称|project_name|text 60|供地项目名称",
            "土地坐落|location|text 100|宗地坐落",
            "面积|area_hectares|number|供地面积，公顷",
            "土地用途|land_use|text 20|规划土地用途",
            "供地方式|supply_mode|text 10|出让或划拨方式",
            "成交价款|price|number|成交价款，万元，划拨为 0",
            "合同签订日期|signed_on|date|出让合同或划拨决定书日期",
        ]),
        rows,
    )
}

fn presale_permits(rng: &mut StdRng) -> OpenDataset {
    const SUFFIXES: &[&str] = &["花园", "府", "华庭", "名苑", "公馆", "天地", "新城", "雅居"];
    let rows = rows(120, rng, |i, rng| {
        let area = county(rng, CITY);
        let units = rng.gen_range(40..400);
        let first = rng.gen_range(1..20);
        row![
            format!("YCYS{}{:04}", YEAR - 1 + (i / 60) as i32, i % 60 + 1),
            format!("{}{}", PLACES[i % PLACES.len()], SUFFIXES[i / PLACES.len()]),
            company(i + 400, &["房地产开发", "置业"]),
            address(rng, area),
            format!("{first}#、{}#楼", first + 1),
            f2(f64::from(units) * rng.gen_range(85.0..130.0)),
            units,
            some_day(rng, date(YEAR - 1 + (i / 60) as i32, 1, 1), 360),
        ]
    });
    dataset(
        "云川市商品房预售许可信息",
        "housing",
        Domain::GovernmentServices,
        UpdateFrequency::Daily,
        "核发的商品房预售许可证：项目、开发企业、预售楼栋、面积、套数和发证日期。",
        items(&[
            "预售许可证号|permit_no|key text 12|商品房预售许可证编号",
            "项目名称|project_name|text 40|楼盘项目名称",
            "开发企业|developer|text 60|房地产开发企业名称",
            "项目坐落|location|text 100|项目坐落",
            "预售楼栋|buildings|text 40|本次预售的楼栋",
            "预售面积|floor_area|number|预售建筑面积，平方米",
            "预售套数|units|int|预售套数",
            "发证日期|issued_on|date|许可证发证日期",
        ]),
        rows,
    )
}

fn resale_housing(rng: &mut StdRng) -> OpenDataset {
    let mut rows = Vec::new();
    for (area, price) in [(CITY, 11_800.0), (DONGHU, 14_500.0), (QINGSHAN, 6_900.0)] {
        for m in 0..24 {
            let deals = rng.gen_range(300..1800) / if area == CITY { 1 } else { 2 };
            rows.push(row![
                month_label(YEAR - 1, m),
                area.code,
                area.name,
                deals,
                f2(f64::from(deals) * rng.gen_range(88.0..112.0)),
                f1(price * (1.0 - 0.003 * m as f64) * rng.gen_range(0.97..1.03)),
            ]);
        }
    }
    dataset(
        "云川市二手住房成交统计数据",
        "housing",
        Domain::GovernmentServices,
        UpdateFrequency::Monthly,
        "分区县逐月二手住房网签成交套数、面积和均价，供住房市场研究使用。",
        items(&[
            "统计月份|month|key text 7|统计的年月",
            "地区代码|division_code|key text 6|行政区划代码",
            "地区名称|division_name|text 10|行政区划名称",
            "成交套数|deals|int|网签成交套数",
            "成交面积|floor_area|number|网签成交建筑面积，平方米",
            "成交均价|average_price|number|元每平方米",
        ]),
        rows,
    )
    .on_conditions(RESEARCH_ONLY)
}

fn training_institutions(rng: &mut StdRng) -> OpenDataset {
    const TRADES: &[&str] = &[
        "电工",
        "焊工",
        "育婴员",
        "养老护理员",
        "中式烹调师",
        "美容师",
        "电子商务师",
        "家政服务员",
        "汽车维修工",
        "保安员",
    ];
    let rows = rows(60, rng, |i, rng| {
        let a = rng.gen_range(0..TRADES.len());
        let b = (a + rng.gen_range(1..TRADES.len())) % TRADES.len();
        row![
            format!("ZP{:04}", i + 1),
            format!(
                "{}{}职业培训学校",
                ["云川", "东湖", "青山"][i % 3],
                WORDS[i / 3 % WORDS.len()]
            ),
            format!("{}、{}", TRADES[a], TRADES[b]),
            format!("云人社民办{:05}号", 300 + i),
            address(rng, CITY),
            if rng.gen_bool(0.6) { "是" } else { "否" },
            phone(rng),
        ]
    });
    dataset(
        "云川市职业技能培训机构名录",
        "hrss",
        Domain::SocialSecurity,
        UpdateFrequency::Quarterly,
        "经人社部门审批的民办职业技能培训机构：培训工种、许可证号和是否承担补贴性培训。",
        items(&[
            "机构编号|institution_id|key text 8|培训机构编号",
            "机构名称|institution_name|text 60|培训机构名称",
            "培训工种|trades|text 60|可开展培训的职业工种",
            "办学许可证号|licence_no|text 30|民办学校办学许可证编号",
            "地址|address|text 100|培训场所地址",
            "补贴性培训机构|subsidised|text 2|是否承担政府补贴性培训",
            "联系电话|phone|text 20|咨询电话",
        ]),
        rows,
    )
}

fn job_fairs(rng: &mut StdRng) -> OpenDataset {
    let mut days: Vec<i64> = (0..100).map(|_| rng.gen_range(0..365)).collect();
    days.sort_unstable();
    let mut rows = Vec::new();
    for (i, d) in days.into_iter().enumerate() {
        let employers = rng.gen_range(20..200);
        rows.push(row![
            format!("ZPH{YEAR}{:03}", i + 1),
            pick(
                rng,
                &[
                    "春风行动专场招聘会",
                    "高校毕业生专场招聘会",
                    "民营企业招聘月专场",
                    "退役军人专场招聘会",
                    "就业援助月专场招聘会",
                    "周末综合招聘会"
                ]
            ),
            date(YEAR, 1, 1) + Duration::days(d),
            pick(
                rng,
                &[
                    "云川市人力资源市场",
                    "云川会展中心",
                    "东湖区就业服务中心",
                    "青山县人力资源市场",
                    "云川大学体育馆"
                ]
            ),
            employers,
            employers * rng.gen_range(5..25),
            "云川市人力资源和社会保障局",
        ]);
    }
    dataset(
        "云川市公共就业招聘会信息",
        "hrss",
        Domain::SocialSecurity,
        UpdateFrequency::Weekly,
        "公共就业服务机构举办的招聘会：名称、日期、地点、参会单位数和岗位数。",
        items(&[
            "招聘会编号|fair_id|key text 12|招聘会编号",
            "招聘会名称|fair_name|text 40|招聘会名称",
            "举办日期|held_on|date|举办的日期",
            "举办地点|venue|text 40|举办地点",
            "参会单位数|employers|int|参会用人单位数",
            "提供岗位数|vacancies|int|提供的岗位数",
            "主办单位|organiser|text 40|主办单位",
        ]),
        rows,
    )
}

fn accident_sections(rng: &mut StdRng) -> OpenDataset {
    let rows = rows(40, rng, |i, rng| {
        let road = ROADS[i % ROADS.len()];
        let area = county(rng, CITY);
        row![
            format!("SG{:03}", i + 1),
            format!("{road}{}段", pick(rng, PLACES)),
            area.name,
            pick(
                rng,
                &["07:00-09:00", "17:00-19:00", "22:00-02:00", "11:00-13:00"]
            ),
            pick(
                rng,
                &["追尾", "侧面碰撞", "刮擦", "碰撞行人", "碰撞非机动车"]
            ),
            rng.gen_range(4..40),
            pick(
                rng,
                &[
                    "增设减速带和警示标志",
                    "优化信号配时",
                    "施划导向车道",
                    "增设电子警察"
                ]
            ),
        ]
    });
    dataset(
        "云川市道路交通事故多发路段信息",
        "psb",
        Domain::PublicSafety,
        UpdateFrequency::Quarterly,
        "公安交管部门排查的事故多发路段：多发时段、主要事故形态、事故起数和整治措施。",
        items(&[
            "路段编号|section_id|key text 6|事故多发路段编号",
            "路段名称|section_name|text 40|路段名称",
            "所在区县|county|text 10|所在区县",
            "多发时段|peak_hours|text 20|事故多发时段",
            "主要事故形态|accident_type|text 20|主要事故形态",
            "年事故起数|accidents|int|本年度一般程序事故起数",
            "整治措施|measures|text 60|已采取或计划的整治措施",
        ]),
        rows,
    )
}

// ---------------------------------------------------------------------------

/// The sixty open datasets, in publishing order.
fn plan() -> Vec<OpenDataset> {
    let rng = &mut StdRng::seed_from_u64(OPEN_SEED);
    let city_schools = schools(rng, CITY, 120);
    let zones = enrolment_zones(rng, &city_schools);
    vec![
        // 气象与环境
        daily_weather(rng),
        precipitation(rng, DONGHU),
        precipitation(rng, QINGSHAN),
        air_quality(rng, CITY, "湖滨站", 0.0),
        air_quality(rng, DONGHU, "东湖站", 6.0),
        air_quality(rng, QINGSHAN, "青山站", -12.0),
        weather_warnings(rng),
        surface_water(rng),
        noise(rng),
        key_polluters(rng),
        tap_water(rng),
        // 交通
        bus_lines(rng),
        bus_stops(rng),
        parking(rng, DONGHU, 80, "DH"),
        parking(rng, QINGSHAN, 40, "QS"),
        charging(rng),
        driving_schools(rng),
        bus_ridership(rng),
        // 教育
        city_schools,
        schools(rng, DONGHU, 60),
        schools(rng, QINGSHAN, 50),
        kindergartens(rng, CITY, 150),
        kindergartens(rng, QINGSHAN, 60),
        zones,
        training_whitelist(rng),
        // 卫生
        medical_institutions(rng, CITY, "health", 200),
        medical_institutions(rng, QINGSHAN, "qingshan_health", 80),
        vaccination_clinics(rng),
        insured_providers(rng),
        outpatient_statistics(rng),
        // 市场监管
        licensed_businesses(rng),
        food_licences(rng, CITY, "market", 400),
        food_licences(rng, QINGSHAN, "qingshan_market", 150),
        pharmacies(rng),
        spot_checks(rng),
        product_checks(rng),
        // 文旅体
        scenic_spots(rng),
        libraries(rng),
        museums(rng),
        hotels(rng),
        heritage_sites(rng),
        sports_venues(rng),
        // 民政
        elderly_care(rng, CITY, "civil", 80),
        elderly_care(rng, DONGHU, "donghu_civil", 40),
        social_organisations(rng),
        communities(rng),
        // 财政、统计
        general_budget(rng),
        fund_budget(rng),
        population_yearbook(rng),
        gdp(rng),
        consumer_prices(rng),
        power_use(rng),
        // 城市运行与公共服务
        land_supply(rng),
        presale_permits(rng),
        resale_housing(rng),
        water_outages(rng),
        power_outages(rng),
        training_institutions(rng),
        job_fairs(rng),
        accident_sections(rng),
    ]
}

fn io_fail(e: std::io::Error) -> ServiceError {
    ServiceError::new(
        ErrorKind::Internal,
        "demo.write_failed",
        format!("生成开放演示数据文件失败：{e}"),
        format!("writing an open demo data file failed: {e}"),
    )
}

fn demo_fail(code: &str, zh: String, en: String) -> ServiceError {
    ServiceError::new(ErrorKind::Internal, code, zh, en)
}

/// Writes each dataset as `NN.csv` (headers are the items' names) and keeps only
/// what publishing needs.
fn write_files(dir: &Path) -> ServiceResult<Vec<OpenDataset>> {
    let mut planned = plan();
    for (i, d) in planned.iter_mut().enumerate() {
        let mut w = csv::Writer::from_path(dir.join(format!("{i:02}.csv")))
            .map_err(|e| io_fail(std::io::Error::other(e.to_string())))?;
        let write = |w: &mut csv::Writer<std::fs::File>, r: &[String]| {
            w.write_record(r)
                .map_err(|e| io_fail(std::io::Error::other(e.to_string())))
        };
        write(
            &mut w,
            &d.items.iter().map(|i| i.name.clone()).collect::<Vec<_>>(),
        )?;
        for r in &d.rows {
            if r.len() != d.items.len() {
                return Err(demo_fail(
                    "demo.open_row_shape",
                    format!("开放演示数据“{}”的行与信息项数不符", d.name),
                    format!(
                        "a row of open demo dataset {} does not match its items",
                        d.name
                    ),
                ));
            }
            write(&mut w, r)?;
        }
        w.flush().map_err(io_fail)?;
        d.rows = Vec::new();
    }
    Ok(planned)
}

/// OPN-2: publishes the demo's sixty open datasets (four of them conditional),
/// each owned by its source department (OPN-11), and mounts their rows.
pub async fn seed_open(app: &App) -> ServiceResult<OpenDemoSummary> {
    let ctx = Ctx::cli();
    let ids = crate::demo::demo_org_ids(app).await?;
    let dir = std::env::temp_dir().join(format!("gongshu-demo-open-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).map_err(io_fail)?;
    let written = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || write_files(&dir))
            .await
            .map_err(|e| io_fail(std::io::Error::other(e.to_string())))
    };
    let result: ServiceResult<OpenDemoSummary> = async {
        let planned = written??;
        let mut summary = OpenDemoSummary {
            datasets: 0,
            conditional: 0,
            rows: 0,
        };
        for (i, d) in planned.iter().enumerate() {
            let owner = ids.get(d.org).cloned().ok_or_else(|| {
                demo_fail(
                    "demo.org_missing",
                    format!("演示机构 {} 不存在，请先生成演示区域", d.org),
                    format!(
                        "demo organisation {} is missing: seed the demo region first",
                        d.org
                    ),
                )
            })?;
            let release = date(YEAR + 1, 1, 10) + Duration::days(4 * i as i64);
            let content = open_content(d, &owner, release);
            let entry = crate::demo_catalog::publish_for_demo(app, &ctx, &owner, content).await?;
            datasets::record_secrecy_review(
                app,
                &ctx,
                &entry.id,
                crate::datasets::SecrecyReviewInput::cleared(datasets::DEMO_SECRECY_NOTE),
            )
            .await?;
            let file = format!("{i:02}.csv");
            let mut opts = LoadOptions::new(Channel::Upload, InputFormat::Csv);
            opts.file_name = Some(file.clone());
            let load = datasets::load_file(app, &ctx, &entry.id, &dir.join(&file), opts).await?;
            if load.status != "applied" || load.rows_rejected > 0 {
                return Err(demo_fail(
                    "demo.open_load_failed",
                    format!(
                        "开放演示数据“{}”载入未全部成功：{}，隔离 {} 行",
                        d.name, load.status, load.rows_rejected
                    ),
                    format!(
                        "open demo dataset {} did not load cleanly: {}, {} rows quarantined",
                        d.name, load.status, load.rows_rejected
                    ),
                ));
            }
            summary.datasets += 1;
            summary.conditional += usize::from(d.conditions.is_some());
            summary.rows += load.rows_accepted.max(0) as u64;
        }
        seed_feedback(app).await?;
        seed_open_plans(app).await?;
        seed_usage_and_showcase(app).await?;
        seed_release(app).await?;
        Ok(summary)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// One demo report: (dataset name, kind, description, reporter, contact, days before
/// today it came in, the answering user and the answer, if answered).
type DemoReport = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<(&'static str, &'static str, &'static str)>,
);

/// OPN-9 (XJ 30): the public's reports on a few demo datasets, one in each state:
/// waiting, overdue, answered with each action, and a suspected leak that withholds
/// 云川市社会组织名录 from the portal until 民政局 answers it.
async fn seed_feedback(app: &App) -> ServiceResult<()> {
    use crate::open_feedback::{self, FeedbackAnswer, NewFeedback};
    const REPORTS: &[DemoReport] = &[
        (
            "云川市药品零售企业名录",
            "error",
            "“云川康宁大药房”的经营地址已迁至新址，名录中仍是旧地址。",
            "张女士",
            "13800000001",
            1,
            None,
        ),
        (
            "云川市许可企业名录",
            "error",
            "部分企业的许可有效期已过，名录中仍显示为有效。",
            "",
            "",
            20,
            None,
        ),
        (
            "云川市双随机抽查结果信息",
            "objection",
            "我公司对抽查结果“未发现问题”以外的结论有异议，请核实。",
            "云川某贸易有限公司",
            "service@example.com",
            9,
            Some((
                "market.admin",
                "keep",
                "经核实，抽查结果与执法记录一致，继续开放。对结果有异议可依法申请复核。",
            )),
        ),
        (
            "云川市产品质量监督抽查结果信息",
            "error",
            "有一条记录的抽查日期晚于公布日期。",
            "",
            "",
            7,
            Some((
                "market.admin",
                "fix_and_republish",
                "经核实为录入错误，已更正抽查日期并重新开放。",
            )),
        ),
        (
            "云川市社会组织名录",
            "harm",
            "名录中列出的住所是我的私人住宅，请删除。",
            "王先生",
            "13800000002",
            6,
            Some((
                "civil.admin",
                "suspend",
                "已中止开放，正在与登记机关核实住所信息，核实后依法处理。",
            )),
        ),
        (
            "云川市社会组织名录",
            "objection",
            "该名录收录的部分社会组织已注销。",
            "",
            "",
            5,
            Some((
                "civil.admin",
                "withdraw",
                "经核实名录须与登记信息同步更新，现撤回本版本，待重新编制后另行发布。",
            )),
        ),
        (
            "云川市社会组织名录",
            "suspected_leak",
            "部分社会组织的住所一栏为个人住宅门牌号，疑似泄露个人住址。",
            "",
            "",
            0,
            None,
        ),
    ];
    let catalog = crate::open::catalog(app).await?;
    let public = Ctx::new(
        gongshu_domain::permissions::Principal::public("public"),
        None,
    );
    let now = chrono::Utc::now();
    // Every report is filed first (a suspected leak withholds its dataset, after
    // which no one can report on it), then the sources answer.
    let mut filed = Vec::new();
    for (i, (name, kind, description, reporter, contact, days_ago, answer)) in
        REPORTS.iter().enumerate()
    {
        let Some(ds) = catalog.datasets.iter().find(|d| d.content.name == *name) else {
            return Err(demo_fail(
                "demo.open_dataset_missing",
                format!("开放演示数据“{name}”不存在"),
                format!("open demo dataset {name} is missing"),
            ));
        };
        let input = NewFeedback {
            kind: (*kind).into(),
            description: (*description).into(),
            reporter: (*reporter).into(),
            contact: (*contact).into(),
        };
        let at = now - Duration::days(*days_ago);
        let bucket = format!("demo:{i}");
        let (f, _) = open_feedback::submit_at(app, &public, &bucket, &ds.code, input, at).await?;
        filed.push((f.id, answer));
    }
    for (id, answer) in filed {
        let Some((username, action, text)) = answer else {
            continue;
        };
        let user = app
            .store
            .get_user_by_username(username)
            .await?
            .ok_or_else(|| {
                demo_fail(
                    "demo.user_missing",
                    format!("演示用户 {username} 不存在"),
                    format!("demo user {username} is missing"),
                )
            })?;
        let ctx = Ctx::new(crate::identity::principal_of(&user), None);
        let input = FeedbackAnswer {
            action: (*action).into(),
            answer: (*text).into(),
        };
        open_feedback::answer(app, &ctx, &id, input).await?;
    }
    open_feedback::flag_overdue(app, now).await?;
    Ok(())
}

/// One demo plan: (user who files it, the body's demo key, responsible department,
/// responsible person, datasets already open (by name), datasets planned (name,
/// domain, open type, quarter), and the authority's reasons if it returns the plan).
type DemoPlan = (
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, Domain, OpenType, u8)],
    Option<&'static str>,
);

/// OPN-8 (HZ 30, HZ 36, XJ 31): this year's open plans. The authority publishes the
/// year's priority domains with what it heard; five departments file plans naming
/// some of the demo's open datasets (done) and some still planned (not yet); the
/// authority accepts four and returns 民政局's with reasons.
async fn seed_open_plans(app: &App) -> ServiceResult<()> {
    use crate::open_plans::{self, PlanInput, PlanItemInput, PrioritiesInput, ReviewInput};
    const PLANS: &[DemoPlan] = &[
        (
            Some("health.admin"),
            "health",
            "市卫健委信息中心",
            "何康",
            &["云川市医疗机构名录", "云川市预防接种门诊信息", "云川市医疗机构门诊量统计数据"],
            &[
                ("云川市家庭医生签约服务团队信息", Domain::Health, OpenType::Unconditional, 3),
                ("云川市院前急救站点信息", Domain::Health, OpenType::Unconditional, 4),
            ],
            None,
        ),
        (
            Some("market.admin"),
            "market",
            "市市场监管局信用监管科",
            "冯市",
            &["云川市许可企业名录", "云川市药品零售企业名录", "云川市双随机抽查结果信息"],
            &[("云川市食品安全监督抽检信息", Domain::MarketRegulation, OpenType::Unconditional, 4)],
            None,
        ),
        (
            Some("psb.admin"),
            "psb",
            "市公安局科技信息化处",
            "张警",
            &["云川市道路交通事故多发路段信息"],
            &[
                ("云川市交通违法高发路段信息", Domain::PublicSafety, OpenType::Unconditional, 4),
                ("云川市户政业务办理网点信息", Domain::PublicSafety, OpenType::Unconditional, 4),
            ],
            None,
        ),
        (
            None,
            "transport",
            "市交通运输局综合规划科",
            "交通局 数据专员",
            &["云川市公交线路信息", "云川市公交站点信息", "云川市公共充电设施信息"],
            &[(
                "云川市公交车辆实时到站数据",
                Domain::Transport,
                OpenType::Conditional,
                4,
            )],
            None,
        ),
        (
            Some("civil.admin"),
            "civil",
            "市民政局办公室",
            "郑民",
            &["云川市养老机构名录"],
            &[("云川市婚姻登记机关信息", Domain::SocialSecurity, OpenType::Unconditional, 4)],
            Some("计划未列入社会保障领域的高价值数据（如最低生活保障标准、社会救助服务机构），请对照年度开放重点补充后重新报备。"),
        ),
    ];
    let year = open_plans::current_year();
    let ctx_of = |user: Option<gongshu_store::User>| match user {
        Some(u) => Ctx::new(crate::identity::principal_of(&u), None),
        None => Ctx::cli(),
    };
    let user = |name: &'static str| async move {
        app.store.get_user_by_username(name).await?.ok_or_else(|| {
            demo_fail(
                "demo.user_missing",
                format!("演示用户 {name} 不存在"),
                format!("demo user {name} is missing"),
            )
        })
    };
    let authority = ctx_of(Some(user("authority").await?));
    open_plans::publish_priorities(
        app,
        &authority,
        year,
        PrioritiesInput {
            domains: [
                Domain::PublicSafety,
                Domain::Health,
                Domain::Transport,
                Domain::Environment,
                Domain::Meteorology,
                Domain::MarketRegulation,
                Domain::SocialSecurity,
                Domain::Education,
            ]
            .iter()
            .map(|d| d.key().to_string())
            .collect(),
            sector_hearing: format!(
                "{year}年1月书面征求公安、卫健、交通、生态环境、市场监管、民政、教育等 14 个部门意见，召开座谈会 2 次，收到书面意见 11 份（演示）"
            ),
            public_hearing: format!(
                "{year}年2月在开放门户公开征求意见 30 日，收到意见建议 57 条，采纳 21 条；开展企业数据需求调研 1 次（XJ 31，演示）"
            ),
            notes: "优先开放与公共安全、公共卫生、交通出行、生态环境、民生保障密切相关的数据（HZ 30）".into(),
        },
    )
    .await?;
    let catalog = crate::open::catalog(app).await?;
    let ids = crate::demo::demo_org_ids(app).await?;
    for (filer, org, department, person, open_now, planned, returned) in PLANS {
        let org_id = ids.get(*org).cloned().ok_or_else(|| {
            demo_fail(
                "demo.org_missing",
                format!("演示机构 {org} 不存在"),
                format!("demo organisation {org} is missing"),
            )
        })?;
        let mut items = Vec::new();
        for name in *open_now {
            let Some(d) = catalog.datasets.iter().find(|d| d.content.name == *name) else {
                return Err(demo_fail(
                    "demo.open_dataset_missing",
                    format!("开放演示数据“{name}”不存在"),
                    format!("open demo dataset {name} is missing"),
                ));
            };
            // Planned for the quarter it was released in (this year), else the first.
            let quarter = d
                .content
                .release_date
                .filter(|r| r.year() == year)
                .map_or(1, gongshu_domain::open_plan::quarter_of);
            items.push(PlanItemInput {
                resource: d.code.clone(),
                quarter: Some(quarter),
                ..Default::default()
            });
        }
        for (name, domain, open_type, quarter) in *planned {
            items.push(PlanItemInput {
                name: (*name).into(),
                domain: domain.key().into(),
                open_type: open_type.key().into(),
                quarter: Some(*quarter),
                note: "尚未编目，编目发布后关联资源代码".into(),
                ..Default::default()
            });
        }
        let filer_ctx = match filer {
            Some(name) => ctx_of(Some(user(name).await?)),
            None => Ctx::cli(),
        };
        let plan = open_plans::save(
            app,
            &filer_ctx,
            PlanInput {
                org_id: Some(org_id),
                year: Some(year),
                responsible_department: (*department).into(),
                responsible_person: (*person).into(),
                items,
                notes: "根据年度公共数据开放重点编制（演示）".into(),
                file: true,
                ..Default::default()
            },
        )
        .await?;
        let review = match returned {
            Some(reasons) => ReviewInput {
                decision: "return".into(),
                reasons: (*reasons).into(),
            },
            None => ReviewInput {
                decision: "accept".into(),
                reasons: String::new(),
            },
        };
        open_plans::review(app, &authority, &plan.id, review).await?;
    }
    Ok(())
}

/// One demo read of the public: (dataset name, API pages read, downloads, page views).
type DemoUse = (&'static str, usize, usize, usize);

/// One demo product built on open data: (name, kind, address, description, datasets
/// used by name, who built it, the authority's decision and reason if decided).
type DemoProduct = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    Option<(&'static str, &'static str)>,
);

/// OPN-11 (JY 29), SUP-8 (XJ 41): some use of the open data — real reads and
/// downloads through the egress gate (each recorded and counted like any other) and
/// page views — and products built on it: three published by the authority, one
/// waiting for review, one rejected. The datasets the other demo steps and the
/// portal's tests read by name (公交线路信息, 预防接种门诊信息) are only viewed here,
/// so their access records stay as those left them.
async fn seed_usage_and_showcase(app: &App) -> ServiceResult<()> {
    use crate::egress::{self, OpenQuery, PublicReader};
    use crate::open_showcase::{self, NewShowcase, ShowcaseDecision};
    const USES: &[DemoUse] = &[
        ("云川市公交线路信息", 0, 0, 14),
        ("云川市公交站点信息", 6, 2, 9),
        ("云川市逐日天气实况数据", 3, 2, 8),
        ("云川市气象灾害预警信号发布信息", 2, 0, 5),
        ("云川市义务教育学校招生划片范围信息", 1, 1, 6),
        ("云川市公共充电设施信息", 2, 1, 3),
        ("云川市养老机构名录", 0, 1, 2),
    ];
    const PRODUCTS: &[DemoProduct] = &[
        (
            "云川公交到站",
            "app",
            "https://bus.example.cn/yunchuan",
            "查询公交线路、站点和首末班时间的手机应用；线路与站点数据每日从开放平台接口同步，并在“关于”页注明数据来源和获取日期。",
            &["云川市公交线路信息", "云川市公交站点信息"],
            "云川行软件工作室（演示）",
            Some(("publish", "")),
        ),
        (
            "云川天气与预警看板",
            "website",
            "https://weather.example.cn/",
            "按日展示气温、降水和日照，并在发布预警信号时提示；数据来自开放平台的天气实况和预警信息。",
            &["云川市逐日天气实况数据", "云川市气象灾害预警信号发布信息"],
            "张同学（演示）",
            Some(("publish", "")),
        ),
        (
            "云川市义务教育学区地图",
            "website",
            "https://school-map.example.cn/",
            "在地图上查看各学校的招生划片范围，帮助家长了解就近入学政策。",
            &["云川市义务教育学校招生划片范围信息"],
            "云川教育公益小组（演示）",
            Some(("publish", "")),
        ),
        (
            "云川市养老服务可及性研究",
            "research",
            "https://research.example.edu.cn/elderly-care-access",
            "基于养老机构名录测算各街道的养老床位可及性，研究报告注明了数据来源与获取日期。",
            &["云川市养老机构名录"],
            "某高校城市研究课题组（演示）",
            None,
        ),
        (
            "云川优选商家推荐",
            "website",
            "https://promo.example.com/",
            "商家推荐和优惠信息。",
            &["云川市许可企业名录"],
            "某营销公司（演示）",
            Some(("reject", "页面为商业推广，未体现对开放数据的利用，不予展示。")),
        ),
    ];
    let catalog = crate::open::catalog(app).await?;
    let find = |name: &str| {
        catalog
            .datasets
            .iter()
            .find(|d| d.content.name == name)
            .ok_or_else(|| {
                demo_fail(
                    "demo.open_dataset_missing",
                    format!("开放演示数据“{name}”不存在"),
                    format!("open demo dataset {name} is missing"),
                )
            })
    };
    let public = Ctx::new(
        gongshu_domain::permissions::Principal::public("public"),
        None,
    );
    let reader = PublicReader::anonymous("demo");
    for (name, pages, downloads, views) in USES {
        let ds = find(name)?;
        for _ in 0..*views {
            crate::open_usage::count_view(app, ds);
        }
        if !(ds.is_direct() && ds.has_data) {
            continue;
        }
        for i in 0..*pages {
            let q = OpenQuery {
                limit: 5 * (i as i64 + 1),
                ..OpenQuery::default()
            };
            egress::open_page(app, &public, ds, &reader, q).await?;
        }
        for _ in 0..*downloads {
            egress::open_download(app, &public, ds, &reader, datasets::ExportFormat::Csv).await?;
        }
    }
    crate::open_usage::flush_views(app).await?;
    let authority = app
        .store
        .get_user_by_username("authority")
        .await?
        .ok_or_else(|| {
            demo_fail(
                "demo.user_missing",
                "演示用户 authority 不存在".into(),
                "demo user authority is missing".into(),
            )
        })?;
    let authority = Ctx::new(crate::identity::principal_of(&authority), None);
    for (i, (name, kind, url, description, used, submitter, decision)) in
        PRODUCTS.iter().enumerate()
    {
        let mut codes = Vec::new();
        for d in used.iter() {
            codes.push(find(d)?.code.clone());
        }
        let input = NewShowcase {
            name: (*name).into(),
            description: (*description).into(),
            url: (*url).into(),
            kind: (*kind).into(),
            datasets: codes,
            submitter: (*submitter).into(),
            contact: format!("demo{i}@example.com"),
            cites_sources: true,
        };
        let bucket = format!("demo:showcase:{i}");
        let (s, _) = open_showcase::submit(app, &public, &bucket, input).await?;
        if let Some((action, reason)) = decision {
            let input = ShowcaseDecision {
                action: (*action).into(),
                reason: (*reason).into(),
            };
            open_showcase::decide(app, &authority, &s.id, input).await?;
        }
    }
    Ok(())
}

/// OPN-5, OPN-6: 公安局 releases its household register — not open, personal data —
/// as sex × 5-year birth bands × household division (k ≥ 5, up to 5 % of rows
/// dropped), and the authority approves it, so the portal shows a desensitised
/// release beside the open datasets. Skipped when the demo mounted no household
/// data (`demo_data::seed_data` did not run).
async fn seed_release(app: &App) -> ServiceResult<()> {
    use crate::releases::{self, ReleaseDecision, ReleaseInput};
    let found = app
        .store
        .list_catalog_entries(&gongshu_store::CatalogFilter {
            q: Some("户籍人口信息".into()),
            status: Some("published".into()),
            mounted: Some(true),
            ..Default::default()
        })
        .await?;
    let Some(source) = found
        .into_iter()
        .find(|e| e.open_type == OpenType::NotOpen.key())
    else {
        return Ok(());
    };
    let as_user = |username: &'static str| async move {
        let user = app
            .store
            .get_user_by_username(username)
            .await?
            .ok_or_else(|| {
                demo_fail(
                    "demo.user_missing",
                    format!("演示用户 {username} 不存在"),
                    format!("demo user {username} is missing"),
                )
            })?;
        Ok::<_, ServiceError>(Ctx::new(crate::identity::principal_of(&user), None))
    };
    let psb = as_user("psb.admin").await?;
    let authority = as_user("authority").await?;
    let rules = [
        ("citizen_id", "suppress"),
        ("name", "suppress"),
        ("sex", "keep"),
        ("birth_date", "year_band:5"),
        ("household_division", "keep"),
        ("address", "suppress"),
        ("marital_status", "suppress"),
    ];
    let input = ReleaseInput {
        source: source.id.clone(),
        name: Some("云川市户籍人口性别与出生年份结构（脱敏开放，演示数据）".into()),
        rules: rules
            .iter()
            .map(|(item, rule)| ((*item).to_string(), (*rule).to_string()))
            .collect(),
        quasi_identifiers: vec![
            "sex".into(),
            "birth_date".into(),
            "household_division".into(),
        ],
        max_suppression_percent: Some(5),
        ..Default::default()
    };
    let prepared = releases::prepare(app, &psb, input).await?;
    let decision = ReleaseDecision {
        approve: true,
        reason: None,
    };
    releases::decide(app, &authority, &prepared.id, decision).await?;
    Ok(())
}
