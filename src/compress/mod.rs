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

    /// The response as the browser gets it: encoded when worthwhile, its
    /// variant tagged, `Vary: Accept-Encoding` wherever the encoding matters.
    pub(crate) async fn finish(
        &self,
        negotiated: Negotiated,
        mut response: Response<ResponseBody>,
    ) -> Response<ResponseBody> {
        match settle(negotiated, &mut response) {
            Some(encoding) => self.encode(encoding, response).await,
            None => response,
        }
    }

    /// Encode `response`'s body with `encoding`, as [`settle`] asked.
    pub(crate) async fn encode(
        &self,
        encoding: Encoding,
        response: Response<ResponseBody>,
    ) -> Response<ResponseBody> {
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
                    Err(error) => return broken(error),
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
        response
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

/// Everything [`Compressor::finish`] does to `response` short of encoding
/// it, without waiting: `Vary`, a 304's variant tag. Returns the encoding
/// to apply when the body is to be encoded.
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

/// A body that failed while being read for encoding (the file vanished or
/// could not be read mid-way): a 500, as the files answer such failures.
fn broken(error: io::Error) -> Response<ResponseBody> {
    tracing::warn!("compressing a response failed: {error}");
    crate::util::plain_text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The file could not be read.",
    )
}
