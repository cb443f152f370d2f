//! S3 and S3-compatible servers (MinIO, Ceph, R2, moto) through the official SDK.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::{Bytes, BytesMut};

use crate::error::source_chain;
use crate::{
    Answer, Key, Object, ObjectMeta, ObjectStream, PresignedPost, PutOptions, SOURCE_ETAG, Store,
    StoreError, Timeouts, UploadRules,
};
use futures::StreamExt;

/// Where and how to reach a bucket.
#[derive(Debug, Clone, Default)]
pub struct S3Config {
    pub bucket: String,
    /// Folder inside the bucket every key is relative to ("" for the bucket root).
    pub prefix: String,
    /// The region; otherwise the SDK's chain (AWS_REGION, profile, IMDS), then us-east-1.
    pub region: Option<String>,
    /// A custom endpoint for S3-compatible servers; otherwise the SDK's chain
    /// (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, profile), then AWS.
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need.
    pub path_style: bool,
    pub timeouts: Timeouts,
}

/// A bucket (and prefix) on S3 or an S3-compatible server.
///
/// Credentials come from the SDK's normal chain: environment variables (as on Lambda),
/// profiles, web identity, ECS and EC2 instance metadata.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    /// What signs upload policies (the SDK client does not hand its own out).
    credentials: Option<SharedCredentialsProvider>,
    region: String,
    bucket: String,
    prefix: String,
    url: String,
}

impl S3Store {
    pub async fn new(config: S3Config) -> Result<Self, StoreError> {
        let sdk = crate::sdk::aws_sdk_config(
            &config.timeouts,
            config.region.as_deref(),
            config.endpoint.as_deref(),
        )
        .await;
        let mut s3 = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(config.path_style);
        if sdk.region().is_none() {
            // S3-compatible servers take any region; AWS answers with a redirect hint.
            s3 = s3.region(aws_config::Region::from_static("us-east-1"));
        }
        let s3 = s3.build();
        let region = s3.region().map_or("us-east-1", |r| r.as_ref()).to_string();
        let prefix = config.prefix.trim_matches('/').to_string();
        let url = if prefix.is_empty() {
            format!("s3://{}", config.bucket)
        } else {
            format!("s3://{}/{prefix}", config.bucket)
        };
        if config.bucket.is_empty() {
            return Err(StoreError::InvalidUrl {
                url,
                reason: "no bucket".into(),
            });
        }
        Ok(S3Store {
            client: Client::from_conf(s3),
            credentials: sdk.credentials_provider(),
            region,
            bucket: config.bucket,
            prefix,
            url,
        })
    }

    /// The SDK client, for what the trait does not cover (tests create buckets with it).
    ///
    /// The one dependency type in this crate's API, on purpose: wrapping the whole S3 API
    /// would add nothing, and `aws-sdk-s3` is pinned by this crate, so a caller that wants the
    /// client names that same version.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The folder inside the bucket keys are relative to (`""` for the root).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn full(&self, key: &Key) -> String {
        if self.prefix.is_empty() {
            key.as_str().to_string()
        } else {
            format!("{}/{}", self.prefix, key.as_str())
        }
    }

    /// How long a presigned URL lives (S3 refuses more than 7 days).
    fn presigning(&self, expires_in: Duration) -> Result<PresigningConfig, StoreError> {
        PresigningConfig::expires_in(expires_in).map_err(|e| StoreError::Other {
            store: self.url.clone(),
            message: e.to_string(),
        })
    }

    /// Where a POST upload goes: the bucket's own URL, as the SDK addresses it (path style
    /// or virtual host, the endpoint in use), read off a presigned URL of a one-letter key.
    async fn bucket_url(&self) -> Result<String, StoreError> {
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key("k")
            .presigned(self.presigning(Duration::from_secs(60))?)
            .await
            .map_err(|e| self.err("", e))?;
        let url = req.uri();
        let bare = url.split('?').next().unwrap_or(url);
        Ok(bare.strip_suffix('k').unwrap_or(bare).to_string())
    }

    /// Turns an object name in the bucket back into a key relative to the prefix.
    fn relative(&self, name: &str) -> Option<Key> {
        let rel = if self.prefix.is_empty() {
            name
        } else {
            name.strip_prefix(&self.prefix)?.strip_prefix('/')?
        };
        Key::new(rel).ok()
    }

    fn err<E>(&self, key: &str, e: SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let store = self.url.clone();
        let key = key.to_string();
        match &e {
            SdkError::ServiceError(se) => {
                let status = se.raw().status().as_u16();
                let err = se.err();
                let code = err.code().unwrap_or("");
                let message = err.message().unwrap_or(code).to_string();
                match (status, code) {
                    // Before the 404 arm: a missing bucket is a configuration error, not a
                    // missing object.
                    (_, "NoSuchBucket") => StoreError::Other {
                        store,
                        message: format!("bucket {} does not exist", self.bucket),
                    },
                    (404, _) | (_, "NoSuchKey" | "NotFound") => StoreError::NotFound { key },
                    (401 | 403, _)
                    | (_, "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch") => {
                        StoreError::AccessDenied { key, message }
                    }
                    (s, _) if s >= 500 || s == 429 => StoreError::Unavailable {
                        store,
                        message: format!("HTTP {s}: {message}"),
                    },
                    (s, _) => StoreError::Other {
                        store,
                        message: format!("HTTP {s} {code}: {message}"),
                    },
                }
            }
            SdkError::TimeoutError(_) => StoreError::Unavailable {
                store,
                message: "timed out".into(),
            },
            SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => {
                StoreError::Unavailable {
                    store,
                    message: format!("cannot connect: {}", source_chain(&e)),
                }
            }
            SdkError::ResponseError(_) | SdkError::DispatchFailure(_) => StoreError::Unavailable {
                store,
                message: source_chain(&e),
            },
            _ => StoreError::Other {
                store,
                message: source_chain(&e),
            },
        }
    }
}

