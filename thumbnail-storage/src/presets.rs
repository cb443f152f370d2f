//! Named thumbnail specs, from one line of text (an environment variable, a flag).

use std::fmt;

use thumbnail_core::ThumbnailSpec;

/// A named [`ThumbnailSpec`]; its name is part of the thumbnail's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub name: String,
    pub spec: ThumbnailSpec,
}

impl Preset {
    /// The default: `default`, 100x100 cover JPEG q80.
    pub fn default_preset() -> Self {
        Preset {
            name: "default".into(),
            spec: ThumbnailSpec::default(),
        }
    }
}

/// A preset list that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetError(pub String);

impl fmt::Display for PresetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid presets: {}", self.0)
    }
}

impl std::error::Error for PresetError {}

/// Parses `name=WxH[,option=value...]` entries separated by spaces or `;`.
///
/// The options are [`ThumbnailSpec::set`]'s, the same as in query strings and CLI flags:
/// `fit`, `gravity`, `format`, `quality`, `background`, `progressive`, `chroma`.
///
/// ```
/// let presets = thumbnail_storage::parse_presets(
///     "default=100x100 small=64x64,fit=inside wide=320x180,format=webp,quality=70",
/// ).unwrap();
/// assert_eq!(presets.len(), 3);
/// assert_eq!(presets[2].spec.quality, 70);
/// assert!(thumbnail_storage::parse_presets("x=0x10").is_err());
/// assert!(thumbnail_storage::parse_presets("x=10x10,zoom=2").is_err());
/// ```
pub fn parse_presets(text: &str) -> Result<Vec<Preset>, PresetError> {
    let mut out: Vec<Preset> = Vec::new();
    for entry in text.split([' ', ';', '\n', '\t']).filter(|e| !e.is_empty()) {
        let (name, rest) = entry
            .split_once('=')
            .ok_or_else(|| PresetError(format!("{entry:?} is not name=WxH")))?;
        if name.is_empty()
            || name.starts_with('_')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        {
            return Err(PresetError(format!(
                "preset name {name:?} must be letters, digits, - or _, not starting with _"
            )));
        }
        let mut parts = rest.split(',');
        let size = parts.next().unwrap_or_default();
        let options = parts
            .map(|opt| {
                opt.split_once('=')
                    .ok_or_else(|| PresetError(format!("{name}: option {opt:?} is not key=value")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let spec = ThumbnailSpec::default()
            .with_options(std::iter::once(("size", size)).chain(options))
            .map_err(|e| PresetError(format!("{name}: {e}")))?;
        if out.iter().any(|p| p.name == name) {
            return Err(PresetError(format!("preset {name:?} is defined twice")));
        }
        out.push(Preset {
            name: name.to_string(),
            spec,
        });
    }
    if out.is_empty() {
        return Err(PresetError("no presets".into()));
    }
    Ok(out)
}
