//! What each thumbnail looks like, from flags. Every value goes through the core's one option
//! parser ([`ThumbnailSpec::set`]), the same one presets and query strings use.

use thumbnail_core::{OutputFormat, ThumbnailSpec};

/// What each thumbnail looks like. Every flag has an environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct SpecArgs {
    /// Output size, WxH [default: 100x100].
    #[arg(long, value_parser = option("size"), env = "THUMBNAIL_SIZE")]
    pub size: Option<String>,

    /// cover (crop to fill), contain (pad), fill (stretch), inside (fit, never enlarge)
    /// [default: cover].
    #[arg(long, value_parser = option("fit"), env = "THUMBNAIL_FIT")]
    pub fit: Option<String>,

    /// Crop anchor for cover: centre, north, northeast, ..., or entropy (content-aware)
    /// [default: centre].
    #[arg(long, value_parser = option("gravity"), env = "THUMBNAIL_GRAVITY")]
    pub gravity: Option<String>,

    /// jpeg, png, webp or avif [default: jpeg].
    #[arg(long, value_parser = option("format"), env = "THUMBNAIL_FORMAT")]
    pub format: Option<String>,

    /// JPEG/WebP quality, 1-100 [default: 80].
    #[arg(short, long, value_parser = option("quality"), env = "THUMBNAIL_QUALITY")]
    pub quality: Option<String>,

    /// Colour behind transparency (JPEG) and around contain-fit images: #rrggbb[aa], white,
    /// transparent [default: white].
    #[arg(long, value_parser = option("background"), env = "THUMBNAIL_BACKGROUND")]
    pub background: Option<String>,

    /// Progressive JPEG.
    #[arg(long, env = "THUMBNAIL_PROGRESSIVE")]
    pub progressive: bool,

    /// Full-resolution JPEG chroma (4:4:4) instead of 4:2:0.
    #[arg(long, env = "THUMBNAIL_CHROMA_444")]
    pub chroma_444: bool,
}

/// A clap value parser that checks one option with the core parser (so a bad value is a
/// usage error naming the flag) and keeps its text for [`SpecArgs::spec`].
fn option(name: &'static str) -> impl Fn(&str) -> Result<String, String> + Clone {
    move |value| {
        ThumbnailSpec::default()
            .set(name, value)
            .map(|()| value.to_string())
            .map_err(|e| e.to_string())
    }
}

impl SpecArgs {
    /// The spec the flags describe, over the default (100x100 cover JPEG q80).
    pub fn spec(&self) -> Result<ThumbnailSpec, String> {
        let given = [
            ("size", &self.size),
            ("fit", &self.fit),
            ("gravity", &self.gravity),
            ("format", &self.format),
            ("quality", &self.quality),
            ("background", &self.background),
        ];
        let flags = [
            ("progressive", self.progressive.then_some("true")),
            ("chroma", self.chroma_444.then_some("444")),
        ];
        let pairs = given
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_deref()?)))
            .chain(flags.into_iter().filter_map(|(k, v)| Some((k, v?))));
        let spec = ThumbnailSpec::default()
            .with_options(pairs)
            .map_err(|e| e.to_string())?;
        if spec.format == OutputFormat::Auto {
            // Outputs are named before they are made, and auto is the HTTP API's choice by
            // the client's Accept header.
            return Err("--format auto is for HTTP clients: name jpeg, png, webp or avif".into());
        }
        Ok(spec)
    }
}
