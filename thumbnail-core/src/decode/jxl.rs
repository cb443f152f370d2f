//! JPEG XL through jxl-oxide. A whole-frame render holds about 27 bytes a pixel (1.2 GiB at
//! 48 MP), so a VarDCT image over the memory limit is rendered a 512x512 region at a time into
//! the reduction: about 28 MiB at any size, for two to three times the CPU. Lossless (modular)
//! images and extra channels such as alpha are decoded for the whole frame whatever the
//! region, so those are taken whole when they fit and refused by name when they do not. The
//! estimate is checked before any pixel is decoded; jxl-oxide's own allocations are also capped
//! at the limit (its `AllocTracker`).

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use jxl_oxide::frame::Encoding;
use jxl_oxide::{
    AllocTracker, CropInfo, EnumColourEncoding, InitializeResult, JxlImage, JxlThreadPool,
    RenderingIntent,
};

use super::{ColorModel, Decoded, ImageInfo, icc_description};
use crate::error::{Error, Result};
use crate::format::InputFormat;
use crate::orient::Orientation;
use crate::pixels::PixelLayout;
use crate::reduce::GridReducer;
use crate::spec::Limits;

const NAME: &str = "JPEG XL";

/// The side of the regions rendered one at a time.
const REGION: u32 = 512;

/// Heap of a whole-frame render, per pixel (measured: 57.5 MiB at 2.2 MP, 1,260 MiB at
/// 48.8 MP VarDCT; 69 MiB at 2.2 MP with alpha).
const WHOLE_BYTES_PER_PIXEL: u64 = 34;

/// Heap of a region-at-a-time render: the region with its padding and copies, plus what is
/// kept for the whole frame (the 1:8 LF image, HF metadata). Measured: 24.7 MiB at 2.2 MP,
/// 28.0 MiB at 48.8 MP.
fn region_bytes(pixels: u64) -> u64 {
    (24 << 20) + pixels / 12
}

fn corrupt(why: impl std::fmt::Display) -> Error {
    Error::corrupt(NAME, why)
}

/// The header facts, from the first bytes that hold the image header and ICC profile.
pub(super) fn probe(data: &[u8]) -> Result<ImageInfo> {
    let mut uninit = JxlImage::builder()
        .pool(JxlThreadPool::none())
        .alloc_tracker(AllocTracker::with_limit(16 << 20))
        .build_uninit();
    // Fed in pieces so that a probe buffers only as much of the file as the header takes.
    let mut rest = data;
    let image = loop {
        let n = rest.len().min(64 << 10);
        if n == 0 {
            return Err(corrupt("the file ends inside its header"));
        }
        uninit.feed_bytes(&rest[..n]).map_err(corrupt)?;
        rest = &rest[n..];
        match uninit.try_init().map_err(corrupt)? {
            InitializeResult::NeedMoreData(u) => uninit = u,
            InitializeResult::Initialized(image) => break image,
        }
    };
    info(&image)
}

fn info(image: &JxlImage) -> Result<ImageInfo> {
    let format = image.pixel_format();
    if format.has_black() {
        return Err(Error::unsupported(format!("{NAME} CMYK")));
    }
    let header = image.image_header();
    let orientation = u8::try_from(header.metadata.orientation)
        .ok()
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::Normal);
    // jxl-oxide's width and height are upright; ours are as stored.
    let (w, h) = orientation.upright(image.width(), image.height());
    Ok(ImageInfo {
        format: InputFormat::Jxl,
        width: w,
        height: h,
        orientation,
        color: if format.is_grayscale() {
            ColorModel::Gray
        } else {
            ColorModel::Rgb
        },
        has_alpha: format.has_alpha(),
        icc_description: icc_description(image.original_icc()),
        animated: header.metadata.animation.is_some(),
    })
}

/// Decodes the first frame, upright, reduced by `reduction` (the pixel limit was checked on
/// the probe's header).
pub(super) fn decode(data: &[u8], limits: &Limits, reduction: u32) -> Result<Decoded> {
    // jxl-oxide is checked by its fuzzing, not proven: a panic inside it is this file's
    // error, not the caller's.
    catch_unwind(AssertUnwindSafe(|| decode_frame(data, limits, reduction)))
        .unwrap_or_else(|_| Err(corrupt("the decoder failed on this file")))
}

