//! `thumbnail serve` against CPU bombs, as an attacker would send them: a request past its
//! deadline stops its image work (the process's CPU time stops growing), its job slot frees
//! only then and at once, normal requests keep being served, and SIGTERM exits promptly with
//! a bomb in flight. The CLI's own `--image-timeout` stops a bomb the same way, and a pipe
//! named as an input that no one writes to. Reading a batch's inputs ahead of its render
//! threads adds no more than its budget to the memory of the inputs being rendered.

mod common;

use std::time::{Duration, Instant};

use common::{Serve, run, stderr};
use thumbnail_testkit::hostile;

/// CPU seconds the process has used so far (user + system, from /proc).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // USER_HZ is 100 on every Linux this runs on.
    ticks / 100.0
}

fn bomb() -> Vec<u8> {
    thumbnail_testkit::hostile::cpu_bomb()
}

/// POSTs `body` to `url` `n` times at once; the statuses, in order.
fn post_at_once(client: &reqwest::blocking::Client, url: &str, body: &[u8], n: usize) -> Vec<u16> {
    std::thread::scope(|s| {
        let jobs: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    let resp = client.post(url).body(body.to_vec()).send().unwrap();
                    resp.status().as_u16()
                })
            })
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    })
}

/// A size that makes the bomb decode its AC scans: seconds of work without a deadline.
const BIG: &str = "/thumbnail?size=1000x1000";

#[test]
fn a_scan_bomb_past_its_deadline_frees_the_cpu_and_the_slot() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--request-timeout",
            "1s",
            "--jobs",
            "2",
        ],
        dir.path(),
    );
    let pid = server.child.id();
    let client = reqwest::blocking::Client::new();
    let bomb = bomb();
    // Four at once: two run, two wait for a slot; all four hit the 1 s deadline.
    let start = Instant::now();
    let statuses = post_at_once(&client, &server.url(BIG), &bomb, 4);
    assert_eq!(statuses, [504; 4], "{statuses:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    // The work stopped with the requests: no CPU is spent after the 504s.
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_seconds(pid);
    std::thread::sleep(Duration::from_millis(1500));
    let spent = cpu_seconds(pid) - before;
    assert!(spent < 0.3, "{spent:.2} s of CPU after the deadline");
    // And the slots are free: a normal image is served at once.
    let photo = thumbnail_testkit::corpus_file("photos/kodak-dc240-640x480.jpg");
    let resp = client
        .post(server.url("/thumbnail"))
        .body(photo)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("thumbnail_jobs_running 0")
            && metrics.contains("thumbnail_jobs_waiting 0"),
        "{metrics}"
    );
}

/// Peak resident memory of a process so far, in MiB (from /proc).
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024
}

#[test]
fn memory_is_bounded_by_jobs_whatever_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(&["--listen", "127.0.0.1:0", "--jobs", "4"], dir.path());
    let client = reqwest::blocking::Client::new();
    // The worst decompression bombs of three formats, four of each at once: each declares
    // 100 MP (a full frame would be 400 to 800 MB).
    let bombs = [
        hostile::tiff(hostile::SIDE, hostile::SIDE, 16, Some(16), false),
        hostile::png(hostile::SIDE, hostile::SIDE, 16, true, false),
        hostile::gif(hostile::SIDE, hostile::SIDE, false, |_, _| 0),
    ];
    for bomb in &bombs {
        let statuses = post_at_once(&client, &server.url("/thumbnail"), bomb, 4);
        assert_eq!(statuses, [200; 4]);
    }
    let peak = peak_rss_mib(server.child.id());
    // Four jobs at once, each within its decoder budget plus its body.
    assert!(peak < 4 * 48, "peak RSS {peak} MiB");
}

