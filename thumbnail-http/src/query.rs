//! Thumbnail options from a query string, through the core's one option parser.

use axum::http::StatusCode;
use thumbnail_core::ThumbnailSpec;

use crate::AppState;
use crate::error::ApiError;

/// A query string as its pairs, in the order the client wrote them (serde's urlencoded
/// extractor, so percent-decoding and `+` are handled once, by axum).
pub(crate) type Pairs = Vec<(String, String)>;

/// Query parameters that belong to a signed URL, not to the thumbnail: `auth` checks them.
const SIGNATURE_PARAMS: [&str; 2] = ["expires", "signature"];

/// The spec of the default preset (the first), or the engine's default without presets.
pub(crate) fn default_spec(s: &AppState) -> ThumbnailSpec {
    s.0.thumbnailer
        .presets
        .first()
        .map_or_else(ThumbnailSpec::default, |p| p.spec)
}

/// The thumbnail options of a query over `base`, or `None` when the query asks for nothing
/// but `base`. Unknown options are refused, so a typo is not silently ignored; the signature
/// parameters of a signed URL are not options and never reset the ones beside them.
pub(crate) fn spec_from_query(
    s: &AppState,
    base: ThumbnailSpec,
    query: &Pairs,
) -> Result<Option<ThumbnailSpec>, ApiError> {
    let options: Vec<(&str, &str)> = query
        .iter()
        .filter(|(k, _)| !SIGNATURE_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if options.is_empty() {
        return Ok(None);
    }
    let spec = base.with_options(options)?;
    let max = s.0.config.max_dimension;
    if spec.width > max || spec.height > max {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_spec",
            format!(
                "{}x{} is over the largest size allowed here, {max}x{max}",
                spec.width, spec.height
            ),
        ));
    }
    Ok((spec != base).then_some(spec))
}

/// Refuses a query that names an option twice (`width=320&width=500`): which one counts
/// would depend on the reader, and a signature made for one order would hold for the other.
/// Names are compared as decoded (`%77idth` is `width`).
pub(crate) fn refuse_repeated(uri: &axum::http::Uri) -> Result<(), ApiError> {
    if uri.query().is_none_or(str::is_empty) {
        return Ok(());
    }
    let pairs: Pairs = axum::extract::Query::<Pairs>::try_from_uri(uri)
        .map_err(|e| bad_query(&e.body_text()))?
        .0;
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "duplicate_option",
            format!("the query names {:?} more than once", w[0]),
        ));
    }
    Ok(())
}

fn bad_query(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        message.to_string(),
    )
}
