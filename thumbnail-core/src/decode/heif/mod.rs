//! HEIC and AVIF: the HEIF container, HEVC or AV1 pictures, decoded a tile at a time straight
//! into the reduction, so a 48 MP phone photo (a grid of 512x512 tiles) costs one tile and the
//! reduced image, not the full frame.

#[cfg(feature = "avif-decode")]
mod av1;
mod container;
mod counts;
mod hevc;
mod planes;

use heifer_isobmff::HeifFile;

use self::container::{Codec, Layout, Tiling};
use self::planes::{Converter, Planes};
use super::{ColorModel, Decoded, ImageInfo, icc_description};
use crate::error::{Error, Result};
use crate::format::InputFormat;
use crate::pixels::PixelLayout;
use crate::reduce::GridReducer;
use crate::spec::Limits;

pub(super) fn probe(data: &[u8], format: InputFormat) -> Result<ImageInfo> {
    let (_, layout) = container::open(data, format.name())?;
    let (width, height) = layout.size();
    Ok(ImageInfo {
        format,
        width,
        height,
        orientation: layout.orientation,
        color: if layout.monochrome {
            ColorModel::Gray
        } else {
            ColorModel::Rgb
        },
        has_alpha: layout.alpha.is_some(),
        icc_description: icc_description(layout.colour.icc.as_deref()),
        animated: false,
    })
}

pub(super) fn decode(
    data: &[u8],
    format: InputFormat,
    limits: &Limits,
    reduction: u32,
) -> Result<Decoded> {
    let name = format.name();
    let (file, layout) = container::open(data, name)?;
    let t = &layout.tiling;
    limits.check_pixels(t.width, t.height)?;
    let tile_bytes = picture_bytes(t, layout.chroma_format);
    let whole = t.tiles.len() == 1;
    let what = if whole {
        "a single picture (decoded whole)"
    } else {
        "one tile"
    };
    limits.check_memory(
        format_args!("{name} {what} of {}x{}", t.tile_width, t.tile_height),
        tile_bytes,
    )?;
    let alpha = match &layout.alpha {
        None => Alpha::None,
        Some(a) if same_tiling(a, t) => Alpha::Paired(a),
        Some(a) => {
            if (a.width, a.height) != (t.width, t.height) {
                return Err(Error::unsupported(format!(
                    "{name} alpha plane of {}x{} on a {}x{} image",
                    a.width, a.height, t.width, t.height
                )));
            }
            limits.check_memory(
                format_args!("{name} alpha plane of {}x{}", a.width, a.height),
                tile_bytes + u64::from(a.width) * u64::from(a.height) + picture_bytes(a, 0),
            )?;
            Alpha::Whole(whole_alpha(&file, &layout, a, limits)?)
        }
    };
    let (w, h) = layout.size();
    let pixel = PixelLayout::of(layout.monochrome, layout.alpha.is_some());
    let mut grid = GridReducer::try_new(w, h, pixel, reduction, limits)?;
    let mut converter: Option<Converter> = None;
    for (i, &id) in t.tiles.iter().enumerate() {
        limits.check_deadline()?;
        let planes = decode_picture(&file, &layout, id, t)?;
        let conv = converter.get_or_insert_with(|| Converter::new(layout.colour.nclx, &planes));
        let alpha_planes = match &alpha {
            Alpha::Paired(a) => Some(decode_picture(&file, &layout, a.tiles[i], a)?),
            _ => None,
        };
        let origin = tile_origin(t, i);
        push_tile(
            &mut grid,
            &layout,
            origin,
            conv,
            &planes,
            alpha_planes.as_ref(),
            &alpha,
        );
    }
    let icc = match &converter {
        Some(c) if c.maps_colour() => None,
        _ => colour_profile(&layout),
    };
    Ok(Decoded {
        bitmap: grid.finish()?,
        icc,
        orientation: layout.orientation,
        scale: reduction.max(1),
    })
}

/// Why AV1-coded pictures are refused without the `avif-decode` feature.
#[cfg(not(feature = "avif-decode"))]
const AVIF_OFF: &str = "AVIF (AV1 decoding is not in this build)";

/// Working memory of decoding one picture of a tiling's tile size: its 16-bit samples twice
/// (the picture, and the copy the loop filters work from) and a byte a pixel of block state.
/// Measured: a 3.5 MP 4:2:0 picture peaks at 24 MB over the process's base, this says 25.
fn picture_bytes(t: &Tiling, chroma_format: u8) -> u64 {
    let px = u64::from(t.tile_width.next_multiple_of(64))
        * u64::from(t.tile_height.next_multiple_of(64));
    // Samples a pixel, in halves: 2 (gray), 3 (4:2:0), 4 (4:2:2), 6 (4:4:4).
    let halves = [2, 3, 4, 6][usize::from(chroma_format.min(3))];
    px * halves * 2 + px
}

fn same_tiling(a: &Tiling, b: &Tiling) -> bool {
    (
        a.columns,
        a.tile_width,
        a.tile_height,
        a.width,
        a.height,
        a.tiles.len(),
    ) == (
        b.columns,
        b.tile_width,
        b.tile_height,
        b.width,
        b.height,
        b.tiles.len(),
    )
}

/// Top-left corner of tile `i` in the tiled image.
fn tile_origin(t: &Tiling, i: usize) -> (u32, u32) {
    let (col, row) = (i as u32 % t.columns, i as u32 / t.columns);
    (col * t.tile_width, row * t.tile_height)
}

enum Alpha<'a> {
    None,
    /// Alpha tiled as the colour is: tile `i` of each together.
    Paired(&'a Tiling),
    /// Alpha tiled otherwise, decoded whole first: 8-bit, the tiled image's size.
    Whole(Vec<u8>),
}

