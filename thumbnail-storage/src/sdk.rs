//! The AWS SDK's shared configuration, built one way for every AWS client of the service
//! (S3 here, Secrets Manager in `thumbnail-service`): rustls with ring (no C build), the
//! storage timeouts and retries, the SDK's own chain for credentials, region and endpoint.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::Timeouts;

/// The SDK configuration for `timeouts`, with `region` and `endpoint` when given; otherwise
/// the SDK's chain finds them (`AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>`, profiles, instance
/// metadata).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let config = thumbnail_storage::aws_sdk_config(
///     &thumbnail_storage::Timeouts::default(),
///     Some("eu-west-1"),
///     None,
/// )
/// .await;
/// assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
/// # });
/// ```
pub async fn aws_sdk_config(
    timeouts: &Timeouts,
    region: Option<&str>,
    endpoint: Option<&str>,
) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeouts.connect)
                .operation_timeout(timeouts.operation)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(timeouts.attempts.max(1)));
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}
