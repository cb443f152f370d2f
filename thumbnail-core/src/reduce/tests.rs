//! The reductions against each other and against sums worked by hand.

use super::*;

#[test]
fn averages_blocks_including_partial_edges() {
    // 5x3 gray, factor 2 -> 3x2.
    let src = Bitmap::new(
        5,
        3,
        PixelLayout::Gray,
        vec![
            0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140,
        ],
    )
    .unwrap();
    let out = box_reduce(&src, 2);
    assert_eq!((out.width(), out.height()), (3, 2));
    // (0+10+50+60)/4=30, (20+30+70+80)/4=50, (40+90)/2=65, (100+110)/2=105, 125, 140
    assert_eq!(out.data(), &[30, 50, 65, 105, 125, 140]);
}

#[test]
fn alpha_weights_colour() {
    // A transparent red pixel must not tint an opaque blue one.
    let src = Bitmap::new(2, 1, PixelLayout::Rgba, vec![255, 0, 0, 0, 0, 0, 255, 255]).unwrap();
    let out = box_reduce(&src, 2);
    assert_eq!(out.data(), &[0, 0, 255, 128]);
    let clear = Bitmap::new(1, 1, PixelLayout::Rgba, vec![9, 9, 9, 0]).unwrap();
    assert_eq!(box_reduce(&clear, 4).data(), &[0, 0, 0, 0]);
}

#[test]
fn bottom_up_and_any_order_match_top_down() {
    let (w, h) = (7u32, 11u32);
    // Alpha never 0, where a reduction forgets the colour.
    let data: Vec<u8> = (0..w * h * 4)
        .map(|i| (i * 37 % 251) as u8 | u8::from(i % 4 == 3))
        .collect();
    let src = Bitmap::new(w, h, PixelLayout::Rgba, data).unwrap();
    for f in [1, 2, 3, 4] {
        let expected = if f == 1 {
            src.clone()
        } else {
            box_reduce(&src, f)
        };
        let mut up = BoxReducer::with_order(w, h, PixelLayout::Rgba, f, true);
        for row in src.rows().rev() {
            up.push_row(row);
        }
        assert_eq!(up.finish().unwrap(), expected, "bottom-up, factor {f}");
        // Adam7-like: even columns of every row, then odd columns, rows in reverse.
        let mut grid = GridReducer::new(w, h, PixelLayout::Rgba, f);
        for start in [0, 1] {
            for (y, row) in src.rows().enumerate().rev() {
                let px: Vec<u8> = row
                    .chunks_exact(4)
                    .skip(start)
                    .step_by(2)
                    .flatten()
                    .copied()
                    .collect();
                grid.push_span(y, start, 2, &px);
            }
        }
        assert_eq!(grid.finish().unwrap(), expected, "any order, factor {f}");
    }
}

#[test]
fn contiguous_pieces_at_any_column_match_whole_rows() {
    // Tiles whose edges fall inside cells, pieces running past the right edge, and a
    // piece wholly outside the image, for each channel count the kernels specialise.
    let (w, h) = (13u32, 9u32);
    for layout in [
        PixelLayout::Gray,
        PixelLayout::GrayAlpha,
        PixelLayout::Rgb,
        PixelLayout::Rgba,
        PixelLayout::Cmyk,
    ] {
        let c = layout.channels();
        let data: Vec<u8> = (0..w as usize * h as usize * c)
            .map(|i| (i * 73 % 251) as u8 | 1)
            .collect();
        let src = Bitmap::new(w, h, layout, data).unwrap();
        for f in [2, 3, 4, 5] {
            let mut grid = GridReducer::new(w, h, layout, f);
            for (y, row) in src.rows().enumerate() {
                let mut padded = row.to_vec();
                padded.extend(std::iter::repeat_n(200, 4 * c));
                let mut x = 0;
                for piece in [3, 5, 1, 7].iter().cycle() {
                    if x >= w as usize {
                        break;
                    }
                    grid.push_span(y, x, 1, &padded[x * c..(x + piece) * c]);
                    x += piece;
                }
                grid.push_span(y, w as usize + 6, 1, &padded[..2 * c]);
            }
            // Pixel by pixel (step 2 never takes the cell-by-cell kernels).
            let mut scattered = GridReducer::new(w, h, layout, f);
            for (y, row) in src.rows().enumerate() {
                for start in [0, 1] {
                    let px: Vec<u8> = row
                        .chunks_exact(c)
                        .skip(start)
                        .step_by(2)
                        .flatten()
                        .copied()
                        .collect();
                    scattered.push_span(y, start, 2, &px);
                }
            }
            let expected = scattered.finish().unwrap();
            assert_eq!(grid.finish().unwrap(), expected, "{layout:?}, factor {f}");
            assert_eq!(box_reduce(&src, f), expected, "{layout:?}, factor {f}");
        }
    }
}

#[test]
fn uniform_stays_uniform_at_max_factor() {
    // 255 rows of 255 in a band: the most a 16-bit column sum holds.
    for (layout, px) in [
        (PixelLayout::Rgba, &[255; 4][..]),
        (PixelLayout::Rgb, &[255; 3]),
    ] {
        let src = Bitmap::filled(600, 300, layout, px).unwrap();
        let out = box_reduce(&src, MAX_FACTOR);
        assert_eq!((out.width(), out.height()), (3, 2));
        assert!(out.data().iter().all(|&v| v == 255), "{layout:?}");
    }
}