fn decode_frame(data: &[u8], limits: &Limits, reduction: u32) -> Result<Decoded> {
    let budget = usize::try_from(limits.max_memory).unwrap_or(usize::MAX);
    let mut image = JxlImage::builder()
        .pool(JxlThreadPool::none())
        .alloc_tracker(AllocTracker::with_limit(budget))
        .read(Cursor::new(data))
        .map_err(|e| failure(e, limits))?;
    let (w, h) = (image.width(), image.height());
    let side = region_side(&image, limits)?;
    let icc = choose_colour(&mut image);
    let format = image.pixel_format();
    let layout = PixelLayout::of(format.is_grayscale(), format.has_alpha());
    let mut grid = GridReducer::try_new(w, h, layout, reduction, limits)?;
    let mut samples = Vec::new();
    for top in (0..h).step_by(side as usize) {
        for left in (0..w).step_by(side as usize) {
            limits.check_deadline()?;
            let region = CropInfo {
                width: side.min(w - left),
                height: side.min(h - top),
                left,
                top,
            };
            render_region(&mut image, region, layout, &mut samples, limits)?;
            let row = region.width as usize * layout.channels();
            for (y, line) in samples.chunks_exact(row).enumerate() {
                grid.push_span(top as usize + y, left as usize, 1, line);
            }
        }
    }
    Ok(Decoded {
        bitmap: grid.finish()?,
        icc,
        // jxl-oxide renders upright.
        orientation: Orientation::Normal,
        scale: reduction.max(1),
    })
}

/// The side of the square regions to render: the whole image when its render fits the
/// memory limit, 512 when only a region-at-a-time VarDCT render does; refused otherwise.
fn region_side(image: &JxlImage, limits: &Limits) -> Result<u32> {
    let (w, h) = (image.width(), image.height());
    let pixels = u64::from(w) * u64::from(h);
    let whole = pixels * WHOLE_BYTES_PER_PIXEL;
    if whole <= limits.max_memory {
        return Ok(w.max(h));
    }
    let modular = image
        .frame_header(0)
        .is_some_and(|f| f.encoding == Encoding::Modular);
    let extra = !image.image_header().metadata.ec_info.is_empty();
    if modular || extra {
        let what = if modular { "lossless" } else { "with alpha" };
        limits.check_memory(
            format_args!("{NAME} image of {w}x{h} {what} (decoded whole)"),
            whole,
        )?;
    }
    limits.check_memory(
        format_args!("{NAME} image of {w}x{h} (decoded by regions)"),
        region_bytes(pixels),
    )?;
    Ok(REGION)
}

/// Asks for sRGB where jxl-oxide converts by itself (XYB and enumerated colour encodings,
/// HDR tone-mapped); an image described by an ICC profile stays as coded and its profile goes
/// to our colour stage.
fn choose_colour(image: &mut JxlImage) -> Option<Vec<u8>> {
    let meta = &image.image_header().metadata;
    if meta.colour_encoding.want_icc() && !meta.xyb_encoded {
        return image.original_icc().map(<[u8]>::to_vec);
    }
    let intent = RenderingIntent::Relative;
    image.request_color_encoding(if image.pixel_format().is_grayscale() {
        EnumColourEncoding::gray_srgb(intent)
    } else {
        EnumColourEncoding::srgb(intent)
    });
    None
}

/// Renders one upright region of the first frame into `samples`, 8 bits a sample.
fn render_region(
    image: &mut JxlImage,
    region: CropInfo,
    layout: PixelLayout,
    samples: &mut Vec<u8>,
    limits: &Limits,
) -> Result<()> {
    image.set_image_region(region);
    let render = image.render_frame(0).map_err(|e| failure(e, limits))?;
    let mut stream = render.stream();
    if stream.channels() as usize != layout.channels() {
        return Err(corrupt(format!(
            "{} channels rendered for {} expected",
            stream.channels(),
            layout.channels()
        )));
    }
    let len = region.width as usize * region.height as usize * layout.channels();
    samples.clear();
    samples.resize(len, 0);
    let written = stream.write_to_buffer(samples.as_mut_slice());
    if written != len {
        return Err(corrupt(format!("{written} of {len} samples rendered")));
    }
    Ok(())
}

/// jxl-oxide's error as ours: its allocation cap is our memory limit.
fn failure(e: Box<dyn std::error::Error + Send + Sync>, limits: &Limits) -> Error {
    let text = e.to_string();
    // Its allocation failure is a private type, nested in its render errors.
    if format!("{e:?}").contains("OutOfMemory") {
        return Error::OverLimit {
            reason: format!(
                "{NAME} decoding needs more than the memory limit of {} MiB ({text})",
                limits.max_memory >> 20
            ),
        };
    }
    corrupt(text)
}
