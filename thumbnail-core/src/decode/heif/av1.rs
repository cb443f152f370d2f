//! AV1-coded items (`av01`) through rav1d (dav1d in Rust), on the calling thread, one picture
//! at a time. rav1d offers dav1d's C interface only, hence the `unsafe` here: every call is
//! made as dav1d's documentation prescribes, and the picture and data are always released.
//! Our rav1d's entry points unwind (vendor/rav1d/PATCHES.md), so a panic inside it is this
//! stream's error, not the end of the process.

use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use heifer_isobmff::{HeifFile, ItemId};
use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};

use super::planes::Planes;
use crate::error::{Error, Result};

fn corrupt(why: impl std::fmt::Display) -> Error {
    Error::corrupt("AVIF", why)
}

/// A decoder context, closed when dropped.
struct Context(Option<Dav1dContext>);

impl Drop for Context {
    fn drop(&mut self) {
        let ctx = &mut self.0;
        // A context left inconsistent by a panic may panic again on close; that one must not
        // escape a drop that may run while unwinding. What it holds is then lost.
        // SAFETY: the context came from `dav1d_open` and is closed once, here.
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
            dav1d_close(NonNull::new(ctx))
        }));
    }
}

/// The coded picture, released when dropped (a no-op once the decoder consumed it).
struct Data(Dav1dData);

impl Drop for Data {
    fn drop(&mut self) {
        let data = &mut self.0;
        // SAFETY: the data was created by `dav1d_data_create` or is empty; unref takes both.
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
            dav1d_data_unref(NonNull::new(data))
        }));
    }
}

/// Decodes item `id`, a picture of at most `max_pixels` pixels.
pub(super) fn decode(file: &HeifFile<'_>, id: ItemId, max_pixels: u64) -> Result<Planes> {
    let bytes = file.item_data(id).map_err(corrupt)?;
    if bytes.is_empty() {
        return Err(corrupt("an empty coded picture"));
    }
    catch_unwind(|| decode_bytes(&bytes, max_pixels))
        .unwrap_or_else(|_| Err(corrupt("the AV1 decoder failed on this stream")))
}

