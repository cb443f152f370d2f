//! HEIC and AVIF input: real phone, heif-enc and avifenc files become thumbnails that match
//! libheif's (heif-convert) or libavif's (avifdec) decode of the same file, through grids,
//! alpha, 10-bit samples and every irot/imir/clap transform; colour the reference cannot show (Display P3 or PQ by nclx
//! alone) is checked against formulas computed outside Rust; hostile containers are refused
//! by name, cheaply, and a 100 MP grid decodes in bounded memory.

mod common;

use std::path::Path;

use common::Pixels;
use thumbnail_core::{
    ErrorKind, InputFormat, Limits, Orientation, OutputFormat, ThumbnailSpec, probe, thumbnail,
};
use thumbnail_testkit::{alone, heif_fixture, peak_during};

#[global_allocator]
static ALLOCATOR: thumbnail_testkit::Counting = thumbnail_testkit::Counting;

/// Mean absolute difference (0-255) between our thumbnail and the reference's: the same
/// pixels through the same resize, so only decoder rounding differs.
const SAME: f64 = 1.0;

fn render(path: &Path, limits: &Limits) -> Pixels {
    let spec = ThumbnailSpec::default().with_format(OutputFormat::Png);
    let t = thumbnail(&common::read(path), &spec, limits)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!((t.width, t.height), (100, 100));
    common::decode(&t.bytes)
}

/// Single pictures are decoded whole; these tests are about the pixels, not that limit.
fn roomy() -> Limits {
    Limits::default().with_max_memory(256 << 20)
}

/// Our thumbnail of fixture `file` against our thumbnail of its reference decode.
fn same_as_reference(file: &str) -> f64 {
    let name = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let ours = render(&heif_fixture(file), &roomy());
    let reference = render(&heif_fixture(&format!("{name}-ref.png")), &roomy());
    common::mean_abs_diff(&ours, &reference)
}

#[test]
fn the_iphone_photo_matches_libheif() {
    let iphone = common::corpus().join("conformance/other/iphone.heic");
    let info = probe(&common::read(&iphone)).unwrap();
    assert_eq!(info.format, InputFormat::Heic);
    assert_eq!((info.width, info.height), (2566, 3313));
    assert!(!info.has_alpha);
    let ours = render(&iphone, &Limits::default());
    let reference = render(&heif_fixture("iphone-ref.png"), &roomy());
    let d = common::mean_abs_diff(&ours, &reference);
    assert!(d < SAME, "{d}");
}

#[test]
fn grids_alpha_and_ten_bit_match_libheif() {
    for name in [
        "grid.heic",
        "grid-alpha.heic",
        "single.heic",
        "single-alpha.heic",
        "ten-bit.heic",
    ] {
        let d = same_as_reference(name);
        assert!(d < SAME, "{name}: {d}");
    }
    let info = probe(&common::read(&heif_fixture("grid-alpha.heic"))).unwrap();
    assert!(info.has_alpha);
    assert_eq!((info.width, info.height), (1800, 1200));
}

#[test]
fn every_transform_matches_libheif_and_a_wrong_one_would_not() {
    for (name, orientation) in [
        ("irot1", Orientation::Rotate270),
        ("irot2", Orientation::Rotate180),
        ("irot3", Orientation::Rotate90),
        ("imir0", Orientation::FlipVertical),
        ("imir1", Orientation::FlipHorizontal),
        ("irot1-imir1", Orientation::Transverse),
        ("clap", Orientation::Normal),
    ] {
        let info = probe(&common::read(&heif_fixture(&format!("{name}.heic")))).unwrap();
        assert_eq!(info.orientation, orientation, "{name}");
        let d = same_as_reference(&format!("{name}.heic"));
        assert!(d < SAME, "{name}: {d}");
    }
    // The test can fail: the unturned picture against a turned reference is far off.
    let plain = render(&heif_fixture("single.heic"), &roomy());
    for name in ["irot2", "imir0", "imir1"] {
        let turned = render(&heif_fixture(&format!("{name}-ref.png")), &roomy());
        let d = common::mean_abs_diff(&plain, &turned);
        assert!(d > 20.0 * SAME, "{name}: {d}");
    }
    let clap = probe(&common::read(&heif_fixture("clap.heic"))).unwrap();
    assert_eq!((clap.width, clap.height), (1600, 1000));
}

