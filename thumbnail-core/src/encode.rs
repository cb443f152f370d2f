//! Encoders: JPEG (jpeg-encoder), PNG (png), WebP (libwebp), AVIF (ravif, pure Rust). No
//! metadata is written.

use jpeg_encoder::{
    ChromaSubsamplingMethod, ColorType, Encoder, QuantizationTableType, SamplingFactor,
};

use crate::error::{Error, Result};
use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::{OutputFormat, Subsampling, ThumbnailSpec};

/// Encodes an RGB or RGBA bitmap as `spec.format`.
pub(crate) fn encode(img: &Bitmap, spec: &ThumbnailSpec) -> Result<Vec<u8>> {
    match spec.format {
        OutputFormat::Jpeg => jpeg(img, spec),
        OutputFormat::Png => png(img),
        OutputFormat::WebP => webp(img, spec.quality),
        OutputFormat::Avif => avif(img, spec.quality),
        other => Err(fail(
            "image",
            format!("{other:?} is not resolved to a format"),
        )),
    }
}

/// rav1e's speed for thumbnails: 1 is slowest, 10 fastest. Measured on the shared photos
/// (one thread, rav1e without assembly, which would need nasm): about 85 ms for a 100x100
/// thumbnail at 8, 53 ms at 10, whose files are 15% larger at 320px. A derivative is made once
/// and then stored and cached, so bytes win.
#[cfg(feature = "avif")]
const AVIF_SPEED: u8 = 8;

#[cfg(feature = "avif")]
fn avif(img: &Bitmap, quality: u8) -> Result<Vec<u8>> {
    use ravif::{Encoder, Img, RGB8, RGBA8};

    let (w, h) = (img.width() as usize, img.height() as usize);
    let encoder = Encoder::new()
        .with_quality(f32::from(quality.clamp(1, 100)))
        .with_alpha_quality(f32::from(quality.clamp(1, 100)))
        .with_speed(AVIF_SPEED)
        // One job, one core: the job limit counts CPUs.
        .with_num_threads(Some(1));
    let data = img.data();
    let stride = img.stride();
    let encoded = match img.layout() {
        PixelLayout::Rgb => {
            let px: Vec<RGB8> = (0..h)
                .flat_map(|y| data[y * stride..y * stride + w * 3].chunks_exact(3))
                .map(|p| RGB8::new(p[0], p[1], p[2]))
                .collect();
            encoder.encode_rgb(Img::new(&px[..], w, h))
        }
        PixelLayout::Rgba => {
            let px: Vec<RGBA8> = (0..h)
                .flat_map(|y| data[y * stride..y * stride + w * 4].chunks_exact(4))
                .map(|p| RGBA8::new(p[0], p[1], p[2], p[3]))
                .collect();
            encoder.encode_rgba(Img::new(&px[..], w, h))
        }
        other => return Err(fail("AVIF", format!("{other:?} pixels"))),
    };
    Ok(encoded.map_err(|e| fail("AVIF", e))?.avif_file)
}

#[cfg(not(feature = "avif"))]
fn avif(_: &Bitmap, _: u8) -> Result<Vec<u8>> {
    Err(fail(
        "AVIF",
        "this build has no AVIF encoder (the `avif` feature)",
    ))
}

fn fail(format: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Encode {
        format,
        reason: e.to_string(),
    }
}

fn jpeg(img: &Bitmap, spec: &ThumbnailSpec) -> Result<Vec<u8>> {
    let color = match img.layout() {
        PixelLayout::Rgb => ColorType::Rgb,
        PixelLayout::Gray => ColorType::Luma,
        other => return Err(fail("JPEG", format!("{other:?} pixels"))),
    };
    let mut out = Vec::with_capacity(img.data().len() / 8 + 1024);
    let mut enc = Encoder::new(&mut out, spec.quality);
    enc.set_sampling_factor(match spec.subsampling {
        Subsampling::S420 => SamplingFactor::F_2_2,
        Subsampling::S444 => SamplingFactor::F_1_1,
    });
    // The default takes the top-left pixel of each chroma block; averaging is libjpeg's choice
    // and visibly cleaner on colour edges.
    enc.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    enc.set_progressive(spec.progressive);
    // N. Robidoux's tables, mozjpeg's default: on the photo corpus at q80 they give SSIM 0.928
    // (mean) where the Annex K tables give 0.923, in 2% fewer bytes.
    enc.set_quantization_tables(
        QuantizationTableType::ImageMagick,
        QuantizationTableType::ImageMagick,
    );
    // Optimised Huffman tables save ~15% but make jpeg-encoder write one scan per component;
    // with 4:2:0 such baseline files are valid yet decoded with wrong colours by zune-jpeg
    // 0.5 (and so by image-rs). Baseline keeps the interleaved standard-table form every decoder
    // reads; progressive files are one scan per component anyway, so they get optimised tables.
    enc.set_optimized_huffman_tables(spec.progressive);
    let (w, h) = (dim16(img.width())?, dim16(img.height())?);
    enc.encode(img.data(), w, h, color)
        .map_err(|e| fail("JPEG", e))?;
    Ok(out)
}

fn dim16(v: u32) -> Result<u16> {
    u16::try_from(v).map_err(|_| fail("JPEG", format!("dimension {v} over 65535")))
}

fn png(img: &Bitmap) -> Result<Vec<u8>> {
    let color = match img.layout() {
        PixelLayout::Gray => png::ColorType::Grayscale,
        PixelLayout::GrayAlpha => png::ColorType::GrayscaleAlpha,
        PixelLayout::Rgb => png::ColorType::Rgb,
        PixelLayout::Rgba => png::ColorType::Rgba,
        PixelLayout::Cmyk => return Err(fail("PNG", "CMYK pixels")),
    };
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, img.width(), img.height());
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Balanced);
    let mut writer = enc.write_header().map_err(|e| fail("PNG", e))?;
    writer
        .write_image_data(img.data())
        .map_err(|e| fail("PNG", e))?;
    writer.finish().map_err(|e| fail("PNG", e))?;
    Ok(out)
}

fn webp(img: &Bitmap, quality: u8) -> Result<Vec<u8>> {
    let (w, h) = (img.width(), img.height());
    if w > 16383 || h > 16383 {
        return Err(fail("WebP", format!("{w}x{h} is over WebP's 16383 limit")));
    }
    let q = f32::from(quality);
    let stride = img.stride() as i32;
    let mut ptr: *mut u8 = std::ptr::null_mut();
    // SAFETY: the pointer and stride describe `img`'s buffer, which outlives the call; libwebp
    // allocates the output, which is copied out and freed with WebPFree below.
    let len = unsafe {
        match img.layout() {
            PixelLayout::Rgb => libwebp_sys::WebPEncodeRGB(
                img.data().as_ptr(),
                w as i32,
                h as i32,
                stride,
                q,
                &mut ptr,
            ),
            PixelLayout::Rgba => libwebp_sys::WebPEncodeRGBA(
                img.data().as_ptr(),
                w as i32,
                h as i32,
                stride,
                q,
                &mut ptr,
            ),
            other => return Err(fail("WebP", format!("{other:?} pixels"))),
        }
    };
    if ptr.is_null() || len == 0 {
        return Err(fail("WebP", "libwebp returned no data"));
    }
    // SAFETY: libwebp returned `len` bytes at `ptr`; they are copied before being freed.
    let bytes = unsafe {
        let v = std::slice::from_raw_parts(ptr, len).to_vec();
        libwebp_sys::WebPFree(ptr.cast());
        v
    };
    Ok(bytes)
}
