//! EXIF orientation: how the stored pixels must be turned to be shown upright.

use crate::pixels::Bitmap;

/// The eight EXIF orientations (tag 0x0112).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Orientation {
    /// 1: stored upright.
    #[default]
    Normal,
    /// 2: mirrored left-right.
    FlipHorizontal,
    /// 3: upside down.
    Rotate180,
    /// 4: mirrored top-bottom.
    FlipVertical,
    /// 5: mirrored along the top-left to bottom-right diagonal.
    Transpose,
    /// 6: must be turned 90 degrees clockwise to be upright.
    Rotate90,
    /// 7: mirrored along the top-right to bottom-left diagonal.
    Transverse,
    /// 8: must be turned 90 degrees counter-clockwise (270 clockwise) to be upright.
    Rotate270,
}

impl Orientation {
    /// From the EXIF value 1..=8.
    pub fn from_exif(value: u8) -> Option<Self> {
        Some(match value {
            1 => Orientation::Normal,
            2 => Orientation::FlipHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => return None,
        })
    }

    /// The EXIF value 1..=8.
    pub fn exif_value(self) -> u8 {
        match self {
            Orientation::Normal => 1,
            Orientation::FlipHorizontal => 2,
            Orientation::Rotate180 => 3,
            Orientation::FlipVertical => 4,
            Orientation::Transpose => 5,
            Orientation::Rotate90 => 6,
            Orientation::Transverse => 7,
            Orientation::Rotate270 => 8,
        }
    }

    /// Whether the upright image has width and height exchanged.
    pub fn swaps_dimensions(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }

    /// Upright dimensions of a `width` x `height` stored image.
    pub fn upright(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_dimensions() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Returns the upright image.
    pub fn apply(self, src: Bitmap) -> Bitmap {
        if self == Orientation::Normal {
            return src;
        }
        match src.layout().channels() {
            1 => self.apply_n::<1>(src),
            2 => self.apply_n::<2>(src),
            3 => self.apply_n::<3>(src),
            _ => self.apply_n::<4>(src),
        }
    }

    fn apply_n<const N: usize>(self, src: Bitmap) -> Bitmap {
        let (w, h) = (src.width() as usize, src.height() as usize);
        let (ow, oh) = self.upright(src.width(), src.height());
        let (ow, oh) = (ow as usize, oh as usize);
        let s = src.data();
        let mut out = vec![0u8; s.len()];
        for (y2, row) in out.chunks_exact_mut(ow * N).enumerate() {
            for (x2, px) in row.chunks_exact_mut(N).enumerate() {
                // (x, y) in the stored image that lands at (x2, y2) in the upright one.
                let (x, y) = match self {
                    Orientation::Normal => (x2, y2),
                    Orientation::FlipHorizontal => (w - 1 - x2, y2),
                    Orientation::Rotate180 => (w - 1 - x2, h - 1 - y2),
                    Orientation::FlipVertical => (x2, h - 1 - y2),
                    Orientation::Transpose => (y2, x2),
                    Orientation::Rotate90 => (y2, h - 1 - x2),
                    Orientation::Transverse => (w - 1 - y2, h - 1 - x2),
                    Orientation::Rotate270 => (w - 1 - y2, x2),
                };
                let at = (y * w + x) * N;
                px.copy_from_slice(&s[at..at + N]);
            }
        }
        let _ = oh;
        Bitmap::new(ow as u32, oh as u32, src.layout(), out)
            .expect("orientation keeps the pixel count")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixels::PixelLayout;

    /// A 3x2 image whose pixels are their own indices 0..6.
    fn numbered() -> Bitmap {
        Bitmap::new(3, 2, PixelLayout::Gray, (0..6).collect()).unwrap()
    }

    #[test]
    fn each_orientation_maps_pixels_as_exif_defines() {
        // Stored:      Upright (what a viewer shows) per EXIF definition:
        //  0 1 2
        //  3 4 5
        let cases: [(u8, (u32, u32), &[u8]); 8] = [
            (1, (3, 2), &[0, 1, 2, 3, 4, 5]),
            (2, (3, 2), &[2, 1, 0, 5, 4, 3]),
            (3, (3, 2), &[5, 4, 3, 2, 1, 0]),
            (4, (3, 2), &[3, 4, 5, 0, 1, 2]),
            (5, (2, 3), &[0, 3, 1, 4, 2, 5]),
            (6, (2, 3), &[3, 0, 4, 1, 5, 2]),
            (7, (2, 3), &[5, 2, 4, 1, 3, 0]),
            (8, (2, 3), &[2, 5, 1, 4, 0, 3]),
        ];
        for (v, dims, want) in cases {
            let o = Orientation::from_exif(v).unwrap();
            let got = o.apply(numbered());
            assert_eq!((got.width(), got.height()), dims, "orientation {v}");
            assert_eq!(got.data(), want, "orientation {v}");
            assert_eq!(o.exif_value(), v);
        }
    }
}
