//! The HEIF container (ISO/IEC 23008-12), shared by HEIC and AVIF: which item is the picture,
//! how it is tiled, how it is turned, what colour it is in, and where its alpha is. Everything
//! here is read before any pixel is decoded, so the limits are applied to what the file
//! declares.

use heifer_isobmff::boxes::{ColorInfo, Property};
use heifer_isobmff::{HeifFile, ItemId};

use crate::error::{Error, Result};
use crate::orient::Orientation;

/// Derived images nested in each other (a grid of `iden`s of grids...).
const MAX_DEPTH: u32 = 4;

/// The codec of the coded items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    Hevc,
    Av1,
}

impl Codec {
    pub fn format_name(self) -> &'static str {
        match self {
            Codec::Hevc => "HEIC",
            Codec::Av1 => "AVIF",
        }
    }

    fn of(item_type: &[u8; 4]) -> Option<Self> {
        match item_type {
            b"hvc1" | b"hev1" => Some(Codec::Hevc),
            b"av01" => Some(Codec::Av1),
            _ => None,
        }
    }
}

/// How an image item is stored: one coded picture, or a grid of equally sized coded tiles
/// in row order, cropped on the right and bottom to the output size.
#[derive(Debug, Clone)]
pub(super) struct Tiling {
    pub tiles: Vec<ItemId>,
    pub columns: u32,
    pub tile_width: u32,
    pub tile_height: u32,
    /// The image before `clap`: the grid's output size, or the coded picture's `ispe`.
    pub width: u32,
    pub height: u32,
}

/// The colour the coded samples are in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Colour {
    /// ITU-T H.273 code points from an `nclx` property, if there is one.
    pub nclx: Option<Nclx>,
    pub icc: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Nclx {
    pub primaries: u16,
    pub transfer: u16,
    pub matrix: u16,
    pub full_range: bool,
}

/// A crop, in the coordinates of the tiled image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Everything the decoder needs, resolved from the primary item.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub codec: Codec,
    pub tiling: Tiling,
    /// The `clap` crop, when it is not the whole image.
    pub crop: Option<Crop>,
    pub orientation: Orientation,
    pub colour: Colour,
    /// The alpha plane's own tiling, when the image has one.
    pub alpha: Option<Tiling>,
    pub monochrome: bool,
    /// The coded chroma format (0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4), from the codec
    /// configuration; 4:4:4 when it does not say.
    pub chroma_format: u8,
}

impl Layout {
    /// The stored size, after `clap` and before the orientation.
    pub fn size(&self) -> (u32, u32) {
        self.crop
            .map_or((self.tiling.width, self.tiling.height), |c| {
                (c.width, c.height)
            })
    }
}

pub(super) fn corrupt(format: &'static str, e: impl std::fmt::Display) -> Error {
    Error::corrupt(format, e)
}

/// Parses the container and resolves the primary item.
pub(super) fn open<'a>(data: &'a [u8], format: &'static str) -> Result<(HeifFile<'a>, Layout)> {
    super::counts::check(data, format)?;
    let file = HeifFile::parse(data).map_err(|e| corrupt(format, e))?;
    let layout = resolve(&file, format)?;
    Ok((file, layout))
}

fn resolve(file: &HeifFile<'_>, format: &'static str) -> Result<Layout> {
    let bad = |why: &str| corrupt(format, why);
    let primary = file.primary_id;
    let (coded, tiles) = tiling(file, primary, format, 0)?;
    let props: Vec<&Property> = file
        .item_properties(primary)
        .map_err(|e| corrupt(format, e))?
        .collect();
    let item_type = file
        .item(coded)
        .map_err(|e| corrupt(format, e))?
        .item_type
        .0;
    let codec = Codec::of(&item_type).ok_or_else(|| bad("no coded picture"))?;
    let coded_props: Vec<&Property> = file
        .item_properties(coded)
        .map_err(|e| corrupt(format, e))?
        .collect();
    let colour = colour(&props)
        .or_else(|| colour(&coded_props))
        .unwrap_or_default();
    let monochrome = props
        .iter()
        .chain(&coded_props)
        .any(|p| matches!(p, Property::PixelInfo(bits) if bits.len() == 1));
    let crop =
        clean_aperture(&props, tiles.width, tiles.height).map_err(|why| corrupt(format, why))?;
    let orientation = orientation(&props);
    let alpha = alpha_item(file, primary, coded)
        .map(|id| tiling(file, id, format, 0).map(|(_, t)| t))
        .transpose()?;
    let chroma_format = coded_props
        .iter()
        .find_map(|p| match p {
            Property::HevcConfig(c) => Some(c.chroma_format.min(3)),
            Property::Unknown(t, body) if t.0 == *b"av1C" => {
                body.get(2)
                    .map(|f| match (f & 0x10 != 0, f & 0x08 != 0, f & 0x04 != 0) {
                        (true, _, _) => 0,
                        (_, true, true) => 1,
                        (_, true, false) => 2,
                        _ => 3,
                    })
            }
            _ => None,
        })
        .unwrap_or(3);
    Ok(Layout {
        codec,
        tiling: tiles,
        crop,
        orientation,
        colour,
        alpha,
        monochrome,
        chroma_format,
    })
}