#[test]
fn display_p3_and_pq_by_nclx_become_srgb() {
    // Display P3 taken as sRGB would be off by about 1.4 on this photo, 33 at most.
    let ours = render(&heif_fixture("p3.heic"), &roomy());
    let reference = render(&heif_fixture("p3-ref.png"), &roomy());
    let d = common::mean_abs_diff(&ours, &reference);
    assert!(d < 0.5, "p3: {d}");
    let worst = ours
        .data
        .iter()
        .zip(&reference.data)
        .map(|(a, b)| a.abs_diff(*b))
        .max();
    assert!(worst <= Some(16), "p3: {worst:?}");
    // PQ in BT.2020, tone-mapped as documented (the reference is computed with numpy).
    let d = common::mean_abs_diff(
        &render(&heif_fixture("pq.heic"), &roomy()),
        &render(&heif_fixture("pq-ref.png"), &roomy()),
    );
    assert!(d < 1.5, "pq: {d}");
}

#[test]
fn hostile_containers_are_refused_by_name_before_decoding() {
    let _alone = alone();
    let cases = [
        (
            "lying-grid.heic",
            ErrorKind::Corrupt,
            "cannot make 60000x60000",
        ),
        (
            "grid-over-limit.heic",
            ErrorKind::TooManyPixels,
            "20480x20480",
        ),
        (
            "many-items.heic",
            ErrorKind::OverLimit,
            "over the limit of 8192",
        ),
    ];
    for (name, kind, says) in cases {
        let data = common::read(&heif_fixture(name));
        let (result, peak) =
            peak_during(|| thumbnail(&data, &ThumbnailSpec::default(), &Limits::default()));
        let e = result.expect_err(name);
        assert_eq!(e.kind(), kind, "{name}: {e}");
        assert!(e.to_string().contains(says), "{name}: {e}");
        assert!(peak < 16 << 20, "{name}: {} MiB to refuse", peak >> 20);
    }
}

/// Each prefix of fixture `file` is refused with a typed error, not a panic.
fn truncations_are_typed_errors(file: &str, cuts: &[usize]) {
    let data = common::read(&heif_fixture(file));
    for &cut in cuts
        .iter()
        .chain(&[data.len() / 3, data.len() / 2, data.len() - 1])
    {
        let e = thumbnail(&data[..cut], &ThumbnailSpec::default(), &Limits::default())
            .expect_err("a truncated file");
        assert!(
            matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::UnsupportedFormat),
            "{file} cut at {cut}: {e}"
        );
    }
}

#[test]
fn truncated_files_give_typed_errors() {
    truncations_are_typed_errors("grid.heic", &[10, 40, 200, 1000]);
}

#[test]
fn a_100_mp_grid_stays_in_budget_and_stops_at_its_deadline() {
    let _alone = alone();
    let data = common::read(&heif_fixture("grid-100mp.heic"));
    // The same heap budget as every other format's 100 MP file (tests/budget.rs).
    common::in_budget_and_stopped_by_deadline(&data, 40 << 20);
}

#[test]
fn a_single_picture_over_the_memory_limit_is_refused_by_name() {
    let data = common::read(&heif_fixture("single.heic"));
    let tight = Limits::default().with_max_memory(8 << 20);
    let e = thumbnail(&data, &ThumbnailSpec::default(), &tight).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OverLimit, "{e}");
    assert!(
        e.to_string().contains("single picture") && e.to_string().contains("8 MiB"),
        "{e}"
    );
    // A grid of the same photo decodes a tile at a time under the same limit.
    thumbnail(
        &common::read(&heif_fixture("grid.heic")),
        &ThumbnailSpec::default(),
        &tight,
    )
    .unwrap();
}

#[test]
fn avif_photos_grids_alpha_and_ten_bit_match_libavif() {
    let pitm = common::corpus().join("conformance/other/pitm-4096x800.avif");
    let info = probe(&common::read(&pitm)).unwrap();
    assert_eq!(info.format, InputFormat::Avif);
    assert_eq!((info.width, info.height), (4096, 800));
    let d = common::mean_abs_diff(
        &render(&pitm, &roomy()),
        &render(&heif_fixture("pitm-ref.png"), &roomy()),
    );
    assert!(d < SAME, "pitm: {d}");
    for name in ["avif-grid.avif", "avif-alpha.avif", "avif-ten-bit.avif"] {
        let d = same_as_reference(name);
        assert!(d < SAME, "{name}: {d}");
    }
    let alpha = probe(&common::read(&heif_fixture("avif-alpha.avif"))).unwrap();
    assert!(alpha.has_alpha);
}

