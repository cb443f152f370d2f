//! Writes every sample of `thumbnail_testkit::hostile` into a folder, for measuring the CLI
//! by hand (`/usr/bin/time -v thumbnail FILE -o out.jpg`) and seeding the fuzzers:
//! `cargo run --release -p thumbnail-testkit --bin make-hostile -- DIR [NAME-FILTER]`.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: make-hostile DIR [NAME-FILTER]");
        std::process::exit(2);
    };
    let filter = args.next().unwrap_or_default();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("make-hostile: {}: {e}", dir.display());
        std::process::exit(1);
    }
    for sample in thumbnail_testkit::hostile::catalogue() {
        if !sample.name.contains(&filter) {
            continue;
        }
        let start = std::time::Instant::now();
        let bytes = (sample.make)();
        let path = dir.join(sample.name);
        if let Err(e) = std::fs::write(&path, &bytes) {
            eprintln!("make-hostile: {}: {e}", path.display());
            std::process::exit(1);
        }
        println!(
            "{}\t{} bytes\t{:?}\t{:.1}s",
            sample.name,
            bytes.len(),
            sample.outcome,
            start.elapsed().as_secs_f64()
        );
    }
}
