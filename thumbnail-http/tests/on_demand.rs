//! Thumbnails on demand: any size by URL, made from the stored original on the first request,
//! a store read after that, once however many ask at the same time; who may ask for what.

mod common;

use axum::http::Method;
use reqwest::StatusCode;
use thumbnail_core::InputFormat;
use thumbnail_http::sign;

use common::*;

async fn sizes_stored(s: &Server) -> Vec<String> {
    thumbnail_testkit::keys(s.thumbs.as_ref())
        .await
        .into_iter()
        .filter(|k| k.starts_with("_sizes/"))
        .collect()
}

async fn image(s: &Server, path: &str) -> (u32, u32, InputFormat) {
    let resp = s.get(path).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    dims(&resp.bytes().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_option_on_get_on_every_store() {
    for kind in [Kind::Memory, Kind::Local, Kind::S3] {
        let s = Setup::new(kind).start().await;
        // 1920x1280: 3:2.
        assert_eq!(s.put("/images/p/a.jpg", photo()).await.status(), 201);
        let cases: [(&str, (u32, u32, InputFormat)); 9] = [
            ("size=64x48", (64, 48, InputFormat::Jpeg)),
            ("width=320", (320, 213, InputFormat::Jpeg)),
            ("height=100", (150, 100, InputFormat::Jpeg)),
            ("size=x60&format=png", (90, 60, InputFormat::Png)),
            ("size=160x90&dpr=2", (320, 180, InputFormat::Jpeg)),
            (
                "width=100&dpr=1.5&format=webp",
                (150, 100, InputFormat::WebP),
            ),
            (
                "size=64x64&fit=contain&gravity=north&background=%23ff000080&format=png",
                (64, 64, InputFormat::Png),
            ),
            (
                "size=80x80&fit=inside&quality=40&progressive=1",
                (80, 53, InputFormat::Jpeg),
            ),
            (
                "size=50x70&fit=fill&chroma=444",
                (50, 70, InputFormat::Jpeg),
            ),
        ];
        for (query, want) in cases {
            let path = format!("/thumbnails/p/a.jpg?{query}");
            let before = renders(&s).await;
            assert_eq!(image(&s, &path).await, want, "{kind:?} {query}");
            assert_eq!(renders(&s).await, before + 1, "{kind:?} {query}: made once");
            // The second request is a store read: nothing is made again.
            assert_eq!(image(&s, &path).await, want, "{kind:?} {query}");
            assert_eq!(renders(&s).await, before + 1, "{kind:?} {query}: then read");
        }
        let stored = sizes_stored(&s).await;
        assert_eq!(stored.len(), cases.len(), "{kind:?}: {stored:?}");
        assert!(stored.iter().all(|k| k.starts_with("_sizes/p%2Fa.jpg/")));
        // The same pixels asked for two ways are one thumbnail.
        let before = renders(&s).await;
        assert_eq!(
            image(&s, "/thumbnails/p/a.jpg?size=320x180").await,
            (320, 180, InputFormat::Jpeg)
        );
        assert_eq!(renders(&s).await, before, "{kind:?}: dpr=2 made it already");

        for bad in [
            "dpr=5",
            "dpr=0.5",
            "zoom=2",
            "width=0",
            "size=x",
            "width=5000",
        ] {
            let resp = s.get(&format!("/thumbnails/p/a.jpg?{bad}")).await;
            json_error(resp, StatusCode::BAD_REQUEST, "invalid_spec").await;
        }
        let resp = s.get("/thumbnails/p/missing.jpg?size=70x70").await;
        json_error(resp, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(sizes_stored(&s).await.len(), cases.len(), "{kind:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_first_requests_make_it_once() {
    let s = Arc::new(Setup::new(Kind::Memory).start().await);
    assert_eq!(s.put("/images/c.jpg", photo()).await.status(), 201);
    let before = renders(&s).await;
    let gets = (0..12).map(|_| {
        let s = s.clone();
        tokio::spawn(async move {
            let resp = s.get("/thumbnails/c.jpg?size=300x200&format=webp").await;
            assert_eq!(resp.status(), StatusCode::OK);
            resp.bytes().await.unwrap()
        })
    });
    let bodies: Vec<_> = futures::future::join_all(gets)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(bodies.iter().all(|b| b == &bodies[0]), "one thumbnail");
    assert_eq!(renders(&s).await, before + 1, "twelve requests, one render");
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_clients_get_presets_and_allowed_sizes_only() {
    let key = b"a signing key of enough bytes";
    let mut setup = Setup::new(Kind::Memory);
    setup.presets = "default=100x100 small=40x40,fit=inside";
    setup.auth.api_keys = vec!["an-api-key-long-enough".into()];
    setup.auth.signing_key = Some(key.to_vec());
    setup.auth.public_reads = true;
    setup.config.allow_sizes = vec![(320, 0), (64, 64)];
    let s = setup.start().await;
    let put = s
        .http
        .put(s.url("/images/a.jpg"))
        .bearer_auth("an-api-key-long-enough")
        .body(photo())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);

    for allowed in [
        "",
        "?preset=small",
        "?size=100x100&format=webp",
        "?preset=small&format=png",
        "?width=320",
        "?size=160x&dpr=2&format=webp",
        "?size=64",
    ] {
        let resp = s.get(&format!("/thumbnails/a.jpg{allowed}")).await;
        assert_eq!(resp.status(), StatusCode::OK, "anonymous {allowed:?}");
    }
    let before = sizes_stored(&s).await;
    for refused in [
        "?size=200x200",
        "?width=320&quality=50",
        "?size=64&fit=fill",
        "?width=321",
        "?size=64&background=black",
    ] {
        let resp = s.get(&format!("/thumbnails/a.jpg{refused}")).await;
        json_error(resp, StatusCode::FORBIDDEN, "size_not_allowed").await;
    }
    assert_eq!(sizes_stored(&s).await, before, "refused: nothing stored");

    // A signed URL or a key may ask for anything within the limits.
    let later = unix_now() + 600;
    let signed = sign(
        key,
        &Method::GET,
        "/thumbnails/a.jpg",
        "size=200x200",
        later,
    );
    assert_eq!(image(&s, &signed).await, (200, 200, InputFormat::Jpeg));
    let resp = s
        .http
        .get(s.url("/thumbnails/a.jpg?width=321"))
        .bearer_auth("an-api-key-long-enough")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Credentials that are given are checked, even where none are needed.
    let resp = s
        .http
        .get(s.url("/thumbnails/a.jpg"))
        .bearer_auth("not-the-key-at-all")
        .send()
        .await
        .unwrap();
    json_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let forged = signed.replace("size=200x200", "size=900x900");
    let resp = s.get(&forged).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn sizes_per_original_and_their_dimensions_are_bounded() {
    let mut setup = Setup::new(Kind::Memory);
    setup.config.max_derivatives = 2;
    setup.config.max_dimension = 1000;
    let s = setup.start().await;
    assert_eq!(s.put("/images/b.jpg", photo()).await.status(), 201);
    assert_eq!(s.put("/images/c.jpg", photo()).await.status(), 201);
    image(&s, "/thumbnails/b.jpg?size=10x10").await;
    image(&s, "/thumbnails/b.jpg?size=20x20").await;
    let resp = s.get("/thumbnails/b.jpg?size=30x30").await;
    json_error(resp, StatusCode::FORBIDDEN, "too_many_sizes").await;
    // What exists is still served; another original has its own allowance.
    image(&s, "/thumbnails/b.jpg?size=20x20").await;
    image(&s, "/thumbnails/c.jpg?size=30x30").await;
    assert_eq!(sizes_stored(&s).await.len(), 3);

    // An auto side is held to the same largest dimension once the image gives it: 900 high
    // is 1350 wide for this photo.
    let resp = s.get("/thumbnails/c.jpg?height=900").await;
    let v = json_error(resp, StatusCode::BAD_REQUEST, "invalid_spec").await;
    assert!(v["message"].as_str().unwrap().contains("1350x900"), "{v}");
    let resp = s.post("/thumbnail?height=900", photo()).await;
    json_error(resp, StatusCode::BAD_REQUEST, "invalid_spec").await;
    let resp = s.put("/images/d.jpg?height=900", photo()).await;
    json_error(resp, StatusCode::BAD_REQUEST, "invalid_spec").await;
    let resp = s.get("/images/d.jpg").await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "a refused PUT stores nothing"
    );
    assert_eq!(
        image(&s, "/thumbnails/c.jpg?height=600").await,
        (900, 600, InputFormat::Jpeg)
    );
}

/// What an answer holds: the content type and, for AVIF (which the engine does not read),
/// the brand of its `ftyp` box; other formats are probed.
fn format_of(content_type: &str, bytes: &[u8]) -> String {
    if content_type == "image/avif" {
        assert_eq!(&bytes[4..12], b"ftypavif", "an AVIF file");
        return "avif".into();
    }
    let (_, _, format) = dims(bytes);
    let name = format!("{format:?}").to_lowercase();
    assert_eq!(content_type, format!("image/{name}"));
    name
}

#[tokio::test(flavor = "multi_thread")]
async fn format_auto_follows_accept() {
    const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    const FIREFOX: &str = "image/avif,image/webp,*/*";
    const SAFARI: &str = "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5";
    const OLD_SAFARI: &str =
        "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
    let mut setup = Setup::new(Kind::Memory);
    setup.presets = "default=100x100,format=auto";
    let s = setup.start().await;
    assert_eq!(s.put("/images/a.jpg", photo()).await.status(), 201);
    assert_eq!(s.put("/images/t.png", png_alpha()).await.status(), 201);
    let get = |path: String, accept: Option<&'static str>| {
        let mut r = s.http.get(s.url(&path));
        if let Some(a) = accept {
            r = r.header("accept", a);
        }
        r.send()
    };
    let cases = [
        (Some(CHROME), "avif", "avif"),
        (Some(FIREFOX), "avif", "avif"),
        (Some(SAFARI), "avif", "avif"),
        (Some(OLD_SAFARI), "webp", "webp"),
        (Some("*/*"), "jpeg", "png"),
        (None, "jpeg", "png"),
    ];
    for (accept, photo_format, alpha_format) in cases {
        for (path, want) in [
            ("/thumbnails/a.jpg", photo_format),
            ("/thumbnails/t.png", alpha_format),
            ("/thumbnails/a.jpg?width=160&format=auto", photo_format),
            ("/thumbnails/t.png?size=60x40&format=auto", alpha_format),
        ] {
            let resp = get(path.to_string(), accept).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{path} {accept:?}");
            let vary: Vec<_> = resp.headers().get_all("vary").iter().collect();
            assert!(
                vary.iter().any(|v| v.to_str().unwrap().contains("accept")),
                "{path}: {vary:?}"
            );
            let ct = header(&resp, "content-type").to_string();
            let bytes = resp.bytes().await.unwrap();
            assert_eq!(format_of(&ct, &bytes), want, "{path} {accept:?}");
        }
    }
    // A named format does not depend on Accept.
    let resp = get("/thumbnails/a.jpg?format=webp".into(), Some(CHROME))
        .await
        .unwrap();
    assert!(resp.headers().get("vary").is_none());
    assert_eq!(header(&resp, "content-type"), "image/webp");
    // Each class is stored once: asking again reads it.
    let before = renders(&s).await;
    for (accept, _, _) in cases {
        let resp = get("/thumbnails/a.jpg?width=160&format=auto".into(), accept)
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    assert_eq!(renders(&s).await, before);
    // The stateless route negotiates the same way.
    let resp = s
        .http
        .post(s.url("/thumbnail?format=auto"))
        .header("accept", OLD_SAFARI)
        .body(photo())
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "content-type"), "image/webp");
    assert!(header(&resp, "vary").contains("accept"));
}
