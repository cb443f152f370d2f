//! HTTP events (API Gateway REST and HTTP APIs, function URLs, ALB) into the shared router:
//! what lambda_http leaves to the function. It puts a named stage in front of the path
//! (`/prod/images/...`), which no route has; and it unwraps a URL parse of the `Host`, so a
//! placeholder or hostile host would panic the function.

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{RequestExt, Service as _};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use crate::LambdaError;

/// Answers one HTTP event with `router`.
pub(crate) async fn answer(
    router: &Router,
    payload: Value,
    context: Context,
) -> Result<Value, LambdaError> {
    if let Some(host) = bad_host(&payload) {
        return Ok(bad_request(&payload, &host));
    }
    let request: LambdaRequest =
        serde_json::from_value(payload).map_err(|e| LambdaError::UnknownEvent(e.to_string()))?;
    let mut adapter = lambda_http::Adapter::from(router.clone());
    std::future::poll_fn(|cx| adapter.poll_ready(cx))
        .await
        .unwrap_or_else(|never| match never {});
    let response = adapter
        .call(LambdaEvent::new(request, context))
        .await
        .unwrap_or_else(|never| match never {});
    serde_json::to_value(response).map_err(|e| LambdaError::UnknownEvent(e.to_string()))
}

/// `api` behind a step that takes a named API Gateway stage off the front of the path
/// (REST APIs always have one; HTTP APIs unless the stage is `$default`).
pub(crate) fn without_stage(api: Router) -> Router {
    Router::new()
        .fallback_service(api)
        .layer(axum::middleware::map_request(strip_stage))
}

async fn strip_stage(mut req: Request) -> Request {
    let stage = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(c)) => c.stage.clone(),
        Some(RequestContext::ApiGatewayV2(c)) => c.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage.filter(|s| !s.is_empty() && s != "$default") else {
        return req;
    };
    let uri = req.uri();
    let path = uri.path();
    let prefix = format!("/{stage}");
    let Some(rest) = path
        .strip_prefix(&prefix)
        .filter(|r| r.is_empty() || r.starts_with('/'))
    else {
        return req;
    };
    let rest = if rest.is_empty() { "/" } else { rest };
    let new = match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    if let Ok(new) = new.parse::<Uri>() {
        *req.uri_mut() = new;
    }
    req
}

/// The host lambda_http would build the request URL from (the `Host` header, else the
/// request context's domain name), when it is not a valid host.
fn bad_host(payload: &Value) -> Option<String> {
    let headers = payload.get("headers").and_then(Value::as_object);
    let header = headers.and_then(|h| {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("host"))
            .and_then(|(_, v)| v.as_str())
    });
    let domain = payload
        .pointer("/requestContext/domainName")
        .and_then(Value::as_str);
    let host = header.or(domain)?;
    let valid = url::Url::parse(&format!("https://{host}/"))
        .is_ok_and(|u| u.host_str().is_some() && u.path() == "/" && u.query().is_none());
    (!valid).then(|| host.to_string())
}

/// A 400 in the response shape of the event's source (ALB wants a status description; API
/// Gateway refuses fields it does not know).
fn bad_request(payload: &Value, host: &str) -> Value {
    let body = json!({
        "error": "bad_host",
        "message": format!("the Host {host:?} is not a valid host name"),
    })
    .to_string();
    let mut resp = json!({
        "statusCode": 400,
        "headers": { "content-type": "application/json" },
        "body": body,
        "isBase64Encoded": false,
    });
    if payload.pointer("/requestContext/elb").is_some() {
        resp["statusDescription"] = json!("400 Bad Request");
    }
    resp
}
