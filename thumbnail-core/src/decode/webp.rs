//! WebP through `image-webp`: lossy, lossless, alpha; the first frame of an animation.

use std::io::Cursor;

use image_webp::WebPDecoder;

use super::{ColorModel, Decoded, ImageInfo, icc_description};
use crate::error::{Error, Result};
use crate::exif;
use crate::format::InputFormat;
use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::Limits;

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::corrupt("WebP", e)
}

fn decoder<'a>(data: &'a [u8], limits: &Limits) -> Result<WebPDecoder<Cursor<&'a [u8]>>> {
    let mut d = WebPDecoder::new(Cursor::new(data)).map_err(corrupt)?;
    d.set_memory_limit(super::decoder_memory_cap(limits));
    Ok(d)
}

pub(super) fn probe(data: &[u8]) -> Result<ImageInfo> {
    let mut d = decoder(data, &Limits::default())?;
    let (width, height) = d.dimensions();
    let icc = d.icc_profile().ok().flatten();
    let orientation = d
        .exif_metadata()
        .ok()
        .flatten()
        .as_deref()
        .and_then(exif::orientation)
        .unwrap_or_default();
    Ok(ImageInfo {
        format: InputFormat::WebP,
        width,
        height,
        orientation,
        color: ColorModel::Rgb,
        has_alpha: d.has_alpha(),
        icc_description: icc_description(icc.as_deref()),
        animated: d.is_animated(),
    })
}

/// Input handed to libwebp per step; the deadline is checked between steps.
const STEP: usize = 16 << 10;

/// libwebp's incremental decoder, scaling while it decodes: lossy frames stream through its
/// rescaler a few rows at a time. Lossless frames and the alpha plane of lossy ones are held
/// whole by libwebp, so those are refused when that is over the memory limit (which a large
/// output raises to what it needs); animations take the first frame through image-webp,
/// under the same rule.
pub(super) fn decode(
    data: &[u8],
    info: &ImageInfo,
    limits: &Limits,
    reduction: u32,
) -> Result<Decoded> {
    let f = features(data)?;
    let (w, h) = (info.width, info.height);
    if f.has_animation == 0 && (f.width as i64, f.height as i64) != (i64::from(w), i64::from(h)) {
        return Err(corrupt(format!(
            "frame is {}x{}, the header says {w}x{h}",
            f.width, f.height
        )));
    }
    let px = u64::from(w) * u64::from(h);
    let icc = decoder(data, limits)?.icc_profile().ok().flatten();
    if f.has_animation != 0 {
        limits.check_memory(
            format_args!("an animated {w}x{h} WebP (whole frames)"),
            px * 8,
        )?;
        return decode_animated(data, icc);
    }
    let reduction = reduction.max(1);
    let (ow, oh) = (w.div_ceil(reduction), h.div_ceil(reduction));
    let layout = if f.has_alpha != 0 {
        PixelLayout::Rgba
    } else {
        PixelLayout::Rgb
    };
    let out_bytes = u64::from(ow) * u64::from(oh) * layout.channels() as u64;
    // libwebp holds a lossless frame whole (ARGB), and the alpha plane of a lossy one.
    let held = match (f.format, f.has_alpha != 0) {
        (2, _) => px * 4,
        (_, true) => px,
        _ => 0,
    };
    let what = match (f.format, f.has_alpha != 0) {
        (2, _) => "a lossless",
        (_, true) => "a lossy-with-alpha",
        _ => "a lossy",
    };
    limits.check_memory(format_args!("{what} {w}x{h} WebP"), held + out_bytes)?;
    let mut out = vec![0u8; crate::pixels::byte_len(ow, oh, layout)?];
    incremental(data, limits, (ow, oh), reduction > 1, layout, &mut out)?;
    Ok(Decoded {
        bitmap: Bitmap::new(ow, oh, layout, out)?,
        icc,
        orientation: Default::default(),
        scale: reduction,
    })
}

fn features(data: &[u8]) -> Result<libwebp_sys::WebPBitstreamFeatures> {
    let mut f = std::mem::MaybeUninit::<libwebp_sys::WebPBitstreamFeatures>::zeroed();
    // SAFETY: `data` is a valid slice for the call; libwebp fills `f`, which is plain data and
    // valid when zeroed, and reads nothing past `data.len()`.
    let status = unsafe { libwebp_sys::WebPGetFeatures(data.as_ptr(), data.len(), f.as_mut_ptr()) };
    if status != libwebp_sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(corrupt(format!(
            "libwebp cannot read the header ({status:?})"
        )));
    }
    // SAFETY: zero-initialised plain data, filled in by the call above.
    Ok(unsafe { f.assume_init() })
}

