//! `GET /info/{key}` (facts and a ThumbHash stored at upload) and versioned thumbnail URLs
//! (`?v=`: cached for a year, because the URL changes with the original).

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::Value;
use thumbnail_storage::{Key, PutOptions};

use common::*;

const IMMUTABLE: &str = "max-age=31536000, immutable";

async fn info(s: &Server, key: &str) -> Value {
    let resp = s.get(&format!("/info/{key}")).await;
    assert_eq!(resp.status(), StatusCode::OK, "{key}");
    assert_eq!(header(&resp, "content-type"), "application/json");
    resp.json().await.unwrap()
}

fn corpus(rel: &str) -> Vec<u8> {
    thumbnail_testkit::corpus_file(rel)
}

#[tokio::test(flavor = "multi_thread")]
async fn info_is_stored_with_the_thumbnails_on_every_store() {
    for kind in [Kind::Memory, Kind::Local, Kind::S3] {
        let s = Setup::new(kind).start().await;
        // Stored 1200x1800 with EXIF orientation 6: 1800x1200 as displayed.
        let rotated = corpus("conformance/orientation/Landscape_6.jpg");
        assert_eq!(
            s.put("/images/o/land 6.jpg", rotated.clone())
                .await
                .status(),
            201
        );
        let before = renders(&s).await;
        let i = info(&s, "o/land%206.jpg").await;
        assert_eq!(renders(&s).await, before, "{kind:?}: read, not made");
        assert_eq!(i["format"], "jpeg", "{kind:?}");
        assert_eq!(i["mime"], "image/jpeg");
        assert_eq!(
            (i["width"].as_u64(), i["height"].as_u64()),
            (Some(1800), Some(1200))
        );
        assert_eq!(i["has_alpha"], false);
        assert_eq!(i["icc"], Value::Null);
        assert_eq!(i["bytes"].as_u64(), Some(rotated.len() as u64));
        let version = i["version"].as_str().unwrap().to_string();
        assert_eq!(version.len(), 16);
        assert_eq!(
            i["thumbnail"],
            format!("/thumbnails/o/land%206.jpg?v={version}")
        );
        // The placeholder is of the upright image: landscape, and its colours.
        let hash = STANDARD.decode(i["thumbhash"].as_str().unwrap()).unwrap();
        assert!(hash.len() <= 30, "{} bytes", hash.len());
        let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&hash).unwrap();
        assert!((1.3..1.7).contains(&ratio), "{kind:?}: aspect {ratio}");
        // Unchanged: 304 on its ETag.
        let again = s
            .http
            .get(s.url("/info/o/land%206.jpg"))
            .header("if-none-match", format!("\"{version}\""))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

        assert_eq!(i["animated"], false);
        // An animation says so (its thumbnails are of the first frame).
        let gif = corpus("conformance/gif/animated-rotating-squares-30f.gif");
        assert_eq!(s.put("/images/spin.gif", gif).await.status(), 201);
        assert_eq!(info(&s, "spin.gif").await["animated"], true, "{kind:?}");

        // Alpha and an ICC profile are reported.
        assert_eq!(s.put("/images/alpha.png", png_alpha()).await.status(), 201);
        let i = info(&s, "alpha.png").await;
        assert_eq!(
            (i["format"].as_str(), i["has_alpha"].as_bool()),
            (Some("png"), Some(true))
        );
        let adobe = corpus("conformance/icc/adobergb1998-2000x1072.jpg");
        assert_eq!(s.put("/images/adobe.jpg", adobe).await.status(), 201);
        assert_eq!(info(&s, "adobe.jpg").await["icc"], "Adobe RGB (1998)");

        // An original stored behind the service's back is described on the first request,
        // once.
        let key = Key::new("direct.jpg").unwrap();
        s.originals
            .put(&key, photo().into(), &PutOptions::default())
            .await
            .unwrap();
        let before = renders(&s).await;
        let i = info(&s, "direct.jpg").await;
        assert_eq!(
            (i["width"].as_u64(), i["height"].as_u64()),
            (Some(1920), Some(1280))
        );
        let made = renders(&s).await;
        assert_eq!(made, before + 1, "{kind:?}: made from the original");
        assert_eq!(info(&s, "direct.jpg").await, i);
        assert_eq!(renders(&s).await, made, "{kind:?}: then read");
        // A changed original gets a new description and version.
        s.originals
            .put(
                &key,
                corpus("conformance/orientation/Landscape_6.jpg").into(),
                &PutOptions::default(),
            )
            .await
            .unwrap();
        let changed = info(&s, "direct.jpg").await;
        assert_eq!(changed["width"].as_u64(), Some(1800), "{kind:?}");
        assert_ne!(changed["version"], i["version"]);

        let missing = s.get("/info/nothing.jpg").await;
        json_error(missing, StatusCode::NOT_FOUND, "not_found").await;
        // Deleting the original deletes its info.
        assert_eq!(
            s.http
                .delete(s.url("/images/o/land%206.jpg"))
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
        let left = thumbnail_testkit::keys(s.thumbs.as_ref()).await;
        assert!(
            !left.iter().any(|k| k.contains("land 6")),
            "{kind:?}: {left:?}"
        );
        json_error(
            s.get("/info/o/land%206.jpg").await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

async fn cache_control(s: &Server, path: &str, bearer: Option<&str>) -> (String, Vec<u8>) {
    let mut req = s.http.get(s.url(path));
    if let Some(key) = bearer {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    assert!(
        header(&resp, "etag").starts_with('"'),
        "{path}: a strong ETag"
    );
    let cc = header(&resp, "cache-control").to_string();
    (cc, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn versioned_urls_are_cached_for_a_year_while_they_name_the_original() {
    for kind in [Kind::Memory, Kind::Local, Kind::S3] {
        let s = Setup::new(kind).start().await;
        assert_eq!(s.put("/images/a.jpg", photo()).await.status(), 201);
        let v1 = info(&s, "a.jpg").await["version"]
            .as_str()
            .unwrap()
            .to_string();
        let year = format!("public, {IMMUTABLE}");
        for path in [
            format!("/thumbnails/a.jpg?v={v1}"),
            format!("/thumbnails/a.jpg?size=64x64&v={v1}"),
        ] {
            assert_eq!(
                cache_control(&s, &path, None).await.0,
                year,
                "{kind:?} {path}"
            );
        }
        // Without a version, or with one that is not the original's: the usual lifetime.
        for path in ["/thumbnails/a.jpg", "/thumbnails/a.jpg?v=0123456789abcdef"] {
            assert_eq!(
                cache_control(&s, path, None).await.0,
                "public, max-age=86400",
                "{kind:?} {path}"
            );
        }

        // A new original: a new version; the old URL is no longer immutable.
        let rotated = corpus("conformance/orientation/Landscape_6.jpg");
        assert_eq!(s.put("/images/a.jpg", rotated).await.status(), 201);
        let v2 = info(&s, "a.jpg").await["version"]
            .as_str()
            .unwrap()
            .to_string();
        assert_ne!(v1, v2);
        let (cc, old) =
            cache_control(&s, &format!("/thumbnails/a.jpg?size=64x64&v={v1}"), None).await;
        assert_eq!(cc, "public, max-age=86400", "{kind:?}");
        let (cc, new) =
            cache_control(&s, &format!("/thumbnails/a.jpg?size=64x64&v={v2}"), None).await;
        assert_eq!(cc, year, "{kind:?}");
        assert_eq!(old, new, "{kind:?}: both are of the new original");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pinned_thumbnail_made_from_an_older_original_is_made_again() {
    // Stores that record the source's ETag (S3, memory): an original replaced behind the
    // service's back leaves thumbnails of the old one, which a versioned URL must not serve.
    for kind in [Kind::Memory, Kind::S3] {
        let s = Setup::new(kind).start().await;
        assert_eq!(s.put("/images/b.jpg", photo()).await.status(), 201);
        let (_, old) = cache_control(&s, "/thumbnails/b.jpg?size=90x60", None).await;
        let key = Key::new("b.jpg").unwrap();
        let flipped = corpus("conformance/orientation/Landscape_3.jpg");
        s.originals
            .put(&key, flipped.into(), &PutOptions::default())
            .await
            .unwrap();
        let v = info(&s, "b.jpg").await["version"]
            .as_str()
            .unwrap()
            .to_string();
        let before = renders(&s).await;
        let (cc, new) =
            cache_control(&s, &format!("/thumbnails/b.jpg?size=90x60&v={v}"), None).await;
        assert_eq!(renders(&s).await, before + 1, "{kind:?}: made again");
        assert_eq!(cc, format!("public, {IMMUTABLE}"));
        assert_ne!(old, new, "{kind:?}");
        let (_, preset) = cache_control(&s, &format!("/thumbnails/b.jpg?v={v}"), None).await;
        assert_eq!(renders(&s).await, before + 2, "{kind:?}: the preset too");
        let (_, again) = cache_control(&s, "/thumbnails/b.jpg", None).await;
        assert_eq!(preset, again);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn credentialed_answers_are_private() {
    let key = "an-api-key-long-enough";
    for public_reads in [true, false] {
        let mut setup = Setup::new(Kind::Memory);
        setup.auth.api_keys = vec![key.into()];
        setup.auth.public_reads = public_reads;
        let s = setup.start().await;
        let put = s
            .http
            .put(s.url("/images/c.jpg"))
            .bearer_auth(key)
            .body(photo())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201);
        let resp = s
            .http
            .get(s.url("/info/c.jpg"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let v = resp.json::<Value>().await.unwrap()["version"]
            .as_str()
            .unwrap()
            .to_string();
        let pinned = format!("/thumbnails/c.jpg?v={v}");
        let (cc, _) = cache_control(&s, &pinned, Some(key)).await;
        assert_eq!(
            cc,
            format!("private, {IMMUTABLE}"),
            "public reads {public_reads}"
        );
        let (cc, _) = cache_control(&s, "/thumbnails/c.jpg?size=70x70", Some(key)).await;
        assert_eq!(cc, "private, max-age=86400", "public reads {public_reads}");
        if public_reads {
            let (cc, _) = cache_control(&s, &pinned, None).await;
            assert_eq!(cc, format!("public, {IMMUTABLE}"));
        } else {
            assert_eq!(s.get(&pinned).await.status(), StatusCode::UNAUTHORIZED);
        }
    }
}

/// Issue 31, item 6: a `?v=` that is not the original's version costs no render, however
/// many distinct values a client sends (each is a new CDN cache key, so each reaches the
/// origin): it is answered from the thumbnail already made, as without `v`.
#[tokio::test(flavor = "multi_thread")]
async fn a_version_that_is_not_the_originals_renders_nothing() {
    let s = Setup::new(Kind::Memory).start().await;
    assert_eq!(s.put("/images/a.jpg", photo()).await.status(), 201);
    let first = s
        .get("/thumbnails/a.jpg?size=64x64")
        .await
        .bytes()
        .await
        .unwrap();
    let before = renders(&s).await;
    for i in 0..40 {
        for path in [
            format!("/thumbnails/a.jpg?v=junk{i:04}"),
            format!("/thumbnails/a.jpg?size=64x64&v={i:016x}"),
        ] {
            let resp = s.get(&path).await;
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            assert_eq!(
                header(&resp, "cache-control"),
                "public, max-age=86400",
                "{path}"
            );
            if path.contains("size") {
                assert_eq!(resp.bytes().await.unwrap(), first, "{path}");
            }
        }
    }
    assert_eq!(
        renders(&s).await,
        before,
        "80 distinct versions made nothing"
    );
}
