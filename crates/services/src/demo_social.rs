//! COL-8 demo: 云川市数据局 buys map points of interest once, for every department
//! (统采共用, HZ 17), catalogs them as its own resource and mounts the data.
use std::collections::HashMap;

use chrono::NaiveDate;
use gongshu_domain::catalog::{
    Category, DataItem, Domain, EntryContent, FieldType, Grade, ItemConstraints, KeyRole,
    OpenReason, OpenType, ResourceFormat, Sensitivity, ShareMode, ShareType, UpdateFrequency,
};
use gongshu_domain::social_data::{SocialAcquisition, SocialDataKind};
use gongshu_store::CatalogEntry;

use crate::context::{App, Ctx};
use crate::dataset_input::InputFormat;
use crate::datasets::{self, Channel, LoadOptions};
use crate::demo_data::io_fail;
use crate::error::ServiceResult;
use crate::social_data::{self, AgreementStatus, NewSocialDataAgreement};

/// Points of interest the demo mounts.
pub const DEMO_POI_ROWS: u32 = 600;

/// What the demo recorded.
pub struct SocialDemo {
    pub entry: CatalogEntry,
    pub agreement: AgreementStatus,
}

fn item(name: &str, code_name: &str, t: FieldType, role: KeyRole, required: bool) -> DataItem {
    DataItem {
        name: name.into(),
        code_name: code_name.into(),
        field_type: t,
        length: None,
        meaning: String::new(),
        sensitive: false,
        key_role: role,
        element_code: None,
        constraints: ItemConstraints {
            required,
            ..Default::default()
        },
    }
}

const POI_CATEGORIES: [&str; 5] = ["政务服务", "医疗卫生", "教育", "交通设施", "便民商业"];

/// The authority's catalog entry for the purchased points of interest.
pub fn poi_content(authority_id: &str) -> EntryContent {
    let mut category = item(
        "兴趣点类别",
        "poi_category",
        FieldType::String,
        KeyRole::None,
        true,
    );
    category.constraints.enum_values = POI_CATEGORIES.iter().map(|c| c.to_string()).collect();
    EntryContent {
        name: "地图兴趣点（POI）数据（统一采购，演示数据）".into(),
        summary: "市数据局向地图服务商统一采购的兴趣点数据，供各部门共享使用，各部门不再另行采购（HZ 17 统采共用）。".into(),
        category: Category::Business,
        domain: Domain::NaturalResources,
        format: ResourceFormat::Database,
        source_org_id: authority_id.into(),
        providing_org_id: None,
        approving_department: String::new(),
        co_builder_org_ids: Vec::new(),
        items: vec![
            item("兴趣点编号", "poi_id", FieldType::String, KeyRole::RecordKey, true),
            item("名称", "name", FieldType::String, KeyRole::None, true),
            category,
            item(
                "所在行政区划",
                "division",
                FieldType::String,
                KeyRole::DivisionCode,
                true,
            ),
            item("经度", "longitude", FieldType::Number, KeyRole::None, true),
            item("纬度", "latitude", FieldType::Number, KeyRole::None, true),
            item("更新日期", "updated_on", FieldType::Date, KeyRole::None, false),
        ],
        share_type: ShareType::Unconditional,
        share_conditions: String::new(),
        share_scope: "本级及下级政务部门".into(),
        share_modes: vec![ShareMode::Api, ShareMode::Download, ShareMode::PageQuery],
        legal_basis: String::new(),
        open_type: OpenType::NotOpen,
        open_conditions: String::new(),
        open_reason: Some(OpenReason::AgreementOrIp),
        open_basis: "采购合同约定数据仅供政务部门使用".into(),
        update_frequency: UpdateFrequency::Monthly,
        timeliness: "服务商每月更新".into(),
        grade: Grade::General,
        sensitivity: Some(Sensitivity::L1),
        classified: false,
        release_date: None,
        related_codes: Vec::new(),
    }
}

