//! Typed, tightly packed 8-bit pixel buffers.

use crate::error::{Error, Result};

/// Channel layout of a [`Bitmap`]. All samples are 8-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PixelLayout {
    Gray,
    GrayAlpha,
    Rgb,
    Rgba,
    /// Ink amounts, 0 = no ink (the ICC convention; Adobe's inverted JPEG storage is undone on
    /// decode).
    Cmyk,
}

impl PixelLayout {
    /// The layout of gray or colour samples, with or without alpha.
    pub(crate) fn of(gray: bool, alpha: bool) -> Self {
        match (gray, alpha) {
            (true, false) => PixelLayout::Gray,
            (true, true) => PixelLayout::GrayAlpha,
            (false, false) => PixelLayout::Rgb,
            (false, true) => PixelLayout::Rgba,
        }
    }

    /// Bytes per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelLayout::Gray => 1,
            PixelLayout::GrayAlpha => 2,
            PixelLayout::Rgb => 3,
            PixelLayout::Rgba | PixelLayout::Cmyk => 4,
        }
    }

    /// Whether the last channel is alpha.
    pub fn has_alpha(self) -> bool {
        matches!(self, PixelLayout::GrayAlpha | PixelLayout::Rgba)
    }
}

/// A decoded image: `width * height * layout.channels()` bytes, rows top to bottom, no padding.
///
/// ```
/// use thumbnail_core::{Bitmap, PixelLayout};
///
/// let bmp = Bitmap::new(2, 1, PixelLayout::Rgb, vec![255, 0, 0, 0, 0, 255]).unwrap();
/// assert_eq!(bmp.pixel(1, 0), &[0, 0, 255]);
/// assert!(Bitmap::new(2, 2, PixelLayout::Rgb, vec![0; 3]).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    layout: PixelLayout,
    data: Vec<u8>,
}

impl std::fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bitmap")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl Bitmap {
    /// Wraps `data`, checking that its length matches the dimensions.
    pub fn new(width: u32, height: u32, layout: PixelLayout, data: Vec<u8>) -> Result<Self> {
        let expected = byte_len(width, height, layout)?;
        if width == 0 || height == 0 || data.len() != expected {
            return Err(Error::corrupt(
                "pixel buffer",
                format!(
                    "{width}x{height} {layout:?} needs {expected} bytes, got {}",
                    data.len()
                ),
            ));
        }
        Ok(Bitmap {
            width,
            height,
            layout,
            data,
        })
    }

    /// A bitmap filled with one pixel value.
    pub fn filled(width: u32, height: u32, layout: PixelLayout, pixel: &[u8]) -> Result<Self> {
        assert_eq!(
            pixel.len(),
            layout.channels(),
            "pixel does not match layout"
        );
        let n = byte_len(width, height, layout)?;
        let data = pixel.iter().copied().cycle().take(n).collect();
        Bitmap::new(width, height, layout, data)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn layout(&self) -> PixelLayout {
        self.layout
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// Bytes per row.
    pub fn stride(&self) -> usize {
        self.width as usize * self.layout.channels()
    }

    /// The samples of the pixel at `(x, y)`. Panics when out of bounds.
    pub fn pixel(&self, x: u32, y: u32) -> &[u8] {
        let c = self.layout.channels();
        let at = (y as usize * self.width as usize + x as usize) * c;
        &self.data[at..at + c]
    }

    /// Rows, top to bottom.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, u8> {
        self.data.chunks_exact(self.stride())
    }
}

/// `width * height * channels`, refusing sizes that overflow `usize`.
pub(crate) fn byte_len(width: u32, height: u32, layout: PixelLayout) -> Result<usize> {
    (width as usize)
        .checked_mul(height as usize)
        .and_then(|n| n.checked_mul(layout.channels()))
        .ok_or_else(|| Error::corrupt("pixel buffer", format!("{width}x{height} overflows")))
}
