//! COL-7: the calls to the upper node over https.

use gongshu_connectors::upstream::{UpstreamClient, UpstreamError, UpstreamTarget};
use gongshu_connectors::TrustedRoots;
use serde_json::json;

use crate::common::{Reply, TestPki};

fn target(base: &str, roots: TrustedRoots) -> UpstreamTarget {
    UpstreamTarget {
        url: format!("{base}/gongshu/"),
        token: "gs_reporting_token".into(),
        roots,
    }
}

#[tokio::test]
async fn col_7_an_https_upper_node_is_reported_to_when_its_authority_is_trusted() {
    let pki = TestPki::new();
    let upper = pki
        .serve(|request| {
            assert_eq!(request.path, "/gongshu/api/v1/upstream/received");
            let bearer = request.headers.get("authorization").map(String::as_str);
            if bearer != Some("Bearer gs_reporting_token") {
                return Reply::Json(401, r#"{"code":"auth.required","message":""}"#.into());
            }
            Reply::Json(
                200,
                r#"{"upper_code":"830000-A-0001","created":true}"#.into(),
            )
        })
        .await;
    let roots = TrustedRoots::with_pem(pki.ca_pem.clone().into_bytes()).unwrap();
    let client = UpstreamClient::new(&target(&upper.base, roots)).unwrap();
    let answer = client.report_entry(&json!({"code": "x"})).await.unwrap();
    assert_eq!(answer["upper_code"], "830000-A-0001");

    // Without the authority the run stops at the handshake: nothing is sent.
    let client = UpstreamClient::new(&target(&upper.base, TrustedRoots::system())).unwrap();
    let err = client
        .report_entry(&json!({"code": "x"}))
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Tls(_)), "{err:?}");
    assert!(err.concerns_every_entry());
    assert!(err.message_zh().contains("ca_file"), "{}", err.message_zh());
    assert!(!err.message_en().contains("gs_reporting_token"));
    assert_eq!(
        upper.requests.lock().unwrap().len(),
        1,
        "only the first call arrived"
    );
}
