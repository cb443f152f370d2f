//! Every text form of a [`ThumbnailSpec`], and the one parser of its options.
//!
//! Presets (`small=64x64,fit=inside`), HTTP query strings (`?size=320x180&format=webp`), CLI
//! flags (`--size 320x180 --format webp`) and the Lambda's presets all go through
//! [`ThumbnailSpec::set`], so an option means the same thing, and is refused the same way,
//! wherever it is written.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::spec::{Fit, Gravity, OutputFormat, Rgba, Subsampling, ThumbnailSpec};

/// The options [`ThumbnailSpec::set`] takes, in the order they are documented.
pub const SPEC_OPTIONS: [&str; 11] = [
    "size",
    "width",
    "height",
    "fit",
    "gravity",
    "format",
    "quality",
    "background",
    "progressive",
    "chroma",
    "dpr",
];

/// The largest device pixel ratio `dpr` takes.
pub const MAX_DPR: f64 = 4.0;

impl ThumbnailSpec {
    /// Sets one option from its text form:
    ///
    /// | option | values |
    /// |---|---|
    /// | `size` | `WxH`, `W` for a square, `Wx` or `xH` for one side (the other [auto](ThumbnailSpec::resolved)) |
    /// | `width`, `height` | one side, in pixels (given alone in [`ThumbnailSpec::with_options`], the other side is auto) |
    /// | `fit` | `cover`, `contain`, `fill`, `inside` |
    /// | `gravity` | `centre`, `north`, `northeast`, ..., `entropy` |
    /// | `format` | `jpeg`, `png`, `webp`, `avif`, `auto` (see [`OutputFormat::Auto`]) |
    /// | `quality` | 1-100 |
    /// | `background` | `#rgb`, `#rrggbb`, `#rrggbbaa`, `white`, `black`, `transparent` |
    /// | `progressive` | `true`/`false` (also `1`/`0`, `yes`/`no`) |
    /// | `chroma` | `420` or `444` (JPEG chroma subsampling) |
    /// | `dpr` | 1-4: multiplies the size; only in [`ThumbnailSpec::with_options`], after the other options |
    ///
    /// Anything else is an [`Error::InvalidSpec`] naming the option. The spec is not checked
    /// as a whole here: [`ThumbnailSpec::with_options`] does that once every option is set.
    ///
    /// ```
    /// use thumbnail_core::{Fit, ThumbnailSpec};
    ///
    /// let mut spec = ThumbnailSpec::default();
    /// spec.set("fit", "contain")?;
    /// spec.set("size", "320x180")?;
    /// assert_eq!((spec.width, spec.height, spec.fit), (320, 180, Fit::Contain));
    /// assert!(spec.set("zoom", "2").is_err());
    /// assert!(spec.set("quality", "high").is_err());
    /// # Ok::<(), thumbnail_core::Error>(())
    /// ```
    pub fn set(&mut self, option: &str, value: &str) -> Result<()> {
        match option {
            "size" => (self.width, self.height) = parse_size(value)?,
            "width" => self.width = dimension("width", value)?,
            "height" => self.height = dimension("height", value)?,
            "fit" => self.fit = value.parse()?,
            "gravity" => self.gravity = value.parse()?,
            "format" => self.format = value.parse()?,
            "background" => self.background = value.parse()?,
            "quality" => {
                self.quality = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|q| (1..=100).contains(q))
                    .ok_or_else(|| invalid(format!("quality {value:?} is not 1-100")))?
            }
            "progressive" => self.progressive = boolean(option, value)?,
            "chroma" => {
                self.subsampling = match value.trim() {
                    "420" | "4:2:0" => Subsampling::S420,
                    "444" | "4:4:4" => Subsampling::S444,
                    _ => return Err(invalid(format!("chroma {value:?} is not 420 or 444"))),
                }
            }
            "dpr" => {
                return Err(invalid(format!(
                    "dpr {value:?} scales the whole size: give it with the other options"
                )));
            }
            other => {
                return Err(invalid(format!(
                    "unknown option {other:?} (expected one of: {})",
                    SPEC_OPTIONS.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// This spec with every `(option, value)` pair [set](ThumbnailSpec::set) in order, then
    /// [validated](ThumbnailSpec::validate). A `width` or `height` given without the other
    /// (and without `size`) leaves the other side auto, from the source's aspect ratio, as
    /// sharp and imgproxy do; `dpr` then multiplies the size (a 160x160 at `dpr=2` is the
    /// 320x320 thumbnail).
    ///
    /// ```
    /// use thumbnail_core::{OutputFormat, ThumbnailSpec};
    ///
    /// let spec = ThumbnailSpec::default().with_options([("format", "webp"), ("quality", "70")])?;
    /// assert_eq!((spec.format, spec.quality, spec.width), (OutputFormat::WebP, 70, 100));
    /// assert!(ThumbnailSpec::default().with_options([("width", "0")]).is_err());
    ///
    /// let wide = ThumbnailSpec::default().with_options([("width", "320")])?;
    /// assert_eq!((wide.width, wide.height), (320, 0));
    /// let retina = ThumbnailSpec::default().with_options([("dpr", "2"), ("size", "160x90")])?;
    /// assert_eq!((retina.width, retina.height), (320, 180));
    /// assert!(ThumbnailSpec::default().with_options([("dpr", "5")]).is_err());
    /// # Ok::<(), thumbnail_core::Error>(())
    /// ```
    pub fn with_options<K, V>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let (mut width, mut height, mut dpr) = (false, false, None);
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            match k {
                "dpr" => dpr = Some(parse_dpr(v)?),
                "size" => (width, height) = (true, true),
                "width" => width = true,
                "height" => height = true,
                _ => {}
            }
            if k != "dpr" {
                self.set(k, v)?;
            }
        }
        match (width, height) {
            (true, false) => self.height = 0,
            (false, true) => self.width = 0,
            _ => {}
        }
        if let Some(dpr) = dpr {
            let scaled = |v: u32| (f64::from(v) * dpr).round().min(f64::from(u32::MAX)) as u32;
            (self.width, self.height) = (scaled(self.width), scaled(self.height));
        }
        self.validate()?;
        Ok(self)
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidSpec(message)
}

fn dimension(name: &str, value: &str) -> Result<u32> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| invalid(format!("{name} {value:?} is not a whole number of pixels")))
}

fn parse_dpr(value: &str) -> Result<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|d| (1.0..=MAX_DPR).contains(d))
        .ok_or_else(|| invalid(format!("dpr {value:?} is not a number from 1 to {MAX_DPR}")))
}

