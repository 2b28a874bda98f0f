//! Response compression for the static files: brotli or gzip as the
//! request's `Accept-Encoding` prefers, for compressible types above a
//! small size, never on ranges, 304s or anything already encoded (the
//! live-reload endpoint and proxied responses never come here).
//!
//! Each encoded variant has its own entity tag (`"…-br"`, `"…-gz"`);
//! [`Compressor::prepare`] maps such tags in `If-None-Match` back to the
//! file's own tag before the files decide, so revalidation still answers
//! 304. Whole bodies up to [`MAX_CACHED`] are compressed once per file
//! version (keyed by its entity tag) and kept in a small bounded cache;
//! larger ones are compressed as they stream.

mod cache;
mod negotiate;

use crate::body::ResponseBody;
use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder};
use async_compression::Level;
use bytes::Bytes;
use cache::VariantCache;
use futures_util::TryStreamExt as _;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
pub(crate) use negotiate::worth_compressing;
pub(crate) use negotiate::Encoding;
use negotiate::{base_tags, negotiate, variant_tag};
use std::io::{self, Write as _};
use tokio_util::io::{ReaderStream, StreamReader};

/// Whole bodies up to this size are compressed in memory and cached.
pub(crate) const MAX_CACHED: u64 = 256 * 1024;
/// Bytes the cache of encoded variants may hold.
const CACHE_BUDGET: usize = 32 * 1024 * 1024;
/// Bodies above this are compressed on the blocking pool, not on a server thread.
const BLOCKING_ABOVE: usize = 32 * 1024;
/// Brotli quality: fast enough per request, far better than gzip for text.
const BROTLI_QUALITY: u32 = 5;
/// gzip level.
const GZIP_LEVEL: u32 = 6;

/// `Vary: Accept-Encoding`, on every response whose encoding depends on the request.
pub(crate) const VARY_ENCODING: HeaderValue = HeaderValue::from_static("accept-encoding");

/// What [`Compressor::prepare`] learned from the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Negotiated {
    encoding: Option<Encoding>,
    head: bool,
}

/// Compresses static-file responses; shared by every connection.
#[derive(Debug, Default)]
pub(crate) struct Compressor {
    cache: VariantCache,
}

impl Compressor {
    /// A compressor with an empty cache.
    pub(crate) fn new() -> Compressor {
        Compressor {
            cache: VariantCache::new(CACHE_BUDGET),
        }
    }

    /// Negotiate the encoding, and let the files see variant tags in
    /// `If-None-Match` as their own.
    pub(crate) fn prepare(&self, parts: &mut Parts) -> Negotiated {
        let encoding = negotiate(&parts.headers);
        if let Some(encoding) = encoding {
            let rewritten = parts
                .headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| base_tags(v, encoding))
                .and_then(|v| HeaderValue::from_str(&v).ok());
            if let Some(value) = rewritten {
                parts.headers.insert(header::IF_NONE_MATCH, value);
            }
        }
        Negotiated {
            encoding,
            head: parts.method == http::Method::HEAD,
        }
    }

    /// Encode `response`'s body with `encoding`, as [`settle`] asked.
    pub(crate) async fn encode(
        &self,
        encoding: Encoding,
        response: Response<ResponseBody>,
    ) -> Result<Response<ResponseBody>, EncodeFailed> {
        let (mut parts, body) = response.into_parts();
        let len = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let tag = parts
            .headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        parts.headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(encoding.token()),
        );
        let mut response = match len {
            Some(len) if len <= MAX_CACHED => {
                let whole = match self.whole(encoding, tag.as_deref(), body).await {
                    Ok(bytes) => bytes,
                    Err(error) => return Err(EncodeFailed(error)),
                };
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(whole.len()));
                Response::from_parts(parts, crate::body::full(whole))
            }
            _ => {
                parts.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(parts, streamed(encoding, body))
            }
        };
        retag(&mut response, encoding);
        Ok(response)
    }

    /// The encoded whole body: from the cache, or read, encoded and kept.
    async fn whole(
        &self,
        encoding: Encoding,
        tag: Option<&str>,
        body: ResponseBody,
    ) -> io::Result<Bytes> {
        if let Some(hit) = tag.and_then(|t| self.cache.get(t, encoding)) {
            return Ok(hit);
        }
        let plain = body.collect().await?.to_bytes();
        let encoded = if plain.len() > BLOCKING_ABOVE {
            tokio::task::spawn_blocking(move || encode_bytes(encoding, &plain))
                .await
                .map_err(io::Error::other)??
        } else {
            encode_bytes(encoding, &plain)?
        };
        if let Some(tag) = tag {
            self.cache.insert(tag, encoding, encoded.clone());
        }
        Ok(encoded)
    }
}