/// The tiling of an image item; also the first coded item (which carries the codec).
fn tiling(
    file: &HeifFile<'_>,
    id: ItemId,
    format: &'static str,
    depth: u32,
) -> Result<(ItemId, Tiling)> {
    let bad = |why: String| corrupt(format, why);
    if depth > MAX_DEPTH {
        return Err(bad("derived images nested too deeply".into()));
    }
    let item = file.item(id).map_err(|e| corrupt(format, e))?;
    let size = |id| -> Result<(u32, u32)> {
        match file.image_size(id).map_err(|e| corrupt(format, e))? {
            Some((w, h)) if w > 0 && h > 0 => Ok((w, h)),
            Some((w, h)) => Err(bad(format!("item {id} is {w}x{h} (ispe)"))),
            None => Err(bad(format!("item {id} has no size (ispe)"))),
        }
    };
    match &item.item_type.0 {
        t if Codec::of(t).is_some() => {
            let (width, height) = size(id)?;
            Ok((
                id,
                Tiling {
                    tiles: vec![id],
                    columns: 1,
                    tile_width: width,
                    tile_height: height,
                    width,
                    height,
                },
            ))
        }
        b"iden" => match file.referenced_items(id, b"dimg") {
            [source] => tiling(file, *source, format, depth + 1),
            _ => Err(bad("an iden item without exactly one source".into())),
        },
        b"grid" => {
            let grid = file.grid(id).map_err(|e| corrupt(format, e))?;
            let tiles = file.referenced_items(id, b"dimg").to_vec();
            let (columns, rows) = (u32::from(grid.columns), u32::from(grid.rows));
            if tiles.len() as u64 != u64::from(columns) * u64::from(rows) {
                return Err(bad(format!(
                    "a {columns}x{rows} grid with {} tiles",
                    tiles.len()
                )));
            }
            let first = tiles[0];
            let kind = file
                .item(first)
                .map_err(|e| corrupt(format, e))?
                .item_type
                .0;
            if Codec::of(&kind).is_none() {
                return Err(Error::unsupported(format!(
                    "{format} grid of `{}` items",
                    String::from_utf8_lossy(&kind)
                )));
            }
            let (tw, th) = size(first)?;
            for &t in &tiles[1..] {
                let k = file.item(t).map_err(|e| corrupt(format, e))?.item_type.0;
                if k != kind || size(t)? != (tw, th) {
                    return Err(bad("grid tiles differ in type or size".into()));
                }
            }
            let (w, h) = (grid.output_width, grid.output_height);
            let covers = |n: u32, tile: u32, out: u32| {
                let full = u64::from(n) * u64::from(tile);
                out > 0 && full >= u64::from(out) && full - u64::from(tile) < u64::from(out)
            };
            if !covers(columns, tw, w) || !covers(rows, th, h) {
                return Err(bad(format!(
                    "a {columns}x{rows} grid of {tw}x{th} tiles cannot make {w}x{h}"
                )));
            }
            Ok((
                first,
                Tiling {
                    tiles,
                    columns,
                    tile_width: tw,
                    tile_height: th,
                    width: w,
                    height: h,
                },
            ))
        }
        other => Err(Error::unsupported(format!(
            "{format} image item of type `{}`",
            String::from_utf8_lossy(other)
        ))),
    }
}

fn colour(props: &[&Property]) -> Option<Colour> {
    let mut c = Colour::default();
    for p in props {
        match p {
            Property::Color(ColorInfo::Nclx {
                primaries,
                transfer,
                matrix,
                full_range,
            }) if c.nclx.is_none() => {
                c.nclx = Some(Nclx {
                    primaries: *primaries,
                    transfer: *transfer,
                    matrix: *matrix,
                    full_range: *full_range,
                });
            }
            Property::Color(ColorInfo::Icc(icc)) if c.icc.is_none() => c.icc = Some(icc.clone()),
            _ => {}
        }
    }
    (c != Colour::default()).then_some(c)
}

