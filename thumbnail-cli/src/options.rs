//! Flags shared by the subcommands. Every flag that tunes the engine maps onto
//! `thumbnail_core` types, and every one has an environment variable.

use std::time::Duration;

use thumbnail_core::{Fit, Gravity, Limits, OutputFormat, Rgba, Subsampling, ThumbnailSpec};
use thumbnail_storage::Timeouts;

/// What each thumbnail looks like.
#[derive(Debug, Clone, clap::Args)]
pub struct SpecArgs {
    /// Output size, WxH.
    #[arg(long, default_value = "100x100", value_parser = parse_size, env = "THUMBNAIL_SIZE")]
    pub size: (u32, u32),

    /// cover (crop to fill), contain (pad), fill (stretch), inside (fit, never enlarge).
    #[arg(long, default_value = "cover", value_parser = parse_text::<Fit>, env = "THUMBNAIL_FIT")]
    pub fit: Fit,

    /// Crop anchor for cover: centre, north, northeast, ..., or entropy (content-aware).
    #[arg(long, default_value = "centre", value_parser = parse_text::<Gravity>, env = "THUMBNAIL_GRAVITY")]
    pub gravity: Gravity,

    /// jpeg, png or webp.
    #[arg(long, default_value = "jpeg", value_parser = parse_text::<OutputFormat>, env = "THUMBNAIL_FORMAT")]
    pub format: OutputFormat,

    /// JPEG/WebP quality, 1-100.
    #[arg(short, long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=100), env = "THUMBNAIL_QUALITY")]
    pub quality: u8,

    /// Colour behind transparency (JPEG) and around contain-fit images: #rrggbb[aa], white, transparent.
    #[arg(long, default_value = "white", value_parser = parse_text::<Rgba>, env = "THUMBNAIL_BACKGROUND")]
    pub background: Rgba,

    /// Progressive JPEG.
    #[arg(long, env = "THUMBNAIL_PROGRESSIVE")]
    pub progressive: bool,

    /// Full-resolution JPEG chroma (4:4:4) instead of 4:2:0.
    #[arg(long, env = "THUMBNAIL_CHROMA_444")]
    pub chroma_444: bool,
}

impl SpecArgs {
    pub fn spec(&self) -> ThumbnailSpec {
        ThumbnailSpec {
            width: self.size.0,
            height: self.size.1,
            fit: self.fit,
            gravity: self.gravity,
            format: self.format,
            quality: self.quality,
            background: self.background,
            progressive: self.progressive,
            subsampling: if self.chroma_444 {
                Subsampling::S444
            } else {
                Subsampling::S420
            },
        }
    }
}

/// What the engine refuses.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Largest input accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_input_bytes, env = "THUMBNAIL_MAX_INPUT_BYTES")]
    pub max_input_bytes: u64,

    /// Largest input accepted, in pixels (width x height from the header).
    #[arg(long, default_value_t = Limits::default().max_pixels, env = "THUMBNAIL_MAX_PIXELS")]
    pub max_pixels: u64,

    /// Most scans a JPEG may have (each one walks the whole image).
    #[arg(long, default_value_t = Limits::default().max_scans, env = "THUMBNAIL_MAX_SCANS")]
    pub max_scans: u32,

    /// Working memory one image's decoder may hold beyond its reduced image, in bytes (whole
    /// frames of formats that cannot stream, a TIFF strip or tile).
    #[arg(long, default_value_t = Limits::default().max_memory, env = "THUMBNAIL_MAX_MEMORY")]
    pub max_memory: u64,

    /// Longest one image's work may take; the decoder stops itself there.
    #[arg(long, default_value = "30s", value_parser = parse_duration, env = "THUMBNAIL_IMAGE_TIMEOUT")]
    pub image_timeout: Duration,
}

impl LimitArgs {
    /// The limits, without a deadline: each image gets its own (see [`LimitArgs::for_image`]).
    pub fn limits(&self) -> Limits {
        Limits {
            max_input_bytes: self.max_input_bytes,
            max_pixels: self.max_pixels,
            max_scans: self.max_scans,
            max_memory: self.max_memory,
            deadline: None,
        }
    }
}

/// Timeouts and retries for remote stores (S3 and the like).
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Connect timeout for remote stores.
    #[arg(long, default_value = "3s", value_parser = parse_duration, env = "THUMBNAIL_STORE_CONNECT_TIMEOUT")]
    pub store_connect_timeout: Duration,

    /// Deadline of one storage operation, retries included.
    #[arg(long, default_value = "30s", value_parser = parse_duration, env = "THUMBNAIL_STORE_TIMEOUT")]
    pub store_timeout: Duration,

    /// Attempts per storage operation (1 = no retry).
    #[arg(long, default_value_t = 3, env = "THUMBNAIL_STORE_ATTEMPTS")]
    pub store_attempts: u32,
}

impl StoreArgs {
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: self.store_connect_timeout,
            operation: self.store_timeout,
            attempts: self.store_attempts,
        }
    }
}

pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    thumbnail_core::parse_size(s).map_err(|e| e.to_string())
}

pub fn parse_text<T: std::str::FromStr<Err = thumbnail_core::Error>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: thumbnail_core::Error| e.to_string())
}

/// `250ms`, `30s`, `2m`, `1h`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 500ms, 30s, 2m or 1h");
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
