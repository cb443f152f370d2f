//! Resampling with fast_image_resize (SIMD convolution), and placing the result on a canvas.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::error::{Error, Result};
use crate::geometry::Region;
use crate::pixels::{Bitmap, PixelLayout};
use crate::spec::Rgba;

fn pixel_type(layout: PixelLayout) -> PixelType {
    match layout {
        PixelLayout::Gray => PixelType::U8,
        PixelLayout::GrayAlpha => PixelType::U8x2,
        PixelLayout::Rgb => PixelType::U8x3,
        PixelLayout::Rgba | PixelLayout::Cmyk => PixelType::U8x4,
    }
}

/// Resamples `crop` of `src` to `width` x `height` with Lanczos3.
///
/// Alpha is premultiplied during the convolution, so transparent pixels do not bleed colour.
pub(crate) fn resize(src: &Bitmap, crop: Region, width: u32, height: u32) -> Result<Bitmap> {
    let pt = pixel_type(src.layout());
    let fail = |e: &dyn std::fmt::Display| Error::Resize {
        reason: e.to_string(),
    };
    let src_ref = ImageRef::new(src.width(), src.height(), src.data(), pt).map_err(|e| fail(&e))?;
    let mut dst = Image::new(width, height, pt);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(crop.left, crop.top, crop.width, crop.height);
    Resizer::new()
        .resize(&src_ref, &mut dst, &options)
        .map_err(|e| fail(&e))?;
    Bitmap::new(width, height, src.layout(), dst.into_vec())
}

/// Places `img` at `offset` on a `canvas`-sized background, compositing any alpha over it.
///
/// The result is RGBA when the background is not opaque, RGB otherwise.
pub(crate) fn place(img: &Bitmap, canvas: (u32, u32), offset: (u32, u32), bg: Rgba) -> Bitmap {
    let opaque = bg.0[3] == 255;
    let layout = if opaque {
        PixelLayout::Rgb
    } else {
        PixelLayout::Rgba
    };
    let n = layout.channels();
    let mut out =
        Bitmap::filled(canvas.0, canvas.1, layout, &bg.0[..n]).expect("canvas size was validated");
    let stride = out.stride();
    let c = img.layout().channels();
    for (y, row) in img.rows().enumerate() {
        let at = (offset.1 as usize + y) * stride + offset.0 as usize * n;
        let dst = &mut out.data_mut()[at..at + img.width() as usize * n];
        for (d, s) in dst.chunks_exact_mut(n).zip(row.chunks_exact(c)) {
            let src = [s[0], s[1], s[2], if c == 4 { s[3] } else { 255 }];
            over(d, src);
        }
    }
    out
}

/// Flattens RGBA onto an opaque colour; RGB passes through.
pub(crate) fn flatten(img: Bitmap, bg: Rgba) -> Bitmap {
    if img.layout() != PixelLayout::Rgba {
        return img;
    }
    let mut out = Vec::with_capacity(img.width() as usize * img.height() as usize * 3);
    for s in img.data().chunks_exact(4) {
        let mut d = [bg.0[0], bg.0[1], bg.0[2]];
        over(&mut d, [s[0], s[1], s[2], s[3]]);
        out.extend_from_slice(&d);
    }
    Bitmap::new(img.width(), img.height(), PixelLayout::Rgb, out).expect("same pixel count")
}

/// Drops an alpha channel that is 255 everywhere.
pub(crate) fn drop_opaque_alpha(img: Bitmap) -> Bitmap {
    if img.layout() == PixelLayout::Rgba && img.data().chunks_exact(4).all(|p| p[3] == 255) {
        let rgb = img
            .data()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        return Bitmap::new(img.width(), img.height(), PixelLayout::Rgb, rgb)
            .expect("same pixel count");
    }
    img
}

/// Porter-Duff "over" of a straight-alpha `src` onto `dst` (RGB, or RGBA with straight alpha).
fn over(dst: &mut [u8], src: [u8; 4]) {
    let sa = u32::from(src[3]);
    if sa == 255 {
        dst[..3].copy_from_slice(&src[..3]);
        if dst.len() == 4 {
            dst[3] = 255;
        }
        return;
    }
    if sa == 0 {
        return;
    }
    let da = if dst.len() == 4 {
        u32::from(dst[3])
    } else {
        255
    };
    // out_a = sa + da (1 - sa), in 0..=255*255 units.
    let out_a = sa * 255 + da * (255 - sa);
    for i in 0..3 {
        let num = u32::from(src[i]) * sa * 255 + u32::from(dst[i]) * da * (255 - sa);
        dst[i] = ((num + out_a / 2) / out_a) as u8;
    }
    if dst.len() == 4 {
        dst[3] = ((out_a + 127) / 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_blends_and_keeps_opaque() {
        let mut d = [255u8, 255, 255];
        over(&mut d, [0, 0, 0, 128]);
        assert_eq!(d, [127, 127, 127]);
        let mut d = [0u8, 0, 0, 0];
        over(&mut d, [200, 100, 50, 128]);
        assert_eq!(d, [200, 100, 50, 128]);
    }

    #[test]
    fn resize_uniform_stays_uniform() {
        let src = Bitmap::filled(37, 11, PixelLayout::Rgb, &[10, 200, 30]).unwrap();
        let crop = Region {
            left: 0.0,
            top: 0.0,
            width: 37.0,
            height: 11.0,
        };
        let out = resize(&src, crop, 5, 50).unwrap();
        assert!(out.data().chunks_exact(3).all(|p| p == [10, 200, 30]));
    }
}