#[test]
fn uploads_one_after_another_peak_at_one_uploads_memory() {
    // Camera-sized deflate TIFFs (19 to 24 MB bodies), each a little smaller than the last,
    // sent one at a time: the memory one upload frees is what the next one uses. It was not
    // with an allocator arena per thread, or with the body's buffer grown by doubling (57 to
    // 60 MiB here; either alone was enough).
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(&["--listen", "127.0.0.1:0", "--jobs", "2"], dir.path());
    let client = reqwest::blocking::Client::new();
    for (i, side) in (2500..=2840).rev().step_by(68).enumerate() {
        let body = hostile::noise_tiff(side, side, i as u32);
        let resp = client
            .post(server.url("/thumbnail"))
            .body(body)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "{side}x{side}");
    }
    let peak = peak_rss_mib(server.child.id());
    // The largest body (24 MB) and its decode, within the 48 MiB other formats are held to.
    assert!(peak <= 48, "peak RSS {peak} MiB");
}

#[test]
fn sigterm_exits_promptly_with_a_bomb_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Serve::start(
        &["--listen", "127.0.0.1:0", "--request-timeout", "2s"],
        dir.path(),
    );
    let url = server.url(BIG);
    let body = bomb();
    let request = std::thread::spawn(move || {
        reqwest::blocking::Client::new()
            .post(url)
            .body(body)
            .send()
            .map(|r| r.status().as_u16())
    });
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    server.signal("TERM");
    // The in-flight request ends at its deadline (1.5 s from now) and the process with it,
    // instead of waiting out the seconds of decoding the bomb would take.
    let status = server.wait(Duration::from_secs(10));
    let took = start.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_millis(2500),
        "exited {took:?} after SIGTERM"
    );
    assert_eq!(request.join().unwrap().ok(), Some(504));
}

#[test]
fn the_cli_stops_a_bomb_at_its_image_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bomb.jpg");
    std::fs::write(&input, bomb()).unwrap();
    let start = Instant::now();
    let out = run(
        &[
            "bomb.jpg",
            "--size",
            "1000x1000",
            "--image-timeout",
            "500ms",
            "-o",
            "out.jpg",
        ],
        dir.path(),
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("deadline"), "{err}");
    assert!(!dir.path().join("out.jpg").exists());
    // The limits have their environment variables too.
    let out = std::process::Command::new(common::BIN)
        .args(["bomb.jpg", "-o", "out.jpg"])
        .env("THUMBNAIL_MAX_SCANS", "50")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("more than 50 scans"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_named_pipe_is_read_as_a_stream_and_one_with_no_writer_stops_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("in.jpg");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // With a writer: a pipe (as `<(curl ...)` gives) is an input like any file.
    let photo = thumbnail_testkit::corpus_file("photos/iphone6-hdr-3264x2448.jpg");
    let path = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(path, photo));
    let out = run(&["in.jpg", "-o", "t.jpg"], dir.path());
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let t = std::fs::read(dir.path().join("t.jpg")).unwrap();
    let info = thumbnail_core::probe(&t).unwrap();
    assert_eq!((info.width, info.height), (100, 100));
    // No writer: opening it would wait forever; the image timeout ends the wait.
    let start = Instant::now();
    let out = run(
        &["in.jpg", "--image-timeout", "1s", "-o", "never.jpg"],
        dir.path(),
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("nothing more to read within 1 s"), "{err}");
    assert!(!dir.path().join("never.jpg").exists());
}