/// The demo's points of interest as CSV, `rows` of them.
pub fn poi_csv(rows: u32) -> String {
    let mut out = String::from("兴趣点编号,名称,兴趣点类别,所在行政区划,经度,纬度,更新日期\n");
    let divisions = ["830102", "830121", "830100"];
    for i in 0..rows {
        let category = POI_CATEGORIES[(i % 5) as usize];
        out.push_str(&format!(
            "POI{:06},云川{}点位{},{},{},{:.5},{:.5},2026-10-{:02}\n",
            i + 1,
            category,
            i + 1,
            category,
            divisions[(i % 3) as usize],
            102.5 + f64::from(i % 97) * 0.003,
            25.0 + f64::from(i % 89) * 0.002,
            1 + i % 28,
        ));
    }
    out
}

/// COL-8: registers the authority's POI entry, mounts its data and records the
/// purchase over `term`.
pub async fn seed_social_data(
    app: &App,
    ctx: &Ctx,
    ids: &HashMap<String, String>,
    term: (NaiveDate, NaiveDate),
) -> ServiceResult<SocialDemo> {
    let authority = ids.get("authority").cloned().unwrap_or_default();
    let purchase = SocialPurchase {
        kind: SocialDataKind::Map,
        name: "云川市地图兴趣点数据服务采购（演示）".into(),
        supplier: "示范地图信息技术有限公司（虚构）".into(),
        contract_ref: "云数采〔2026〕1号（演示）".into(),
        scope: "全市兴趣点名称、类别、位置；限本市各级政务部门履职使用，不得向社会开放或转让"
            .into(),
        term,
    };
    let csv = poi_csv(DEMO_POI_ROWS);
    seed_social_entry(
        app,
        ctx,
        &authority,
        poi_content(&authority),
        &csv,
        purchase,
    )
    .await
}

/// COL-8: what the authority bought, for [`seed_social_entry`].
pub struct SocialPurchase {
    pub kind: SocialDataKind,
    pub name: String,
    pub supplier: String,
    pub contract_ref: String,
    pub scope: String,
    pub term: (NaiveDate, NaiveDate),
}

/// COL-8: publishes `content` as the authority's entry, clears its secrecy review,
/// mounts `csv` as its data and records the purchase over it (not to be opened).
pub async fn seed_social_entry(
    app: &App,
    ctx: &Ctx,
    authority: &str,
    content: EntryContent,
    csv: &str,
    purchase: SocialPurchase,
) -> ServiceResult<SocialDemo> {
    let entry = crate::demo_catalog::publish_for_demo(app, ctx, authority, content).await?;
    datasets::record_secrecy_review(
        app,
        ctx,
        &entry.id,
        datasets::SecrecyReviewInput::cleared(datasets::DEMO_SECRECY_NOTE),
    )
    .await?;
    let path =
        std::env::temp_dir().join(format!("gongshu-demo-social-{}.csv", uuid::Uuid::now_v7()));
    std::fs::write(&path, csv).map_err(io_fail)?;
    let mut opts = LoadOptions::new(Channel::Upload, InputFormat::Csv);
    opts.file_name = Some("social.csv".into());
    let loaded = datasets::load_file(app, ctx, &entry.id, &path, opts).await;
    let _ = std::fs::remove_file(&path);
    loaded?;
    let agreement = social_data::record(
        app,
        ctx,
        NewSocialDataAgreement {
            acquisition: SocialAcquisition::Purchase,
            kind: purchase.kind,
            name: purchase.name,
            supplier: purchase.supplier,
            contract_ref: purchase.contract_ref,
            scope: purchase.scope,
            starts_on: purchase.term.0,
            ends_on: purchase.term.1,
            opening_allowed: false,
            entries: vec![entry.id.clone()],
            org_id: Some(authority.to_string()),
        },
    )
    .await?;
    let entry = crate::catalog::find_entry(app, &entry.id)
        .await?
        .unwrap_or(entry);
    Ok(SocialDemo { entry, agreement })
}

/// COL-8: the demo's purchase, in force for the current year.
pub async fn seed_demo_purchase(app: &App) -> ServiceResult<SocialDemo> {
    let ids = crate::demo::demo_org_ids(app).await?;
    let year = chrono::Datelike::year(&crate::catalog::today_in_china(chrono::Utc::now()));
    let term = (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default(),
    );
    seed_social_data(app, &Ctx::cli(), &ids, term).await
}
