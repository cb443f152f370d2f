//! What an original is answered as: the image type its first bytes prove, never the type it
//! was stored with. Anything else (HTML, SVG, a script, bytes a presigned upload declared as
//! `image/png`) is a download: `application/octet-stream`, `Content-Disposition: attachment`,
//! so no browser renders it from the API's origin.

use axum::http::{HeaderMap, HeaderValue, header};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use thumbnail_storage::{Answer, Key, Store, StoreError};

/// Enough of the start for every format's signature (a HEIF `ftyp` box lists its brands).
pub(crate) const HEAD_BYTES: u64 = 256;

type Body = BoxStream<'static, Result<Bytes, StoreError>>;

/// The Content-Type of bytes that start with `head`, if they are an image this service reads.
pub(crate) fn image_type(head: &[u8]) -> Option<&'static str> {
    thumbnail_core::sniff(head)
        .ok()
        .map(thumbnail_core::InputFormat::mime)
}

/// The first [`HEAD_BYTES`] of `body` (fewer if it ends first), and a stream that gives every
/// byte, those first.
pub(crate) async fn peek(mut body: Body) -> (Vec<u8>, Body) {
    let mut head = Vec::new();
    let mut taken = Vec::new();
    while (head.len() as u64) < HEAD_BYTES {
        match body.next().await {
            Some(Ok(chunk)) => {
                let want = HEAD_BYTES as usize - head.len();
                head.extend_from_slice(&chunk[..chunk.len().min(want)]);
                taken.push(Ok(chunk));
            }
            Some(Err(e)) => {
                taken.push(Err(e));
                break;
            }
            // An ended stream may not be polled again: what was taken is all there is.
            None => return (head, futures::stream::iter(taken).boxed()),
        }
    }
    (head, futures::stream::iter(taken).chain(body).boxed())
}

/// The first bytes of a stored object of `size` bytes, read on their own (for an answer
/// whose body does not start at the beginning: a range, a redirect).
pub(crate) async fn read_head(
    store: &dyn Store,
    key: &Key,
    size: u64,
) -> Result<Vec<u8>, StoreError> {
    if size == 0 {
        return Ok(Vec::new());
    }
    let obj = store.stream(key, Some(0..size.min(HEAD_BYTES))).await?;
    let (head, _) = peek(obj.body).await;
    Ok(head)
}

/// How a presigned download of bytes that start with `head` must be answered.
pub(crate) fn answer(head: &[u8]) -> Answer {
    Answer::new(image_type(head))
}

/// Content-Type (and, for what is not an image, Content-Disposition) of an original whose
/// first bytes are `head`.
pub(crate) fn put_type(h: &mut HeaderMap, head: &[u8]) {
    let answer = answer(head);
    let typed = [
        (header::CONTENT_TYPE, answer.content_type),
        (header::CONTENT_DISPOSITION, answer.content_disposition),
    ];
    for (name, value) in typed {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert(name, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn peek_gives_every_byte_back() {
        let chunks: Vec<Result<Bytes, StoreError>> =
            (0..100u8).map(|i| Ok(Bytes::from(vec![i; 7]))).collect();
        let (head, body) = peek(futures::stream::iter(chunks).boxed()).await;
        assert_eq!(head.len(), HEAD_BYTES as usize);
        let all: Vec<u8> = body.map(|c| c.unwrap().to_vec()).concat().await;
        assert_eq!(all.len(), 700);
        assert_eq!(&all[..HEAD_BYTES as usize], &head[..]);
    }

    #[tokio::test]
    async fn a_short_body_is_not_polled_past_its_end() {
        let once = futures::stream::unfold(false, |done| async move {
            (!done).then(|| (Ok(Bytes::from_static(b"tiny")), true))
        });
        let (head, body) = peek(once.boxed()).await;
        assert_eq!(head, b"tiny");
        let all: Vec<_> = body.collect().await;
        assert_eq!(all.len(), 1);
    }

    #[test]
    fn only_images_are_images() {
        let mut h = HeaderMap::new();
        put_type(&mut h, b"<html><script>alert(1)</script>");
        assert_eq!(h[header::CONTENT_TYPE], "application/octet-stream");
        assert_eq!(h[header::CONTENT_DISPOSITION], "attachment");
        let mut h = HeaderMap::new();
        put_type(&mut h, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        assert_eq!(h[header::CONTENT_TYPE], "image/png");
        assert!(h.get(header::CONTENT_DISPOSITION).is_none());
    }
}