/// Peak RSS of a batch over `inputs` (files in `dir`) on `threads` render threads, read
/// while the batch is still alive: a pipe named last (no size, so it sorts last) holds it
/// open until every other thumbnail is written, then gets a small photo.
fn batch_peak_mib(dir: &std::path::Path, inputs: &[&str], threads: &str) -> u64 {
    let fifo = dir.join("zz-last.jpg");
    let _ = std::fs::remove_file(&fifo);
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let mut args = inputs.to_vec();
    args.extend(["zz-last.jpg", "--out-dir", "out", "--threads", threads]);
    args.extend(["--progress", "none"]);
    let child = std::process::Command::new(common::BIN)
        .args(&args)
        .current_dir(dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // `<stem>.jpg`, whatever the input's extension.
    let written = |name: &str| {
        out.join(std::path::Path::new(name).with_extension("jpg"))
            .exists()
    };
    while !inputs.iter().all(|i| written(i)) {
        assert!(Instant::now() < deadline, "the thumbnails were not written");
        std::thread::sleep(Duration::from_millis(10));
    }
    let peak = peak_rss_mib(child.id());
    let pipe = loop {
        assert!(Instant::now() < deadline, "the pipe was not opened");
        if let Some(pipe) = common::writer_if_read(&fifo) {
            break pipe;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    common::feed(
        pipe,
        &thumbnail_testkit::corpus_file("photos/kodak-dc240-640x480.jpg"),
    );
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", stderr(&done));
    peak
}

#[test]
fn reading_ahead_adds_at_most_its_budget_to_a_batch_of_large_files() {
    // Camera-sized TIFFs (13 to 17 MB, each over the read-ahead budget of 4 MiB): one
    // render thread holds one of them at a time, as it would without reading ahead.
    let dir = tempfile::tempdir().unwrap();
    let names = ["a.tif", "b.tif", "c.tif", "d.tif"];
    for (k, name) in names.iter().enumerate() {
        let side = 2400 - 100 * k as u32;
        let tiff = hostile::noise_tiff(side, side, k as u32);
        std::fs::write(dir.path().join(name), tiff).unwrap();
    }
    let one = batch_peak_mib(dir.path(), &names[..1], "1");
    let all = batch_peak_mib(dir.path(), &names, "1");
    // Two of them at once would add 13 MB or more.
    assert!(all <= one + 4 + 3, "one file: {one} MiB, four: {all} MiB");
}

/// A 24 MP photo-like JPEG: broad gradients with noise on top (so the file is as large as a
/// camera's, 5 MB and more), 4:4:4 at quality 95.
fn photo_24mp() -> Vec<u8> {
    let (w, h) = (6000u16, 4000u16);
    let mut px = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..u32::from(h) {
        for x in 0..u32::from(w) {
            let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 28;
            px.extend(hostile::photo(x, y).map(|c| c.saturating_add(noise as u8)));
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(&px, w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// Issue 32, item 2: a batch of every corpus photo (0.01 to 16 MP, 8 progressive) and 24 MP
/// ones (baseline and progressive) on one render thread peaks at 32 MiB or less: a
/// progressive file keeps only what the thumbnail's scale needs, and no input is held longer
/// than its decode.
#[test]
fn a_batch_of_photos_up_to_24_mp_peaks_at_32_mib() {
    let dir = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    let photos = thumbnail_testkit::corpus().join("photos");
    for entry in std::fs::read_dir(&photos).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::copy(&path, dir.path().join(&name)).unwrap();
        names.push(name);
    }
    let big = photo_24mp();
    assert!(big.len() > 4 << 20, "a 24 MP file of {} bytes", big.len());
    std::fs::write(dir.path().join("big-24mp.jpg"), &big).unwrap();
    let progressive = std::process::Command::new("jpegtran")
        .args([
            "-progressive",
            "-outfile",
            "big-24mp-progressive.jpg",
            "big-24mp.jpg",
        ])
        .current_dir(dir.path())
        .status()
        .unwrap_or_else(|e| panic!("jpegtran: {e} (apt-get install libjpeg-turbo-progs)"));
    assert!(progressive.success());
    names.extend(["big-24mp.jpg".into(), "big-24mp-progressive.jpg".into()]);
    names.sort();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let peak = batch_peak_mib(dir.path(), &names, "1");
    eprintln!(
        "peak RSS {peak} MiB, {} photos, the 24 MP one {} bytes",
        names.len(),
        big.len()
    );
    assert!(
        peak <= 32,
        "peak RSS {peak} MiB over {} photos",
        names.len()
    );
}
