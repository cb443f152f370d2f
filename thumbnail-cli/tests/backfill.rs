//! `thumbnail backfill`: the S3 Batch Operations manifest of every original under a prefix,
//! written to the test server, and the `create-job` command that names it exactly.

mod common;

use bytes::Bytes;
use common::{run, stderr};
use thumbnail_storage::{Key, PutOptions, Store, Timeouts};

#[test]
fn backfill_writes_a_manifest_and_the_create_job_command() {
    let endpoint = thumbnail_testkit::s3_endpoint();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(async {
        let store = thumbnail_testkit::s3_store("cli-backfill", "", Timeouts::default()).await;
        for k in [
            "uploads/red flower.jpg",
            "uploads/a+b/ü.jpg",
            "uploads/x,y.jpg",
            "other/no.jpg",
        ] {
            let bytes = Bytes::from_static(b"any bytes: the function reads them");
            store
                .put(&Key::new(k).unwrap(), bytes, &PutOptions::default())
                .await
                .unwrap();
        }
        store
    });
    let b = store.bucket().to_string();
    let q = format!("?endpoint={endpoint}&path-style=true");
    let function = "arn:aws:lambda:eu-west-1:123456789012:function:thumbnail";
    let role = "arn:aws:iam::123456789012:role/thumbnail-batch";
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "backfill",
        &format!("s3://{b}/uploads{q}"),
        "--manifest",
        &format!("s3://{b}/manifests/all.csv{q}"),
        "--function-arn",
        function,
        "--role-arn",
        role,
        "--report",
        &format!("s3://{b}/reports{q}"),
    ]
    .map(|s| s.to_string());
    let out = run(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("wrote 3 tasks"), "{}", stderr(&out));

    let manifest = rt
        .block_on(store.get(&Key::new("manifests/all.csv").unwrap(), 1 << 20))
        .unwrap();
    let text = String::from_utf8(manifest.bytes.to_vec()).unwrap();
    let expected = format!(
        "{b},uploads/a%2Bb/%C3%BC.jpg\n{b},uploads/red%20flower.jpg\n{b},uploads/x%2Cy.jpg\n"
    );
    assert_eq!(text, expected);

    let command = String::from_utf8(out.stdout).unwrap();
    assert!(
        command.starts_with("aws s3control create-job --account-id 123456789012 "),
        "{command}"
    );
    let etag = manifest.meta.etag.unwrap();
    for part in [
        format!("\"ETag\":\"{}\"", etag.trim_matches('"')),
        format!("\"ObjectArn\":\"arn:aws:s3:::{b}/manifests/all.csv\""),
        format!("\"FunctionArn\":\"{function}\""),
        format!("--role-arn {role}"),
        format!("\"Bucket\":\"arn:aws:s3:::{b}\""),
        "\"Prefix\":\"reports\"".to_string(),
        "\"ReportScope\":\"AllTasks\"".to_string(),
    ] {
        assert!(command.contains(&part), "{part} not in {command}");
    }

    // Not a function ARN: one line on stderr, nothing written.
    let mut bad = args.clone();
    bad[5] = "thumbnail".into();
    let out = run(
        &bad.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}
