//! The S3 server goes away mid-test: typed errors within the configured timeout, and no
//! partial object afterwards. Each test runs its own moto server so it can stop it.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use thumbnail_storage::{Key, PutOptions, S3Config, S3Store, Store, StoreError, Timeouts};

struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start(port: Option<u16>) -> Moto {
        let port = port.unwrap_or_else(|| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        });
        let exe = std::env::var("THUMBNAIL_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {exe}: {e}; {}", common::HOW));
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto { child, port }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn kill(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn short() -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(500),
        operation: Duration::from_secs(3),
        attempts: 2,
    }
}

#[tokio::test]
async fn a_stopped_server_is_unavailable_within_the_timeout_and_recovers() {
    common::s3_endpoint(); // the credentials check
    let moto = Moto::start(None);
    let store = common::s3_store_at(&moto.endpoint(), "fault", "", short()).await;
    let key = Key::new("k.bin").unwrap();
    store
        .put(&key, Bytes::from_static(b"before"), &PutOptions::default())
        .await
        .unwrap();

    let port = moto.kill();
    for op in ["get", "put", "head", "list"] {
        let start = Instant::now();
        let err = match op {
            "get" => store.get(&key, 100).await.err(),
            "put" => store
                .put(&key, Bytes::from_static(b"x"), &PutOptions::default())
                .await
                .err(),
            "head" => store.head(&key).await.err(),
            _ => store.list("").await.err(),
        };
        let took = start.elapsed();
        assert!(
            matches!(err, Some(StoreError::Unavailable { .. })),
            "{op}: {err:?}"
        );
        assert!(err.as_ref().is_some_and(StoreError::is_transient));
        assert!(
            took < short().operation + Duration::from_secs(1),
            "{op} took {took:?}"
        );
    }
    assert!(matches!(
        store.check().await,
        Err(StoreError::Unavailable { .. })
    ));

    // Back on the same port, the same client works again (moto restarts empty).
    let _moto = Moto::start(Some(port));
    store
        .client()
        .create_bucket()
        .bucket(store.bucket())
        .send()
        .await
        .unwrap();
    store
        .put(&key, Bytes::from_static(b"after"), &PutOptions::default())
        .await
        .unwrap();
    assert_eq!(
        store.get(&key, 100).await.unwrap().bytes,
        Bytes::from_static(b"after")
    );
}

#[tokio::test]
async fn a_server_frozen_mid_upload_leaves_no_partial_object() {
    common::s3_endpoint();
    let moto = Moto::start(None);
    let store = common::s3_store_at(&moto.endpoint(), "frozen", "", short()).await;
    let key = Key::new("half/written.bin").unwrap();

    // A separate client in its own runtime, shut down once the upload has failed: the
    // connection goes away like a process that exits (or a Lambda that is frozen). Otherwise
    // the connection task would carry on sending the body after the SDK reported the error,
    // and the server would complete the object (whole) once it resumes.
    moto.signal("-STOP");
    let (endpoint, bucket) = (moto.endpoint(), store.bucket().to_string());
    let upload_key = key.clone();
    let (result, took) = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt.block_on(async {
            let client = S3Store::new(S3Config {
                bucket,
                endpoint: Some(endpoint),
                region: Some("us-east-1".into()),
                path_style: true,
                timeouts: short(),
                ..S3Config::default()
            })
            .await
            .unwrap();
            // More than this kernel can hold in loopback socket buffers (32 MB receive + 4 MB
            // send), so part of the body is never delivered.
            let body = Bytes::from(vec![1u8; 100_000_000]);
            let start = Instant::now();
            let r = client.put(&upload_key, body, &PutOptions::default()).await;
            (r, start.elapsed())
        });
        rt.shutdown_background();
        out
    })
    .join()
    .unwrap();
    moto.signal("-CONT");
    assert!(
        matches!(result, Err(StoreError::Unavailable { .. })),
        "{result:?}"
    );
    assert!(
        took < short().operation + Duration::from_secs(1),
        "took {took:?}"
    );

    // The server is back with its state (the bucket is there); the object is not.
    tokio::time::sleep(Duration::from_millis(500)).await;
    store.check().await.unwrap();
    assert!(matches!(
        store.head(&key).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.list("").await.unwrap().is_empty());
}