fn boolean(name: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(format!("{name} {value:?} is not true or false"))),
    }
}

macro_rules! text_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal $(| $alias:literal)*),+ $(,)? }) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $($ty::$variant => $name),+ })
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s.to_ascii_lowercase().as_str() {
                    $($name $(| $alias)* => Ok($ty::$variant),)+
                    _ => Err(Error::InvalidSpec(format!(
                        concat!("unknown ", $what, " {:?} (expected one of: {})"),
                        s,
                        [$($name),+].join(", ")
                    ))),
                }
            }
        }
    };
}

text_enum!(Fit, "fit", {
    Cover => "cover" | "crop",
    Contain => "contain" | "pad",
    Fill => "fill" | "stretch",
    Inside => "inside" | "fit",
});

text_enum!(Gravity, "gravity", {
    Centre => "centre" | "center" | "ce" | "c",
    North => "north" | "n" | "top",
    NorthEast => "northeast" | "ne" | "top-right",
    East => "east" | "e" | "right",
    SouthEast => "southeast" | "se" | "bottom-right",
    South => "south" | "s" | "bottom",
    SouthWest => "southwest" | "sw" | "bottom-left",
    West => "west" | "w" | "left",
    NorthWest => "northwest" | "nw" | "top-left",
    Entropy => "entropy" | "smart" | "attention",
});

text_enum!(OutputFormat, "format", {
    Jpeg => "jpeg" | "jpg",
    Png => "png",
    WebP => "webp",
    Avif => "avif",
    Auto => "auto",
});