#[test]
fn avif_rotation_matches_the_turned_photo() {
    // avifdec applies no transforms, so the reference is libheif's turned decode of the same
    // photo coded as HEIC: the two codecs' losses differ a little, a wrong turn a lot.
    let data = common::read(&heif_fixture("avif-irot1.avif"));
    assert_eq!(probe(&data).unwrap().orientation, Orientation::Rotate270);
    let ours = render(&heif_fixture("avif-irot1.avif"), &roomy());
    let d = common::mean_abs_diff(&ours, &render(&heif_fixture("irot1-ref.png"), &roomy()));
    assert!(d < 2.0, "{d}");
    let d = common::mean_abs_diff(&ours, &render(&heif_fixture("irot3-ref.png"), &roomy()));
    assert!(d > 20.0, "{d}");
}

#[test]
fn truncated_avif_gives_typed_errors() {
    truncations_are_typed_errors("avif-grid.avif", &[12, 100, 400]);
}

/// `file` with every `step`-th byte from a third of the way on set to 0xFF: the container
/// (at the front in these files) intact, the coded pictures after it wrecked.
fn wrecked(file: &str, step: usize) -> Vec<u8> {
    let mut data = common::read(&heif_fixture(file));
    let from = data.len() / 3;
    data[from..]
        .iter_mut()
        .step_by(step)
        .for_each(|b| *b = 0xFF);
    data
}

#[test]
fn corrupt_coded_data_is_a_typed_error() {
    // rav1d 1.1.0 aborted the whole test process on this file (an unwrap in its error path,
    // inside a function that cannot unwind): vendor/rav1d/PATCHES.md.
    let e = thumbnail(
        &wrecked("avif-grid.avif", 3),
        &ThumbnailSpec::default(),
        &Limits::default(),
    )
    .expect_err("wrecked AV1 tiles");
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.to_string().contains("AVIF"), "{e}");
    // Sparser damage may still give a (damaged) picture; it must never give anything but a
    // thumbnail or a typed error.
    for file in [
        "avif-grid.avif",
        "avif-alpha.avif",
        "avif-ten-bit.avif",
        "grid.heic",
    ] {
        for step in [2, 5, 97, 1009] {
            if let Err(e) = thumbnail(&wrecked(file, step), &ThumbnailSpec::default(), &roomy()) {
                assert!(
                    matches!(e.kind(), ErrorKind::Corrupt | ErrorKind::UnsupportedFormat),
                    "{file} every {step}: {e}"
                );
            }
        }
    }
}

/// Issue 32, item 4: the fix for rav1d's abort travels with the crate. A crate outside this
/// workspace (made here, in a temporary folder, depending on thumbnail-core by path as a
/// dependant would) decodes the wrecked AVIF files to thumbnails or typed errors and finishes:
/// with the fix carried by a `[patch]` of this workspace's, it built rav1d 1.1.0, whose panic
/// on corrupt tiles aborts the process.
#[test]
fn a_dependant_crate_gets_errors_not_aborts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("thumbnail-dependant-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    // The workspace's profiles (dependencies optimised, as ours are), nothing else of it.
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let profiles = &manifest[manifest.find("[profile.").expect("profiles")..];
    let core = root.join("thumbnail-core");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"dependant\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nthumbnail-core = {{ path = {core:?}, default-features = false, features = [\"avif-decode\"] }}\n\n\
             [workspace]\n\n{profiles}"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap();
        let spec = thumbnail_core::ThumbnailSpec::default();
        match thumbnail_core::thumbnail(&data, &spec, &thumbnail_core::Limits::default()) {
            Ok(_) => println!("thumbnail"),
            Err(e) => println!("{:?}", e.kind()),
        }
    }
    println!("done");
}
"#,
    )
    .unwrap();
    // The workspace's lock: the same versions, all already downloaded (no network).
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let mut files = Vec::new();
    for (i, (file, step)) in [
        ("avif-grid.avif", 3),
        ("avif-grid.avif", 2),
        ("avif-alpha.avif", 5),
        ("avif-ten-bit.avif", 97),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.join(format!("wrecked-{i}.avif"));
        std::fs::write(&path, wrecked(file, step)).unwrap();
        files.push(path);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(root.join("target/dependant"))
        .arg("--")
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len() + 1, "{stdout}");
    assert_eq!(
        lines[0], "Corrupt",
        "the file that aborted rav1d 1.1.0: {stdout}"
    );
    assert!(
        lines[1..files.len()]
            .iter()
            .all(|l| ["thumbnail", "Corrupt", "UnsupportedFormat"].contains(l)),
        "{stdout}"
    );
    assert_eq!(lines[files.len()], "done");
    let _ = std::fs::remove_dir_all(&dir);
}