/// The response as the browser gets it, short of encoding the body and
/// without waiting: `Vary: Accept-Encoding` wherever the encoding matters,
/// a 304's variant tag. Returns the encoding to apply with
/// [`Compressor::encode`] when the body is worth encoding.
pub(crate) fn settle(
    negotiated: Negotiated,
    response: &mut Response<ResponseBody>,
) -> Option<Encoding> {
    let status = response.status();
    let varies = varies_by_encoding(response.headers());
    if varies && negotiated.encoding.is_none() {
        // Decided where it was built (a cached file's 200): nothing to do.
        return None;
    }
    let candidate = worth_compressing(status, response.headers());
    let revalidated = status == StatusCode::NOT_MODIFIED;
    if (candidate || revalidated) && !varies {
        response.headers_mut().append(header::VARY, VARY_ENCODING);
    }
    let encoding = negotiated.encoding?;
    if revalidated {
        retag(response, encoding);
        return None;
    }
    (candidate && !negotiated.head).then_some(encoding)
}

/// Whether `headers` already say the response varies by `Accept-Encoding`.
fn varies_by_encoding(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(header::VARY)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(VARY_ENCODING.as_bytes()))
}

/// Give the response the variant's entity tag.
fn retag(response: &mut Response<ResponseBody>, encoding: Encoding) {
    let tagged = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| variant_tag(t, encoding))
        .and_then(|t| HeaderValue::from_str(&t).ok());
    if let Some(value) = tagged {
        response.headers_mut().insert(header::ETAG, value);
    }
}

/// `bytes` encoded in one go.
fn encode_bytes(encoding: Encoding, bytes: &[u8]) -> io::Result<Bytes> {
    let mut out = Vec::with_capacity(bytes.len() / 3 + 64);
    match encoding {
        Encoding::Brotli => {
            let mut writer = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, 22);
            writer.write_all(bytes)?;
            writer.flush()?;
        }
        Encoding::Gzip => {
            let mut writer =
                flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(GZIP_LEVEL));
            writer.write_all(bytes)?;
            writer.finish()?;
        }
    }
    Ok(Bytes::from(out))
}

/// `body` encoded as it streams.
fn streamed(encoding: Encoding, body: ResponseBody) -> ResponseBody {
    let reader = StreamReader::new(body.into_data_stream());
    match encoding {
        Encoding::Brotli => frames(BrotliEncoder::with_quality(
            reader,
            Level::Precise(BROTLI_QUALITY as i32),
        )),
        Encoding::Gzip => frames(GzipEncoder::with_quality(
            reader,
            Level::Precise(GZIP_LEVEL as i32),
        )),
    }
}

/// An encoder's output as a body of frames.
fn frames<R>(encoder: R) -> ResponseBody
where
    R: tokio::io::AsyncRead + Send + Sync + 'static,
{
    BodyExt::boxed(StreamBody::new(
        ReaderStream::new(encoder).map_ok(Frame::data),
    ))
}

/// A body that failed while being read for encoding: the file vanished or
/// could not be read mid-way.
#[derive(Debug)]
pub(crate) struct EncodeFailed(io::Error);

impl EncodeFailed {
    /// The answer: a 500, as the files answer such failures (the caller
    /// adds the headers every response carries).
    pub(crate) fn response(&self) -> Response<ResponseBody> {
        tracing::warn!("compressing a response failed: {}", self.0);
        crate::util::plain_text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The file could not be read.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn text_response(body: ResponseBody, len: usize) -> Response<ResponseBody> {
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        headers.insert(header::ETAG, HeaderValue::from_static("\"t\""));
        response
    }

    #[tokio::test]
    async fn a_body_that_fails_mid_way_is_a_failure_with_its_own_500() {
        let frames: Vec<io::Result<Frame<Bytes>>> = vec![
            Ok(Frame::data(Bytes::from(vec![b'a'; 1024]))),
            Err(io::Error::other("the file vanished")),
        ];
        let body = StreamBody::new(stream::iter(frames)).boxed();
        let compressor = Compressor::new();
        let failed = compressor
            .encode(Encoding::Gzip, text_response(body, 4096))
            .await
            .expect_err("a failed read is not an answer");
        let response = failed.response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());

        // The failure left nothing in the cache under the file's tag: the
        // next request gets the whole file, encoded.
        let whole = crate::body::full(vec![b'a'; 4096]);
        let encoded = compressor
            .encode(Encoding::Gzip, text_response(whole, 4096))
            .await
            .expect("encoded");
        assert_eq!(encoded.headers()[header::CONTENT_ENCODING], "gzip");
        let bytes = encoded.into_body().collect().await.expect("body");
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&bytes.to_bytes()[..]),
            &mut decoded,
        )
        .expect("gzip");
        assert_eq!(decoded, vec![b'a'; 4096]);
    }
}