/// Decodes one coded picture of `tiling` and checks it covers the tile.
fn decode_picture(
    file: &HeifFile<'_>,
    layout: &Layout,
    id: heifer_isobmff::ItemId,
    tiling: &Tiling,
) -> Result<Planes> {
    let (tw, th) = (tiling.tile_width, tiling.tile_height);
    let max = u64::from(tw.next_multiple_of(64)) * u64::from(th.next_multiple_of(64));
    let planes = match layout.codec {
        Codec::Hevc => hevc::decode(file, id, max)?,
        #[cfg(feature = "avif-decode")]
        Codec::Av1 => av1::decode(file, id, max)?,
        #[cfg(not(feature = "avif-decode"))]
        Codec::Av1 => return Err(Error::unsupported(AVIF_OFF)),
    };
    if planes.width < tw || planes.height < th {
        return Err(Error::corrupt(
            layout.codec.format_name(),
            format!(
                "a coded picture is {}x{}, its item says {tw}x{th}",
                planes.width, planes.height
            ),
        ));
    }
    Ok(planes)
}

/// Converts the part of a tile inside the image (and its crop) and adds it to the reduction.
fn push_tile(
    grid: &mut GridReducer,
    layout: &Layout,
    (x0, y0): (u32, u32),
    conv: &Converter,
    planes: &Planes,
    alpha_tile: Option<&Planes>,
    alpha: &Alpha<'_>,
) {
    let t = &layout.tiling;
    let crop = layout.crop.unwrap_or(container::Crop {
        x: 0,
        y: 0,
        width: t.width,
        height: t.height,
    });
    // The tile's columns and rows that fall inside the crop, in tile coordinates.
    let xs = crop.x.max(x0)..(crop.x + crop.width).min(x0 + t.tile_width);
    let ys = crop.y.max(y0)..(crop.y + crop.height).min(y0 + t.tile_height);
    if xs.is_empty() || ys.is_empty() {
        return;
    }
    let n = xs.end - xs.start;
    let mut rgb = Vec::with_capacity(n as usize * 3);
    let mut row = Vec::with_capacity(n as usize * 4);
    for y in ys {
        rgb.clear();
        conv.row(
            planes,
            y - y0,
            xs.start - x0,
            n,
            layout.monochrome,
            &mut rgb,
        );
        let px = if layout.monochrome { 1 } else { 3 };
        let a: Option<Vec<u8>> = match (alpha, alpha_tile) {
            (Alpha::Paired(_), Some(a)) => Some(alpha_row(a, y - y0, xs.start - x0, n)),
            (Alpha::Whole(plane), _) => {
                let at = y as usize * t.width as usize;
                Some(plane[at + xs.start as usize..at + xs.end as usize].to_vec())
            }
            _ => None,
        };
        let out: &[u8] = match a {
            Some(a) => {
                row.clear();
                for (c, &av) in rgb.chunks_exact(px).zip(&a) {
                    row.extend_from_slice(c);
                    row.push(av);
                }
                &row
            }
            None => &rgb,
        };
        grid.push_span((y - crop.y) as usize, (xs.start - crop.x) as usize, 1, out);
    }
}

/// Row `y` of an alpha picture's luma as 8-bit values (always full range).
fn alpha_row(p: &Planes, y: u32, x0: u32, n: u32) -> Vec<u8> {
    let at = y as usize * p.strides[0] + x0 as usize;
    let shift = u32::from(p.depth) - 8;
    p.planes[0][at..at + n as usize]
        .iter()
        .map(|&v| (v >> shift).min(255) as u8)
        .collect()
}

/// An alpha item tiled differently from the colour, decoded whole into an 8-bit plane.
fn whole_alpha(
    file: &HeifFile<'_>,
    layout: &Layout,
    a: &Tiling,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let (w, h) = (a.width as usize, a.height as usize);
    let mut plane = vec![0u8; w * h];
    for (i, &id) in a.tiles.iter().enumerate() {
        limits.check_deadline()?;
        let p = decode_picture(file, layout, id, a)?;
        let (x0, y0) = tile_origin(a, i);
        let cols = a.tile_width.min(a.width - x0);
        for y in 0..a.tile_height.min(a.height - y0) {
            let row = alpha_row(&p, y, 0, cols);
            let at = (y0 + y) as usize * w + x0 as usize;
            plane[at..at + cols as usize].copy_from_slice(&row);
        }
    }
    Ok(plane)
}

/// The profile the converted rows are in: the file's ICC profile, or one made from its
/// `nclx` primaries when they are not sRGB's (Display P3, BT.2020). HDR transfers are mapped
/// to sRGB by [`Converter`] and never get here.
fn colour_profile(layout: &Layout) -> Option<Vec<u8>> {
    if let Some(icc) = &layout.colour.icc {
        return Some(icc.clone());
    }
    let n = layout.colour.nclx?;
    if matches!(n.primaries, 1 | 2) {
        return None;
    }
    let primaries = moxcms::CicpColorPrimaries::try_from(n.primaries as u8).ok()?;
    // SDR transfers other than sRGB's (BT.709, BT.601, unspecified) are shown as sRGB by
    // browsers and libheif; only the primaries are converted.
    let transfer = moxcms::TransferCharacteristics::Srgb;
    let profile = moxcms::ColorProfile::new_from_cicp(moxcms::CicpProfile {
        color_primaries: primaries,
        transfer_characteristics: transfer,
        matrix_coefficients: moxcms::MatrixCoefficients::Bt709,
        full_range: true,
    });
    profile.encode().ok()
}