/// Parses `WxH` (also `W` alone for a square), e.g. `100x100`, `320x180`, `64`; `320x` or
/// `x240` leave the missing side 0, [auto](ThumbnailSpec::resolved).
///
/// ```
/// assert_eq!(thumbnail_core::parse_size("320x180").unwrap(), (320, 180));
/// assert_eq!(thumbnail_core::parse_size("64").unwrap(), (64, 64));
/// assert_eq!(thumbnail_core::parse_size("320x").unwrap(), (320, 0));
/// assert!(thumbnail_core::parse_size("0x10").is_err());
/// assert!(thumbnail_core::parse_size("x").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<(u32, u32)> {
    let bad = || Error::InvalidSpec(format!("size {s:?} is not WxH, e.g. 100x100"));
    let (w, h) = match s.split_once(['x', 'X']) {
        Some((w, h)) => (w, h),
        None => (s, s),
    };
    let side = |name: &str, v: &str| match v.trim() {
        "" => Ok(0),
        v => match v.parse::<u32>() {
            Ok(0) => Err(Error::InvalidSpec(format!(
                "size {s:?}: a {name} of 0 is not allowed (leave the {name} out, as in 320x or x240, \
                 to keep the aspect ratio)"
            ))),
            Ok(v) => Ok(v),
            Err(_) => Err(bad()),
        },
    };
    let (w, h) = (side("width", w)?, side("height", h)?);
    ThumbnailSpec::sized(w, h).validate()?;
    Ok((w, h))
}

impl FromStr for Rgba {
    type Err = Error;

    /// `white`, `black`, `transparent`, `#rgb`, `#rrggbb` or `#rrggbbaa` (the `#` is optional).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "white" => return Ok(Rgba::WHITE),
            "black" => return Ok(Rgba::BLACK),
            "transparent" | "none" => return Ok(Rgba::TRANSPARENT),
            _ => {}
        }
        let hex = s.strip_prefix('#').unwrap_or(s);
        let bad = || Error::InvalidSpec(format!("background {s:?} is not a colour like #ffffff"));
        let digit = |i: usize| {
            hex.get(i..i + 1)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .ok_or_else(bad)
        };
        let byte = |i: usize| Ok::<u8, Error>(digit(i)? * 16 + digit(i + 1)?);
        match hex.len() {
            3 => Ok(Rgba([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17, 255])),
            6 => Ok(Rgba([byte(0)?, byte(2)?, byte(4)?, 255])),
            8 => Ok(Rgba([byte(0)?, byte(2)?, byte(4)?, byte(6)?])),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Rgba {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [r, g, b, a] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}{a:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_text_forms() {
        assert_eq!("COVER".parse::<Fit>().unwrap(), Fit::Cover);
        assert_eq!("center".parse::<Gravity>().unwrap(), Gravity::Centre);
        assert_eq!("jpg".parse::<OutputFormat>().unwrap(), OutputFormat::Jpeg);
        assert!("zoom".parse::<Fit>().is_err());
        assert_eq!("#fff".parse::<Rgba>().unwrap(), Rgba::WHITE);
        assert_eq!("#10203040".parse::<Rgba>().unwrap(), Rgba([16, 32, 48, 64]));
        assert!("#12".parse::<Rgba>().is_err());
        assert!("#ggg".parse::<Rgba>().is_err());
        assert_eq!(parse_size("7X9").unwrap(), (7, 9));
        assert!(parse_size("axb").is_err());
        assert!(parse_size("20000x1").is_err());
    }

    #[test]
    fn every_documented_option_is_taken() {
        let values = [
            "64x32", "64", "32", "inside", "north", "png", "70", "#000", "yes", "444", "2",
        ];
        let spec = ThumbnailSpec::default()
            .with_options(SPEC_OPTIONS.iter().zip(values))
            .unwrap();
        assert_eq!((spec.width, spec.height, spec.fit), (128, 64, Fit::Inside));
        assert_eq!(
            (spec.gravity, spec.format, spec.quality),
            (Gravity::North, OutputFormat::Png, 70)
        );
        assert_eq!((spec.background, spec.progressive), (Rgba::BLACK, true));
        assert_eq!(spec.subsampling, Subsampling::S444);
    }

    #[test]
    fn bad_values_name_their_option() {
        for (option, value) in [
            ("width", "wide"),
            ("quality", "0"),
            ("quality", "101"),
            ("progressive", "maybe"),
            ("chroma", "422"),
            ("fit", "zoom"),
        ] {
            let e = ThumbnailSpec::default()
                .set(option, value)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(option) || e.contains(value),
                "{option}={value}: {e}"
            );
        }
    }
}
