//! Damage as it happens to camera files, made over real ones: fill-byte runs a flash card
//! leaves, zeroed blocks, flipped bits, lost and duplicated RSTn markers, a byte that is no
//! marker after 0xFF, in the first interval, the middle and the last.

/// Where a file's entropy-coded data lies: from the end of the first SOS header to EOI.
pub fn scan_range(jpeg: &[u8]) -> std::ops::Range<usize> {
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if jpeg[i + 1] == 0xDA {
            let end = (0..jpeg.len() - 1)
                .rev()
                .find(|&j| jpeg[j] == 0xFF && jpeg[j + 1] == 0xD9)
                .unwrap_or(jpeg.len());
            return i + 2 + len..end;
        }
        i += 2 + len;
    }
    panic!("no SOS");
}

/// Offsets of the RSTn markers inside the scan data.
pub fn restart_markers(jpeg: &[u8]) -> Vec<usize> {
    let r = scan_range(jpeg);
    (r.start..r.end - 1)
        .filter(|&i| jpeg[i] == 0xFF && (0xD0..=0xD7).contains(&jpeg[i + 1]))
        .collect()
}

/// One kind of damage, applied to a copy of a file.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A run of 0xFF over the middle of the scan (16 KiB, or an eighth of a small scan).
    FillRun,
    /// The same run ending one data byte before an RSTn: a flash card's 0xFF, a stray byte,
    /// then the intervals go on (the Olympus file of issue 32).
    FillRunThenStrayByte,
    /// As `FillRun`, over the first restart interval and on.
    FillRunAtStart,
    /// As `FillRun`, ending just before EOI (the last interval).
    FillRunAtEnd,
    /// The block zeroed instead.
    ZeroedBlock,
    /// 24 bits flipped across the scan.
    BitFlips,
    /// Three RSTn markers gone.
    LostMarkers,
    /// Three RSTn markers written twice.
    DuplicatedMarkers,
    /// `FF 9F` (not a marker) in the middle of three intervals.
    InvalidMarkers,
}

pub const SHAPES: [Shape; 9] = [
    Shape::FillRun,
    Shape::FillRunThenStrayByte,
    Shape::FillRunAtStart,
    Shape::FillRunAtEnd,
    Shape::ZeroedBlock,
    Shape::BitFlips,
    Shape::LostMarkers,
    Shape::DuplicatedMarkers,
    Shape::InvalidMarkers,
];

/// A few markers spread over the middle of the scan.
fn some_markers(rst: &[usize]) -> Vec<usize> {
    assert!(rst.len() >= 8, "{} restart markers", rst.len());
    [rst.len() / 4, rst.len() / 2, rst.len() * 3 / 4]
        .map(|i| rst[i])
        .to_vec()
}

/// `jpeg` with `shape` done to it.
pub fn damage(jpeg: &[u8], shape: Shape) -> Vec<u8> {
    let scan = scan_range(jpeg);
    let rst = restart_markers(jpeg);
    let block = (16 << 10).min(scan.len() / 8);
    let mid = scan.start + scan.len() / 2;
    let mut out = jpeg.to_vec();
    let mut fill = |range: std::ops::Range<usize>, byte: u8| out[range].fill(byte);
    match shape {
        Shape::FillRun => fill(mid..mid + block, 0xFF),
        Shape::FillRunThenStrayByte => {
            let m = rst[rst.partition_point(|&m| m < mid + block)..]
                .first()
                .copied()
                .unwrap_or(scan.end);
            fill(m - 1 - block..m - 1, 0xFF);
        }
        Shape::FillRunAtStart => fill(scan.start + 4..scan.start + 4 + block, 0xFF),
        Shape::FillRunAtEnd => fill(scan.end - block..scan.end, 0xFF),
        Shape::ZeroedBlock => fill(mid..mid + block, 0x00),
        Shape::BitFlips => {
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            for _ in 0..24 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = scan.start + (x as usize) % scan.len();
                out[at] ^= 1 << (x >> 61);
            }
        }
        Shape::LostMarkers => {
            for m in some_markers(&rst).into_iter().rev() {
                out.drain(m..m + 2);
            }
        }
        Shape::DuplicatedMarkers => {
            for m in some_markers(&rst).into_iter().rev() {
                let marker = [out[m], out[m + 1]];
                out.splice(m..m, marker);
            }
        }
        Shape::InvalidMarkers => {
            let starts = some_markers(&rst);
            for &m in starts.iter().rev() {
                // Halfway into the interval after marker m.
                let next = rst.iter().copied().find(|&n| n > m).unwrap_or(scan.end);
                let at = (m + 2 + next) / 2;
                let at = if out[at - 1] == 0xFF { at + 1 } else { at };
                out.splice(at..at, [0xFF, 0x9F]);
            }
        }
    }
    out
}
