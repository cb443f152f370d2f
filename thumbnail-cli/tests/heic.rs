//! HEIC, AVIF and JPEG XL through the binary as users run it: a single file, a folder walk, and
//! `serve` taking an iPhone photo (and an AVIF) by `curl -T` and answering with its thumbnail;
//! an AVIF with wrecked coded data is one line on stderr, or a 422, and the server lives on.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Serve, run, stderr};
use thumbnail_core::InputFormat;

fn dims(bytes: &[u8]) -> (u32, u32, InputFormat) {
    let i = thumbnail_core::probe(bytes).expect("a decodable image");
    (i.width, i.height, i.format)
}

#[test]
fn phone_photos_become_thumbnails_from_a_file_a_folder_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let iphone = thumbnail_testkit::corpus_path("conformance/other/iphone.heic");
    let out = run(&[iphone.to_str().unwrap(), "-o", "t.jpg"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let t = std::fs::read(dir.path().join("t.jpg")).unwrap();
    assert_eq!(dims(&t), (100, 100, InputFormat::Jpeg));

    // A folder walk picks up .heic files by name.
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::copy(&iphone, photos.join("IMG_0001.HEIC")).unwrap();
    let out = run(
        &["photos", "--out-dir", "thumbs", "--progress", "none"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let t = std::fs::read(dir.path().join("thumbs/IMG_0001.jpg")).unwrap();
    assert_eq!(dims(&t), (100, 100, InputFormat::Jpeg));

    let mut server = Serve::start(&["--listen", "127.0.0.1:0"], dir.path());
    let status = Command::new("curl")
        .args(["-fsS", "-T"])
        .arg(&iphone)
        .arg(server.url("/images/phone/IMG_0001.heic"))
        .args(["-o", "served.jpg"])
        .current_dir(dir.path())
        .status()
        .expect("curl is installed");
    assert!(status.success());
    let served = std::fs::read(dir.path().join("served.jpg")).unwrap();
    assert_eq!(dims(&served), (100, 100, InputFormat::Jpeg));
    let data = dir.path().join("thumbnail-data");
    assert_eq!(
        std::fs::read(data.join("originals/phone/IMG_0001.heic")).unwrap(),
        std::fs::read(&iphone).unwrap()
    );
    let info = Command::new("curl")
        .args(["-fsS"])
        .arg(server.url("/info/phone/IMG_0001.heic"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(v["format"], "heic");
    assert_eq!(v["mime"], "image/heic");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(2566), Some(3313))
    );
    // AVIF the same way: a file, and an upload.
    let avif = thumbnail_testkit::corpus_path("conformance/other/pitm-4096x800.avif");
    let out = run(&[avif.to_str().unwrap(), "-o", "a.jpg"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let t = std::fs::read(dir.path().join("a.jpg")).unwrap();
    assert_eq!(dims(&t), (100, 100, InputFormat::Jpeg));
    let status = Command::new("curl")
        .args(["-fsS", "-T"])
        .arg(&avif)
        .arg(server.url("/images/pitm.avif"))
        .args(["-o", "served-avif.jpg"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let served = std::fs::read(dir.path().join("served-avif.jpg")).unwrap();
    assert_eq!(dims(&served), (100, 100, InputFormat::Jpeg));

    // Wrecked AV1 data aborted the whole process in rav1d 1.1.0 (vendor/rav1d/PATCHES.md).
    let mut bad = std::fs::read(&avif).unwrap();
    let from = bad.len() / 3;
    bad[from..].iter_mut().step_by(3).for_each(|b| *b = 0xFF);
    std::fs::write(dir.path().join("bad.avif"), &bad).unwrap();
    let out = run(&["bad.avif", "-o", "bad.jpg"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("AVIF"), "{}", stderr(&out));
    assert!(!dir.path().join("bad.jpg").exists());
    let answer = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}", "-T", "bad.avif"])
        .arg(server.url("/images/bad.avif"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer.stdout).into_owned();
    let (body, code) = answer.rsplit_once('\n').unwrap();
    assert_eq!(code, "422", "{answer}");
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert!(v["message"].as_str().unwrap().contains("AVIF"), "{v}");
    assert!(
        !data.join("originals/bad.avif").exists(),
        "a refused upload is not kept"
    );
    // JPEG XL: a file, an upload, and its info.
    let jxl = thumbnail_testkit::jxl_fixture("lossy.jxl");
    let out = run(&[jxl.to_str().unwrap(), "-o", "x.jpg"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        dims(&std::fs::read(dir.path().join("x.jpg")).unwrap()),
        (100, 100, InputFormat::Jpeg)
    );
    let status = Command::new("curl")
        .args(["-fsS", "-T"])
        .arg(&jxl)
        .arg(server.url("/images/photo.jxl"))
        .args(["-o", "served-jxl.jpg"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let served = std::fs::read(dir.path().join("served-jxl.jpg")).unwrap();
    assert_eq!(dims(&served), (100, 100, InputFormat::Jpeg));
    let info = Command::new("curl")
        .args(["-fsS"])
        .arg(server.url("/info/photo.jxl"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(
        (v["format"].as_str(), v["mime"].as_str()),
        (Some("jxl"), Some("image/jxl"))
    );
    // Still serving.
    let again = Command::new("curl")
        .args(["-fsS", "-T"])
        .arg(&avif)
        .arg(server.url("/images/pitm2.avif"))
        .args(["-o", "again.jpg"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(again.success());
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(10)).success());
}