/// Decodes one coded picture.
fn decode_bytes(bytes: &[u8], max_pixels: u64) -> Result<Planes> {
    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: `dav1d_default_settings` writes every field of the settings.
    let mut settings = unsafe {
        dav1d_default_settings(NonNull::new_unchecked(settings.as_mut_ptr()));
        settings.assume_init()
    };
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    settings.all_layers = 0;
    settings.frame_size_limit = u32::try_from(max_pixels).unwrap_or(u32::MAX).max(1);
    // No logging: dav1d's default logger prints every stream error on stderr, and ours are
    // returned as errors. rav1d does not export the logger's type, only the field.
    settings.logger = no_logger(&settings.logger);
    let mut ctx = Context(None);
    // SAFETY: both pointers are to live locals of the right types.
    let status = unsafe { dav1d_open(NonNull::new(&mut ctx.0), NonNull::new(&mut settings)) };
    if status.0 != 0 || ctx.0.is_none() {
        return Err(Error::OverLimit {
            reason: format!("the AV1 decoder could not start ({})", status.0),
        });
    }
    let mut data = Data(Dav1dData::default());
    // SAFETY: `data` is a live local; the buffer returned has `bytes.len()` bytes, which are
    // all written before it is handed to the decoder.
    unsafe {
        let buf = dav1d_data_create(NonNull::new(&mut data.0), bytes.len());
        if buf.is_null() {
            return Err(corrupt("no memory for the coded picture"));
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
    }
    picture(&ctx, &mut data.0)
}

/// A logger that logs nothing: both of its fields (a cookie and a callback) are optional
/// pointers, and all zeroes is `None` for each.
fn no_logger<T>(_like: &T) -> T {
    // SAFETY: only called on `Dav1dSettings::logger`, a `#[repr(C)]` struct of an
    // `Option<NonNull<_>>` and an `Option<extern "C" fn>`: zero is `None` for both.
    unsafe { std::mem::zeroed() }
}

/// Releases what `dav1d_get_picture` wrote into `pic`, on failure too: rav1d writes an empty
/// picture that still owns one allocation (its ITU-T T.35 list), and its unref writes back
/// another such empty picture. Leaving them leaked 48 bytes a call (found by fuzzing: 2 GB
/// over 800,000 inputs); this drops the last one as well, leaving `pic` owning nothing.
fn release(pic: &mut Dav1dPicture) {
    // SAFETY: `pic` holds a picture written by `dav1d_get_picture` (or an empty one), and
    // unref accepts either. The reference taken afterwards is the one strong count the
    // written-back empty picture holds, released once here; nothing else points to it.
    unsafe {
        dav1d_picture_unref(NonNull::new(pic));
        if let Some(list) = pic.itut_t35_ref.take() {
            drop(list.into_arc());
        }
    }
    pic.itut_t35 = None;
    pic.n_itut_t35 = 0;
}

/// Sends the data and takes the one picture out.
fn picture(ctx: &Context, data: &mut Dav1dData) -> Result<Planes> {
    let mut pic = Dav1dPicture::default();
    // A still image is one temporal unit: a few rounds of send and get are enough. Any
    // failure (an invalid stream, or "again" from a stream that is not one picture) just
    // uses a round; the last error is the one reported.
    let mut last = 0;
    for _ in 0..8 {
        if data.sz > 0 {
            // SAFETY: the context is open and `data` is a live, created buffer.
            last = unsafe { dav1d_send_data(ctx.0, NonNull::new(data)) }.0;
        }
        // SAFETY: the context is open and `pic` is a live local.
        let got = unsafe { dav1d_get_picture(ctx.0, NonNull::new(&mut pic)) }.0;
        let planes = (got == 0).then(|| copy_planes(&pic));
        release(&mut pic);
        if let Some(planes) = planes {
            return planes;
        }
        last = if last == 0 { got } else { last };
    }
    Err(corrupt(format!(
        "the AV1 stream gives no picture (error {last})"
    )))
}

/// The picture's samples as 16-bit planes.
fn copy_planes(pic: &Dav1dPicture) -> Result<Planes> {
    let (w, h) = (pic.p.w, pic.p.h);
    let (Ok(width), Ok(height)) = (u32::try_from(w), u32::try_from(h)) else {
        return Err(corrupt(format!("a picture of {w}x{h}")));
    };
    let depth = u8::try_from(pic.p.bpc).map_err(corrupt)?;
    let shift = match pic.p.layout {
        DAV1D_PIXEL_LAYOUT_I400 => None,
        DAV1D_PIXEL_LAYOUT_I420 => Some((1, 1)),
        DAV1D_PIXEL_LAYOUT_I422 => Some((1, 0)),
        _ => Some((0, 0)),
    };
    let (full_range, matrix) = pic.seq_hdr.map_or((false, 2), |s| {
        // SAFETY: the sequence header lives as long as the picture, which is not yet released.
        let s = unsafe { s.as_ref() };
        (s.color_range != 0, s.mtrx as u16)
    });
    let wide = depth > 8;
    let mut planes: [Vec<u16>; 3] = Default::default();
    let mut strides = [0usize; 3];
    let count = if shift.is_some() { 3 } else { 1 };
    for (i, plane) in planes.iter_mut().enumerate().take(count) {
        let (sx, sy) = if i == 0 {
            (0, 0)
        } else {
            shift.unwrap_or((0, 0))
        };
        let (pw, ph) = ((width + sx) >> sx, (height + sy) >> sy);
        let stride = pic.stride[usize::from(i > 0)];
        let Some(base) = pic.data[i] else {
            return Err(corrupt("a picture without samples"));
        };
        plane.reserve_exact(pw as usize * ph as usize);
        for y in 0..ph as isize {
            // SAFETY: dav1d guarantees `ph` rows of `pw` samples at `stride` bytes apart from
            // the plane's base (the stride may be negative for flipped pictures, never here).
            unsafe {
                let row = base.as_ptr().cast::<u8>().offset(y * stride);
                if wide {
                    let row = std::slice::from_raw_parts(row.cast::<u16>(), pw as usize);
                    plane.extend_from_slice(row);
                } else {
                    let row = std::slice::from_raw_parts(row, pw as usize);
                    plane.extend(row.iter().map(|&v| u16::from(v)));
                }
            }
        }
        strides[i] = pw as usize;
    }
    Ok(Planes {
        width,
        height,
        depth,
        chroma_shift: shift,
        planes,
        strides,
        full_range,
        matrix,
    })
}
