//! A second S3-compatible server, in this process on 127.0.0.1: s3s-fs, which checks what
//! moto does not (SigV4 signatures, POST policies with `content-length-range` and
//! `starts-with`). Tests of what S3 itself must refuse run against it.

use std::path::Path;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// Serves the folder `root` (one sub-folder per bucket) until the runtime ends, with the
/// credentials of `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`; returns its endpoint.
pub async fn strict_s3(root: &Path) -> String {
    let (access, secret) = (
        super::env_var("AWS_ACCESS_KEY_ID"),
        super::env_var("AWS_SECRET_ACCESS_KEY"),
    );
    let fs = s3s_fs::FileSystem::new(root)
        .unwrap_or_else(|e| panic!("s3s-fs on {}: {e:?}", root.display()));
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(access, secret));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding the strict S3 server: {e}"));
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    tokio::spawn(async move {
        let http = Builder::new(TokioExecutor::new());
        while let Ok((socket, _)) = listener.accept().await {
            let conn = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    format!("http://{addr}")
}