/// Decodes into `out` (rows of `size.0` pixels of `layout`), feeding libwebp `STEP` bytes at a
/// time from the caller's buffer (no copy of the input) and stopping at the deadline.
fn incremental(
    data: &[u8],
    limits: &Limits,
    size: (u32, u32),
    scale: bool,
    layout: PixelLayout,
    out: &mut [u8],
) -> Result<()> {
    use libwebp_sys::{VP8StatusCode, WEBP_CSP_MODE, WebPDecoderConfig};
    let mut config = std::mem::MaybeUninit::<WebPDecoderConfig>::zeroed();
    // SAFETY: the config is plain data, valid when zeroed; the call initialises it.
    if !unsafe { libwebp_sys::WebPInitDecoderConfig(config.as_mut_ptr()) } {
        return Err(corrupt("libwebp version mismatch"));
    }
    // SAFETY: initialised just above.
    let mut config = unsafe { config.assume_init() };
    let to_int = |v: u32| i32::try_from(v).map_err(|_| corrupt("image too large"));
    if scale {
        config.options.use_scaling = 1;
        config.options.scaled_width = to_int(size.0)?;
        config.options.scaled_height = to_int(size.1)?;
    }
    // libwebp filters and reconstructs rows on a second thread while this one parses the
    // next ones (frames 512 pixels wide and over): the pipelining libvips gets from its own
    // threads. A batch of lossy WebPs on one job: 1.3 s -> 1.05 s; on two jobs, no change.
    config.options.use_threads = 1;
    config.output.colorspace = if layout == PixelLayout::Rgba {
        WEBP_CSP_MODE::MODE_RGBA
    } else {
        WEBP_CSP_MODE::MODE_RGB
    };
    config.output.is_external_memory = 1;
    config.output.u.RGBA = libwebp_sys::WebPRGBABuffer {
        rgba: out.as_mut_ptr(),
        stride: to_int(size.0 * layout.channels() as u32)?,
        size: out.len(),
    };
    // SAFETY: `config` outlives the decoder (deleted below on every path), and its output
    // describes `out`, which outlives it too and is written only within `size`.
    let idec = unsafe { libwebp_sys::WebPIDecode(std::ptr::null(), 0, &mut config) };
    if idec.is_null() {
        return Err(corrupt("libwebp refused the decoder settings"));
    }
    let mut fed = 0;
    let result = loop {
        if let Err(e) = limits.check_deadline() {
            break Err(e);
        }
        fed = (fed + STEP).min(data.len());
        // SAFETY: `idec` is live; `data[..fed]` is the start of the same buffer each time, as
        // WebPIUpdate requires, and stays borrowed until the decoder is deleted.
        let status = unsafe { libwebp_sys::WebPIUpdate(idec, data.as_ptr(), fed) };
        match status {
            VP8StatusCode::VP8_STATUS_OK => break Ok(()),
            VP8StatusCode::VP8_STATUS_SUSPENDED if fed < data.len() => continue,
            VP8StatusCode::VP8_STATUS_SUSPENDED => {
                break Err(corrupt("the data ends before the image does"));
            }
            other => break Err(corrupt(format!("libwebp: {other:?}"))),
        }
    };
    // SAFETY: `idec` came from WebPIDecode and is deleted once; the output is external.
    unsafe { libwebp_sys::WebPIDelete(idec) };
    result
}

/// The first frame of an animation, composited on its canvas by libwebp's animation decoder
/// (which holds the canvas whole: the caller checks the memory first).
fn decode_animated(data: &[u8], icc: Option<Vec<u8>>) -> Result<Decoded> {
    use libwebp_sys as w;
    // SAFETY: the options and info are plain data initialised by libwebp; `data` outlives the
    // decoder, which is deleted once on every path; the frame buffer libwebp returns holds
    // canvas_width x canvas_height RGBA pixels and is copied before the decoder is deleted.
    unsafe {
        let mut opts = std::mem::zeroed::<w::WebPAnimDecoderOptions>();
        if w::WebPAnimDecoderOptionsInit(&mut opts) == 0 {
            return Err(corrupt("libwebp version mismatch"));
        }
        opts.color_mode = w::WEBP_CSP_MODE::MODE_RGBA;
        opts.use_threads = 0;
        let webp = w::WebPData {
            bytes: data.as_ptr(),
            size: data.len(),
        };
        let dec = w::WebPAnimDecoderNew(&webp, &opts);
        if dec.is_null() {
            return Err(corrupt("libwebp cannot read the animation"));
        }
        let mut info = w::WebPAnimInfo::default();
        let mut frame: *mut u8 = std::ptr::null_mut();
        let mut timestamp = 0;
        let ok = w::WebPAnimDecoderGetInfo(dec, &mut info) != 0
            && w::WebPAnimDecoderGetNext(dec, &mut frame, &mut timestamp) != 0
            && !frame.is_null();
        let (fw, fh) = (info.canvas_width, info.canvas_height);
        let pixels = if ok {
            let len = crate::pixels::byte_len(fw, fh, PixelLayout::Rgba);
            len.map(|n| std::slice::from_raw_parts(frame, n).to_vec())
        } else {
            Err(corrupt("the first frame cannot be decoded"))
        };
        w::WebPAnimDecoderDelete(dec);
        Ok(Decoded {
            bitmap: Bitmap::new(fw, fh, PixelLayout::Rgba, pixels?)?,
            icc,
            orientation: Default::default(),
            scale: 1,
        })
    }
}
