//! OPN-5, OPN-6: with the demo's household register mounted, the open demo ends with
//! 公安局's desensitised release of it — sex × birth-year band × household division,
//! at least 5-anonymous, approved by the authority — in the open catalog.
use std::sync::Arc;
use std::time::Instant;

use gongshu_services::demo_data::{self, DemoSize};
use gongshu_services::{demo, demo_open, releases, App, Ctx};
use gongshu_store::Store;
use gongshu_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opn_5_opn_6_the_demo_publishes_a_k_anonymous_release_of_the_household_register() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("gongshu.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let app = App::new(Arc::new(store));
    demo::seed(&app, 5).await.unwrap();
    let size = DemoSize {
        people: 3000,
        entities: 100,
    };
    demo_data::seed_data(&app, size).await.unwrap();
    let started = Instant::now();
    demo_open::seed_open(&app).await.unwrap();
    eprintln!("seed_open with the release: {:?}", started.elapsed());

    let all = releases::list(&app, &Ctx::cli(), releases::ReleaseQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    let r = &all[0];
    assert_eq!(r.status, "published");
    assert_eq!(r.version, 1);
    assert!(r.k_achieved >= 5, "{r:?}");
    assert_eq!(r.k_required, 5);
    assert_eq!(
        r.quasi_identifiers,
        ["sex", "birth_date_year_band", "household_division"]
    );
    assert!(
        r.created_by.starts_with("user:") && r.decided_by.as_deref().unwrap().starts_with("user:")
    );
    let catalog = gongshu_services::open::catalog(&app).await.unwrap();
    let ds = catalog
        .get(r.derived_code.as_deref().unwrap())
        .expect("in the open catalog");
    assert_eq!(ds.rows, r.rows);
    assert!(ds.has_data);
    let names: Vec<&str> = ds
        .content
        .items
        .iter()
        .map(|i| i.code_name.as_str())
        .collect();
    assert_eq!(names, ["sex", "birth_date_year_band", "household_division"]);
}