/// The `clap` crop of a `width` x `height` image, or `None` when there is none or it keeps
/// everything.
fn clean_aperture(
    props: &[&Property],
    width: u32,
    height: u32,
) -> std::result::Result<Option<Crop>, String> {
    let Some((cw, ch, ho, vo)) = props.iter().find_map(|p| match p {
        Property::CleanAperture {
            width,
            height,
            horiz_offset,
            vert_offset,
        } => Some((*width, *height, *horiz_offset, *vert_offset)),
        _ => None,
    }) else {
        return Ok(None);
    };
    let ratio = |(n, d): (u32, u32)| (d != 0).then(|| f64::from(n) / f64::from(d));
    let offset = |(n, d): (i32, u32)| (d != 0).then(|| f64::from(n) / f64::from(d));
    let (Some(cw), Some(ch), Some(ho), Some(vo)) = (ratio(cw), ratio(ch), offset(ho), offset(vo))
    else {
        return Err("clap with a zero denominator".into());
    };
    // ISO/IEC 14496-12: the aperture is centred on the picture's centre plus the offset.
    let left = (ho + (f64::from(width) - 1.0) / 2.0 - (cw - 1.0) / 2.0).round();
    let top = (vo + (f64::from(height) - 1.0) / 2.0 - (ch - 1.0) / 2.0).round();
    let (cw, ch) = (cw.round(), ch.round());
    if left < 0.0
        || top < 0.0
        || cw < 1.0
        || ch < 1.0
        || left + cw > f64::from(width)
        || top + ch > f64::from(height)
    {
        return Err(format!(
            "clap of {cw}x{ch} at {left},{top} is outside the {width}x{height} image"
        ));
    }
    let crop = Crop {
        x: left as u32,
        y: top as u32,
        width: cw as u32,
        height: ch as u32,
    };
    Ok((crop
        != Crop {
            x: 0,
            y: 0,
            width,
            height,
        })
    .then_some(crop))
}

/// `irot` and `imir`, in the order the file lists them, as the EXIF orientation that shows
/// the stored pixels the same way.
fn orientation(props: &[&Property]) -> Orientation {
    let mut t = Turn::IDENTITY;
    for p in props {
        match p {
            Property::Rotation(q) => {
                for _ in 0..(q & 3) {
                    t = t.then(Turn::COUNTER_CLOCKWISE);
                }
            }
            Property::Mirror(true) => t = t.then(Turn::TOP_BOTTOM),
            Property::Mirror(false) => t = t.then(Turn::LEFT_RIGHT),
            _ => {}
        }
    }
    t.orientation()
}

/// A turn or mirror of the plane as a 2x2 matrix on (x, y) with y pointing down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Turn([[i8; 2]; 2]);

impl Turn {
    const IDENTITY: Turn = Turn([[1, 0], [0, 1]]);
    /// A quarter turn counter-clockwise as seen on screen: right goes up.
    const COUNTER_CLOCKWISE: Turn = Turn([[0, 1], [-1, 0]]);
    const TOP_BOTTOM: Turn = Turn([[1, 0], [0, -1]]);
    const LEFT_RIGHT: Turn = Turn([[-1, 0], [0, 1]]);

    /// `self`, then `next`.
    fn then(self, next: Turn) -> Turn {
        let (a, b) = (next.0, self.0);
        let mut m = [[0i8; 2]; 2];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = a[i][0] * b[0][j] + a[i][1] * b[1][j];
            }
        }
        Turn(m)
    }

    /// The EXIF orientation whose display operation is this matrix.
    fn orientation(self) -> Orientation {
        match self.0 {
            [[-1, 0], [0, 1]] => Orientation::FlipHorizontal,
            [[-1, 0], [0, -1]] => Orientation::Rotate180,
            [[1, 0], [0, -1]] => Orientation::FlipVertical,
            [[0, 1], [1, 0]] => Orientation::Transpose,
            [[0, -1], [1, 0]] => Orientation::Rotate90,
            [[0, -1], [-1, 0]] => Orientation::Transverse,
            [[0, 1], [-1, 0]] => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }
}

/// The alpha plane of the primary item: an auxiliary image (`auxl`) of an alpha type,
/// attached to the item or, for a grid, possibly to its first tile.
fn alpha_item(file: &HeifFile<'_>, primary: ItemId, coded: ItemId) -> Option<ItemId> {
    let is_alpha = |id: ItemId| {
        file.item_properties(id).ok().is_some_and(|mut ps| {
            ps.any(|p| {
                matches!(p, Property::AuxiliaryType(t)
                    if t == "urn:mpeg:hevc:2015:auxid:1"
                        || t == "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha")
            })
        })
    };
    let mut candidates = file.referencing_items(primary, b"auxl");
    if coded != primary && candidates.is_empty() {
        candidates = file.referencing_items(coded, b"auxl");
    }
    candidates.into_iter().find(|&id| is_alpha(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_compose_to_exif_orientations() {
        let rot = |n: u8| Property::Rotation(n);
        let cases: [(&[Property], Orientation); 6] = [
            (&[], Orientation::Normal),
            (&[rot(1)], Orientation::Rotate270),
            (&[rot(2)], Orientation::Rotate180),
            (&[rot(3)], Orientation::Rotate90),
            (&[Property::Mirror(false)], Orientation::FlipHorizontal),
            (&[rot(1), Property::Mirror(false)], Orientation::Transverse),
        ];
        for (props, want) in cases {
            let refs: Vec<&Property> = props.iter().collect();
            assert_eq!(orientation(&refs), want, "{props:?}");
        }
    }
}
