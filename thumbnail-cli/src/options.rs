//! Command-line flags. Every flag that tunes the engine maps onto `thumbnail_core` types.

use std::path::PathBuf;

use clap::Parser;
use thumbnail_core::{Fit, Gravity, Limits, OutputFormat, Rgba, Subsampling, ThumbnailSpec};

/// Make thumbnails: exactly WxH, cover-fit by default, EXIF-rotated, sRGB, no metadata.
#[derive(Debug, Parser)]
#[command(name = "thumbnail", version, about)]
pub struct Cli {
    /// Input files; `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    pub inputs: Vec<PathBuf>,

    /// Write the single input's thumbnail here; `-` writes standard output.
    #[arg(short, long, value_name = "OUT", conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,

    /// Write each thumbnail to DIR/<input stem>.<ext>.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    #[command(flatten)]
    pub spec: SpecArgs,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// Images processed in parallel (default: number of CPUs).
    #[arg(long, env = "THUMBNAIL_THREADS", value_name = "N")]
    pub threads: Option<usize>,
}

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
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_input_bytes: self.max_input_bytes,
            max_pixels: self.max_pixels,
        }
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    thumbnail_core::parse_size(s).map_err(|e| e.to_string())
}

fn parse_text<T: std::str::FromStr<Err = thumbnail_core::Error>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: thumbnail_core::Error| e.to_string())
}
