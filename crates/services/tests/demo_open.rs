//! OPN-2: the demo opens about sixty synthetic datasets with rows behind each, on a
//! fresh SQLite store seeded with the demo region and its catalog.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use gongshu_domain::catalog::{self, OpenType, ShareType};
use gongshu_services::{datasets, demo, demo_open, App, Ctx};
use gongshu_store::{CatalogEntry, CatalogFilter, Store};
use gongshu_store_sqlite::SqliteStore;

async fn published(app: &App) -> Vec<CatalogEntry> {
    app.store
        .list_catalog_entries(&CatalogFilter {
            status: Some("published".into()),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opn_2_demo_publishes_about_sixty_open_datasets_with_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("gongshu.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let app = App::new(Arc::new(store));
    demo::seed(&app, 5).await.unwrap();
    let before: HashSet<String> = published(&app).await.into_iter().map(|e| e.id).collect();

    let started = Instant::now();
    let summary = demo_open::seed_open(&app).await.unwrap();
    eprintln!("seed_open: {summary:?} in {:?}", started.elapsed());

    let after = published(&app).await;
    assert!(after.len() < 1000, "the listing was cut off");
    let new: Vec<&CatalogEntry> = after.iter().filter(|e| !before.contains(&e.id)).collect();
    assert_eq!(new.len(), summary.datasets);
    let rows: HashMap<String, i64> = datasets::list(&app, &Ctx::cli(), None)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.resource_id, d.row_count))
        .collect();
    let (mut unconditional, mut conditional, mut total) = (0, 0, 0);
    let mut names = HashSet::new();
    for e in &new {
        let content = e.published.as_ref().expect("published content");
        assert!(
            names.insert(e.name.clone()),
            "{} is published twice",
            e.name
        );
        // OPN-11: only the source department opens its data.
        assert_eq!(e.owner_org_id, e.source_org_id, "{}", e.name);
        assert_eq!(content.source_org_id, e.owner_org_id, "{}", e.name);
        assert_eq!(content.share_type, ShareType::Unconditional, "{}", e.name);
        assert!(
            catalog::check_entry(content).is_empty(),
            "{}: {:?}",
            e.name,
            catalog::check_entry(content)
        );
        assert!(
            catalog::quality_findings(content).is_empty(),
            "{}: {:?}",
            e.name,
            catalog::quality_findings(content)
        );
        assert!(content.summary.contains("演示合成数据"), "{}", e.name);
        match content.open_type {
            OpenType::Unconditional => unconditional += 1,
            OpenType::Conditional => {
                assert!(!content.open_conditions.trim().is_empty(), "{}", e.name);
                conditional += 1;
            }
            OpenType::NotOpen => panic!("{} is not open", e.name),
        }
        assert!(e.mounted, "{} has no data mounted", e.name);
        let n = rows.get(&e.id).copied().unwrap_or(0);
        assert!(n > 0, "{} has no rows", e.name);
        total += n;
    }
    assert!(unconditional >= 55, "{unconditional} unconditionally open");
    assert!(conditional >= 3, "{conditional} conditionally open");
    assert_eq!(summary.conditional, conditional);
    assert_eq!(summary.rows, total as u64);
}
