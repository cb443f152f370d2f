//! Credentials: API keys, HMAC-signed URLs, and presigned uploads straight to S3.

mod common;

use axum::http::Method;
use bytes::Bytes;
use reqwest::StatusCode;
use serde_json::Value;
use thumbnail_core::InputFormat;
use thumbnail_http::sign;
use thumbnail_storage::{Key, PutOptions};

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_guard_writes_and_private_reads() {
    let mut setup = Setup::new(Kind::Memory);
    setup.auth.api_keys = vec!["k-one".into(), "k-two".into()];
    let s = setup.start().await;
    let put = |auth: Option<&str>| {
        let mut r = s.http.put(s.url("/images/p.jpg")).body(photo());
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    let resp = put(None).await.unwrap();
    assert!(header(&resp, "www-authenticate").starts_with("Bearer"));
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = put(Some("Bearer k-three")).await.unwrap();
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = put(Some("Bearer k-on")).await.unwrap();
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(s.originals.list("").await.unwrap().is_empty());
    assert_eq!(
        put(Some("Bearer k-two")).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        put(Some("bearer k-one")).await.unwrap().status(),
        StatusCode::CREATED
    );

    // Reads are private unless the server says otherwise.
    let resp = s.get("/thumbnails/p.jpg").await;
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = s.post("/thumbnail", photo()).await;
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let resp = s
        .http
        .get(s.url("/thumbnails/p.jpg"))
        .bearer_auth("k-one")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Health needs no key (load balancers call it).
    let resp = s.get("/healthz").await;
    assert_eq!(resp.status(), StatusCode::OK);

    let mut public = Setup::new(Kind::Memory);
    public.auth.api_keys = vec!["k".into()];
    public.auth.public_reads = true;
    let s = public.start().await;
    let resp = s
        .http
        .put(s.url("/images/p.jpg"))
        .bearer_auth("k")
        .body(photo())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = s.get("/thumbnails/p.jpg").await;
    assert_eq!(resp.status(), StatusCode::OK, "public reads");
    let resp = s.put("/images/q.jpg", photo()).await;
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_urls_expire_and_resist_tampering() {
    let key = b"signing secret";
    let mut setup = Setup::new(Kind::Memory);
    setup.auth.signing_key = Some(key.to_vec());
    let s = setup.start().await;
    let later = unix_now() + 600;

    let put = sign(key, &Method::PUT, "/images/s.jpg", "size=50x50", later);
    let resp = s.put(&put, photo()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (50, 50, InputFormat::Jpeg)
    );

    let get = sign(key, &Method::GET, "/thumbnails/s.jpg", "", later);
    let resp = s.get(&get).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let tampered = [
        put.replace("size=50x50", "size=900x900"),
        put.replace("/images/s.jpg", "/images/t.jpg"),
        put.replace(
            &format!("expires={later}"),
            &format!("expires={}", later + 1),
        ),
        // The last hex digit changed (to one it is not, or 1 time in 16 nothing changes).
        format!(
            "{}{}",
            &put[..put.len() - 1],
            if put.ends_with('0') { '1' } else { '0' }
        ),
        put.replace("&signature=", "&signature=zz"),
    ];
    for url in tampered {
        let resp = s.put(&url, photo()).await;
        json_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // A GET signature does not allow a PUT.
    let as_put = sign(key, &Method::GET, "/images/s.jpg", "", later);
    let resp = s.put(&as_put, photo()).await;
    json_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    // Expired.
    let old = sign(key, &Method::GET, "/thumbnails/s.jpg", "", unix_now() - 1);
    let resp = s.get(&old).await;
    let v = json_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(v["message"].as_str().unwrap().contains("expired"));
    // Signed with another key.
    let other = sign(b"another", &Method::GET, "/thumbnails/s.jpg", "", later);
    let resp = s.get(&other).await;
    json_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    // No credentials at all.
    let resp = s.get("/thumbnails/s.jpg").await;
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_uploads_go_straight_to_s3() {
    let s = Setup::new(Kind::S3).start().await;
    let resp = s
        .http
        .post(s.url("/uploads/big/huge.jpg?content_type=image/jpeg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    // A POST policy: the store itself holds the upload to the engine's input limit and the
    // one image type asked for (tested against a server that enforces policies in
    // thumbnail-storage's behaviour suite).
    assert_eq!(v["method"], "POST");
    assert_eq!(v["key"], "big/huge.jpg");
    assert_eq!(v["expires_in"], 900);
    assert_eq!(v["content_type"], "image/jpeg");
    assert_eq!(
        v["max_bytes"],
        thumbnail_core::Limits::default().max_input_bytes
    );
    let fields: Vec<(String, String)> = v["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, val)| (k.clone(), val.as_str().unwrap().to_string()))
        .collect();
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "Content-Type" && v == "image/jpeg")
    );
    let (form_type, form) = thumbnail_testkit::form(&fields, &photo());
    let resp = s
        .http
        .post(v["url"].as_str().unwrap())
        .header("content-type", form_type)
        .body(form)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{:?}", resp.text().await);
    let got = s
        .originals
        .get(&Key::new("big/huge.jpg").unwrap(), 1 << 30)
        .await
        .unwrap();
    assert_eq!(got.bytes, Bytes::from(photo()));
    // Its thumbnail is then made on first request.
    let resp = s.get("/thumbnails/big/huge.jpg").await;
    assert_eq!(
        dims(&resp.bytes().await.unwrap()),
        (100, 100, InputFormat::Jpeg)
    );

    // Only the types of images the engine reads can be signed for: not a page, a script or
    // SVG (which a browser runs).
    for asked in [
        "text/html",
        "image/svg%2Bxml",
        "application/javascript",
        "image/jpeg%0d%0aX:1",
    ] {
        let resp = s
            .http
            .post(s.url(&format!("/uploads/big/huge.jpg?content_type={asked}")))
            .send()
            .await
            .unwrap();
        json_error(resp, StatusCode::BAD_REQUEST, "invalid_content_type").await;
    }
    // Without a type, the form must declare one that starts image/.
    let resp = s
        .http
        .post(s.url("/uploads/any.heic"))
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["content_type"], "image/*", "{v}");
    assert!(v["fields"].get("Content-Type").is_none(), "{v}");

    // Stores without presigning say so.
    let m = Setup::new(Kind::Memory).start().await;
    let resp = m.http.post(m.url("/uploads/x.jpg")).send().await.unwrap();
    json_error(resp, StatusCode::NOT_IMPLEMENTED, "not_supported").await;
}

/// Issue 31, item 4: with public reads, anonymous clients get thumbnails and info but not
/// the originals (byte for byte, EXIF and GPS included) unless originals are public too.
#[tokio::test(flavor = "multi_thread")]
async fn public_reads_hand_out_thumbnails_not_originals() {
    for public_originals in [false, true] {
        let mut setup = Setup::new(Kind::Memory);
        setup.auth.api_keys = vec!["k".into()];
        setup.auth.public_reads = true;
        setup.auth.public_originals = public_originals;
        let s = setup.start().await;
        let put = s.http.put(s.url("/images/gps.jpg")).bearer_auth("k");
        assert_eq!(put.body(photo()).send().await.unwrap().status(), 201);
        assert_eq!(s.get("/thumbnails/gps.jpg").await.status(), StatusCode::OK);
        assert_eq!(s.get("/info/gps.jpg").await.status(), StatusCode::OK);
        let resp = s.get("/images/gps.jpg").await;
        if public_originals {
            assert_eq!(resp.status(), StatusCode::OK);
            assert_eq!(resp.bytes().await.unwrap(), Bytes::from(photo()));
        } else {
            json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
        }
        let resp = s.http.get(s.url("/images/gps.jpg")).bearer_auth("k");
        assert_eq!(
            resp.send().await.unwrap().status(),
            StatusCode::OK,
            "with a key"
        );
    }
}

/// Issue 31, item 10: `/metrics` can require a token of its own.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_can_require_a_token() {
    let mut setup = Setup::new(Kind::Memory);
    setup.auth.metrics_token = Some("scrape-token-0123456789".into());
    let s = setup.start().await;
    json_error(
        s.get("/metrics").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let wrong = s
        .http
        .get(s.url("/metrics"))
        .bearer_auth("scrape-token-012345678");
    let resp = wrong.send().await.unwrap();
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let right = s
        .http
        .get(s.url("/metrics"))
        .bearer_auth("scrape-token-0123456789");
    let resp = right.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("thumbnail_"));
    // Without a token, metrics stay open for a scraper.
    let open = Setup::new(Kind::Memory).start().await;
    assert_eq!(open.get("/metrics").await.status(), StatusCode::OK);
}

/// Issue 31, item 10: an option named twice is refused, so a signature made for one order
/// is not valid for another; `%77idth` is `width`.
#[tokio::test(flavor = "multi_thread")]
async fn an_option_named_twice_is_refused() {
    let key = b"signing secret";
    let mut setup = Setup::new(Kind::Memory);
    setup.auth.signing_key = Some(key.to_vec());
    let s = setup.start().await;
    let later = unix_now() + 600;
    let put = sign(key, &Method::PUT, "/images/d.jpg", "", later);
    assert_eq!(s.put(&put, photo()).await.status(), 201);
    for query in [
        "width=32&width=48",
        "width=32&%77idth=48",
        "width=32&expires=1&expires=2",
    ] {
        let signed = sign(key, &Method::GET, "/thumbnails/d.jpg", query, later);
        let resp = s.get(&signed).await;
        json_error(resp, StatusCode::BAD_REQUEST, "duplicate_option").await;
    }
    let signed = sign(key, &Method::GET, "/thumbnails/d.jpg", "width=32", later);
    assert_eq!(s.get(&signed).await.status(), StatusCode::OK);
}

/// Issue 31, item 5: an original is answered as the image type its bytes prove, never as the
/// type it was stored with. Anything else (a page a presigned upload declared `image/png`)
/// is a download, whole, ranged or redirected to the store.
#[tokio::test(flavor = "multi_thread")]
async fn originals_are_answered_as_what_their_bytes_are() {
    let mut setup = Setup::new(Kind::S3);
    // The photo passes through; a larger object is a redirect to the store.
    setup.config.redirect_originals_over = Some(photo().len() as u64);
    let s = setup.start().await;
    let page = b"<html><body><script>document.title='owned'</script></body></html>".repeat(4);
    let big = page.repeat(photo().len() / page.len() + 1);
    let stored = [
        ("page.png", page.clone(), "image/png"),
        ("photo.jpg", photo(), "text/html"),
        ("big.png", big, "image/png"),
    ];
    for (key, bytes, declared) in &stored {
        let options = PutOptions {
            content_type: Some(declared.to_string()),
            ..PutOptions::default()
        };
        s.originals
            .put(
                &Key::new(*key).unwrap(),
                Bytes::from(bytes.clone()),
                &options,
            )
            .await
            .unwrap();
    }
    let download = |resp: &reqwest::Response| {
        assert_eq!(header(resp, "content-type"), "application/octet-stream");
        assert_eq!(header(resp, "content-disposition"), "attachment");
        assert_eq!(header(resp, "x-content-type-options"), "nosniff");
    };
    let resp = s.get("/images/page.png").await;
    assert_eq!(resp.status(), StatusCode::OK);
    download(&resp);
    assert_eq!(resp.bytes().await.unwrap(), Bytes::from(page.clone()));
    // A range from the middle is typed by the object's first bytes all the same.
    let resp = s
        .http
        .get(s.url("/images/page.png"))
        .header("range", "bytes=10-40")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    download(&resp);
    // A real JPEG stored as text/html is a JPEG.
    let resp = s.get("/images/photo.jpg").await;
    assert_eq!(header(&resp, "content-type"), "image/jpeg");
    assert!(resp.headers().get("content-disposition").is_none());
    // Too large to pass through: the store's URL answers it as a download too.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects
        .get(s.url("/images/big.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = header(&resp, "location").to_string();
    assert!(
        location.contains("response-content-disposition=attachment")
            && location.contains("response-content-type=application%2Foctet-stream"),
        "{location}"
    );
    // The overrides are signed into the URL: S3 answers with them (moto and s3s-fs ignore
    // them, so what S3 sends is AWS's part), and a URL without them no longer verifies.
    assert!(location.contains("X-Amz-Signature="), "{location}");
}

/// Issue 31, item 6: behind a CDN the origin answers only what came through it (the secret
/// CloudFront adds as an origin header); a client going around the CDN gets a JSON 403 and
/// changes nothing, whatever credentials it has. Probes and metrics stay reachable.
#[tokio::test(flavor = "multi_thread")]
async fn behind_a_cdn_the_origin_answers_only_the_cdn() {
    const SECRET: &str = "cloudfront-origin-secret-0123456789";
    let mut setup = Setup::new(Kind::Memory);
    setup.auth.api_keys = vec!["an-api-key-0123456789".into()];
    setup.auth.origin_secret = Some(SECRET.into());
    let s = setup.start().await;
    let put = |secret: Option<&'static str>| {
        let mut req = s
            .http
            .put(s.url("/images/a.jpg"))
            .bearer_auth("an-api-key-0123456789")
            .body(photo());
        if let Some(v) = secret {
            req = req.header(thumbnail_http::ORIGIN_HEADER, v);
        }
        req.send()
    };
    for secret in [None, Some("cloudfront-origin-secret-012345678"), Some("")] {
        let resp = put(secret).await.unwrap();
        json_error(resp, StatusCode::FORBIDDEN, "not_through_cdn").await;
    }
    assert!(
        s.originals.list("").await.unwrap().is_empty(),
        "a refused PUT stored something"
    );
    let resp = s.http.get(s.url("/thumbnails/a.jpg")).send().await.unwrap();
    json_error(resp, StatusCode::FORBIDDEN, "not_through_cdn").await;
    assert_eq!(
        put(Some(SECRET)).await.unwrap().status(),
        StatusCode::CREATED
    );
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(s.get(path).await.status(), StatusCode::OK, "{path}");
    }
}