fn source_etag(metadata: Option<&std::collections::HashMap<String, String>>) -> Option<String> {
    metadata.and_then(|m| m.get(SOURCE_ETAG)).cloned()
}

fn to_system_time(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<SystemTime> {
    t.and_then(|d| SystemTime::try_from(*d).ok())
}

#[async_trait]
impl Store for S3Store {
    fn url(&self) -> &str {
        &self.url
    }

    async fn get(&self, key: &Key, max_bytes: u64) -> Result<Object, StoreError> {
        let full = self.full(key);
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        let declared = out.content_length().and_then(|n| u64::try_from(n).ok());
        if let Some(size) = declared
            && size > max_bytes
        {
            // Dropping the body closes the connection: the bytes are never transferred.
            return Err(StoreError::TooLarge {
                key: key.to_string(),
                size,
                limit: max_bytes,
            });
        }
        let meta = ObjectMeta {
            key: key.clone(),
            size: declared.unwrap_or(0),
            content_type: out.content_type().map(str::to_string),
            cache_control: out.cache_control().map(str::to_string),
            etag: out.e_tag().map(str::to_string),
            last_modified: to_system_time(out.last_modified()),
            source_etag: source_etag(out.metadata()),
        };
        let mut body = out.body;
        let mut buf = BytesMut::with_capacity(declared.unwrap_or(0).min(max_bytes) as usize);
        // The declared length could lie; the cap holds while reading too.
        while let Some(chunk) = body.try_next().await.map_err(|e| StoreError::Unavailable {
            store: self.url.clone(),
            message: format!("reading {key}: {}", source_chain(&e)),
        })? {
            if (buf.len() + chunk.len()) as u64 > max_bytes {
                return Err(StoreError::TooLarge {
                    key: key.to_string(),
                    size: (buf.len() + chunk.len()) as u64,
                    limit: max_bytes,
                });
            }
            buf.extend_from_slice(&chunk);
        }
        let bytes = buf.freeze();
        Ok(Object {
            meta: ObjectMeta {
                size: bytes.len() as u64,
                ..meta
            },
            bytes,
        })
    }

    async fn stream(
        &self,
        key: &Key,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<ObjectStream, StoreError> {
        let full = self.full(key);
        let mut request = self.client.get_object().bucket(&self.bucket).key(&full);
        if let Some(r) = &range {
            request = request.range(format!("bytes={}-{}", r.start, r.end.saturating_sub(1)));
        }
        let out = request
            .send()
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        let length = out
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        // "bytes a-b/total" on a range; the length is the whole size otherwise.
        let total = out
            .content_range()
            .and_then(|r| r.rsplit_once('/'))
            .and_then(|(_, t)| t.parse().ok())
            .unwrap_or(length);
        let start = range.as_ref().map_or(0, |r| r.start);
        let meta = ObjectMeta {
            key: key.clone(),
            size: total,
            content_type: out.content_type().map(str::to_string),
            cache_control: out.cache_control().map(str::to_string),
            etag: out.e_tag().map(str::to_string),
            last_modified: to_system_time(out.last_modified()),
            source_etag: source_etag(out.metadata()),
        };
        let (url, name) = (self.url.clone(), key.to_string());
        let body = futures::stream::unfold(Some(out.body), move |body| {
            let (url, name) = (url.clone(), name.clone());
            async move {
                let mut body = body?;
                match body.try_next().await {
                    Ok(Some(chunk)) => Some((Ok(chunk), Some(body))),
                    Ok(None) => None,
                    Err(e) => Some((
                        Err(StoreError::Unavailable {
                            store: url,
                            message: format!("reading {name}: {}", source_chain(&e)),
                        }),
                        None,
                    )),
                }
            }
        })
        .boxed();
        Ok(ObjectStream {
            meta,
            range: start..start + length,
            body,
        })
    }

    async fn put(
        &self,
        key: &Key,
        body: Bytes,
        options: &PutOptions,
    ) -> Result<ObjectMeta, StoreError> {
        let size = body.len() as u64;
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .set_content_type(options.content_type.clone())
            .set_cache_control(options.cache_control.clone())
            .set_metadata(
                options
                    .source_etag
                    .as_ref()
                    .map(|e| [(SOURCE_ETAG.to_string(), e.clone())].into()),
            )
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        Ok(ObjectMeta {
            key: key.clone(),
            size,
            content_type: options.content_type.clone(),
            cache_control: options.cache_control.clone(),
            etag: out.e_tag().map(str::to_string),
            last_modified: Some(SystemTime::now()),
            source_etag: options.source_etag.clone(),
        })
    }

    async fn head(&self, key: &Key) -> Result<ObjectMeta, StoreError> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        Ok(ObjectMeta {
            key: key.clone(),
            size: out
                .content_length()
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            content_type: out.content_type().map(str::to_string),
            cache_control: out.cache_control().map(str::to_string),
            etag: out.e_tag().map(str::to_string),
            last_modified: to_system_time(out.last_modified()),
            source_etag: source_etag(out.metadata()),
        })
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        let folder = prefix.trim_matches('/');
        let mut full = if self.prefix.is_empty() {
            folder.to_string()
        } else if folder.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}/{folder}", self.prefix)
        };
        if !full.is_empty() {
            full.push('/');
        }
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err(prefix, e))?;
            for obj in page.contents() {
                let Some(key) = obj.key().and_then(|k| self.relative(k)) else {
                    continue;
                };
                out.push(ObjectMeta {
                    key,
                    size: obj.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                    content_type: None,
                    cache_control: None,
                    etag: obj.e_tag().map(str::to_string),
                    last_modified: to_system_time(obj.last_modified()),
                    source_etag: None,
                });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn presign_post(
        &self,
        key: &Key,
        rules: &UploadRules,
        expires_in: Duration,
    ) -> Result<PresignedPost, StoreError> {
        let full = self.full(key);
        let fail = |message: String| StoreError::Other {
            store: self.url.clone(),
            message,
        };
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| fail("no credentials to sign an upload with".into()))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| fail(format!("credentials: {}", source_chain(&e))))?;
        let signer = crate::post_policy::Signer {
            access_key: credentials.access_key_id(),
            secret_key: credentials.secret_access_key(),
            session_token: credentials.session_token(),
            region: &self.region,
            bucket: &self.bucket,
            key: &full,
            now: SystemTime::now(),
        };
        Ok(PresignedPost {
            url: self.bucket_url().await?,
            fields: signer.fields(rules, expires_in),
            expires_in,
            max_bytes: rules.max_bytes,
        })
    }

    async fn presign_get(
        &self,
        key: &Key,
        expires_in: Duration,
        answer: &Answer,
    ) -> Result<String, StoreError> {
        let config = self.presigning(expires_in)?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .set_response_content_type(answer.content_type.clone())
            .set_response_content_disposition(answer.content_disposition.clone())
            .presigned(config)
            .await
            .map_err(|e| self.err(key.as_str(), e))?;
        Ok(req.uri().to_string())
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| self.err("", e))?;
        Ok(())
    }
}
