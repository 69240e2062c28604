//! OPN-3, OPN-4: the demo seeds developer keys and applications for its conditional
//! datasets in each state, and the key of the application in force reads its data.
use std::collections::HashSet;
use std::sync::Arc;

use gongshu_services::{demo, demo_open, demo_open_access, open_access, App};
use gongshu_store::{OpenApplicationFilter, Store};
use gongshu_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opn_4_demo_seeds_applications_in_each_state_with_working_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("gongshu.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let app = App::new(Arc::new(store));
    demo::seed(&app, 5).await.unwrap();
    demo_open::seed_open(&app).await.unwrap();

    let keys = demo_open_access::seed_applications(&app).await.unwrap();
    assert_eq!(keys.len(), 2);
    let applications = app
        .store
        .list_open_applications(&OpenApplicationFilter::default())
        .await
        .unwrap();
    let states: HashSet<&str> = applications.iter().map(|a| a.status.as_str()).collect();
    for state in [
        "source_review",
        "authority_review",
        "awaiting_agreement",
        "active",
        "rejected",
    ] {
        assert!(
            states.contains(state),
            "a demo application is {state}: {states:?}"
        );
    }
    // Each printed key is a working key, and the one in force unlocks its dataset.
    let mut in_force = 0;
    for k in &keys {
        let key = open_access::key_for_secret(&app, &k.secret).await.unwrap();
        for a in open_access::list_for_key(&app, &key).await.unwrap() {
            if a.status == "active" {
                let catalog = gongshu_services::open::catalog(&app).await.unwrap();
                let ds = catalog.find(&a.resource_code).unwrap();
                let today = gongshu_services::catalog::today_in_china(chrono::Utc::now());
                assert!(open_access::unlocking_application(&app, &key.id, ds, today)
                    .await
                    .unwrap()
                    .is_some());
                in_force += 1;
            }
        }
    }
    assert_eq!(in_force, 1);
}
