//! The one pipeline: probe, refuse, decode (shrinking on load), reduce, colour, orient, and
//! for each spec resize, compose and encode. The stages themselves are in `stages`.

use crate::decode::{self, ImageInfo};
use crate::error::Result;
use crate::spec::{Limits, OutputFormat, ThumbnailSpec};
use crate::{placeholder, stages};

/// One encoded thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
}

impl Thumbnail {
    /// The MIME type of [`Thumbnail::bytes`].
    pub fn mime(&self) -> &'static str {
        self.format.mime()
    }
}

/// What [`crate::process`] returns: the source's header facts and one thumbnail per spec.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Processed {
    /// The source, as [`crate::probe`] describes it.
    pub info: ImageInfo,
    /// One thumbnail per spec, in the order of the specs.
    pub thumbnails: Vec<Thumbnail>,
    /// A [ThumbHash](https://evanw.github.io/thumbhash/) of the upright image, base64 (about
    /// 30 characters), when asked for with [`crate::process_with_placeholder`].
    pub placeholder: Option<String>,
}

pub(crate) fn run(
    data: &[u8],
    specs: &[ThumbnailSpec],
    limits: &Limits,
    placeholder: bool,
) -> Result<Processed> {
    // An oversized input is refused before anything else is looked at, even a bad spec.
    limits.check_input(data.len())?;
    for s in specs {
        s.validate()?;
    }
    // The header is read once: the pixel limit, the decoder and the caller all use it.
    let probed = decode::probe_parsed(data)?;
    let info = &probed.info;
    limits.check_pixels(info.width, info.height)?;
    if specs.is_empty() && !placeholder {
        return Ok(Processed {
            info: probed.info,
            thumbnails: Vec::new(),
            placeholder: None,
        });
    }
    limits.check_deadline()?;
    let specs: Vec<ThumbnailSpec> = specs
        .iter()
        .map(|s| {
            let s = s.resolved(info.upright_size());
            s.with_format(s.format.for_source(info.has_alpha))
        })
        .collect();
    for s in &specs {
        limits.check_output(s)?;
    }
    let hash_spec = placeholder::spec(info.upright_size());
    // The decode is planned for the largest output; the placeholder is the smallest.
    let planned = if specs.is_empty() {
        std::slice::from_ref(&hash_spec)
    } else {
        &specs[..]
    };
    let decoded = stages::decode_probed(data, &probed, planned, limits)?;
    limits.check_deadline()?;
    let upright = stages::normalise(decoded, info, planned);
    let placeholder = if placeholder {
        let small = stages::resize(&upright, info.upright_size(), &hash_spec)?;
        Some(placeholder::thumbhash(&small))
    } else {
        None
    };
    let thumbnails = specs
        .iter()
        .map(|spec| {
            limits.check_deadline()?;
            let ready = stages::resize(&upright, info.upright_size(), spec)?;
            Ok(Thumbnail {
                bytes: stages::encode(&ready, spec)?,
                width: ready.width(),
                height: ready.height(),
                format: spec.format,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Processed {
        info: probed.info,
        thumbnails,
        placeholder,
    })
}
