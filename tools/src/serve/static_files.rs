//! Static files: the dashboard (built into the binary, so `/dashboard/` works
//! from any directory) and the demo site from `--www DIR`, with content types
//! browsers need (`application/wasm` for streaming compilation) and no way out
//! of the directory.

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hyper::body::{Frame, SizeHint};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// The dashboard's files: (name, content).
const DASHBOARD: [(&str, &str); 3] = [
    (
        "index.html",
        include_str!("../../../www/dashboard/index.html"),
    ),
    ("app.js", include_str!("../../../www/dashboard/app.js")),
    (
        "style.css",
        include_str!("../../../www/dashboard/style.css"),
    ),
];

/// The content type of a file name (by extension).
pub fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// The headers every file is served with.
fn file_headers(name: &str) -> [(header::HeaderName, HeaderValue); 3] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(name)),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ]
}

/// A file built into the binary.
fn embedded(name: &str, body: &'static str) -> Response {
    (file_headers(name), Bytes::from_static(body.as_bytes())).into_response()
}

/// A file of the site, streamed from disk (never read whole into memory);
/// for `HEAD`, its headers only (the file is not read). `None` when it
/// cannot be opened or is not a regular file.
async fn on_disk(path: &Path, head: bool, status: StatusCode) -> Option<Response> {
    let file = tokio::fs::File::open(path).await.ok()?;
    let meta = file.metadata().await.ok()?;
    if !meta.is_file() {
        return None;
    }
    let len = meta.len();
    let body = if head {
        Body::empty()
    } else {
        Body::new(FileBody::new(file, len))
    };
    let mut r = (status, file_headers(&path.to_string_lossy()), body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    Some(r)
}

/// Bytes read from a file at a time.
const CHUNK: usize = 64 * 1024;

/// A file's first `left` bytes as a response body, a chunk at a time: a
/// client that reads slowly holds one chunk in memory, not the file.
struct FileBody {
    file: tokio::fs::File,
    left: u64,
    buf: Vec<u8>,
}

impl FileBody {
    fn new(file: tokio::fs::File, len: u64) -> Self {
        FileBody {
            file,
            left: len,
            buf: vec![0; CHUNK],
        }
    }
}

impl HttpBody for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.left).map_or(CHUNK, |l| l.min(CHUNK));
        let Some(space) = this.buf.get_mut(..want) else {
            return Poll::Ready(None);
        };
        let mut read = ReadBuf::new(space);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            // The file got shorter than the Content-Length sent: the
            // response cannot be completed; the connection is closed.
            Poll::Ready(Ok(())) if read.filled().is_empty() => {
                this.left = 0;
                Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was being sent",
                ))))
            }
            Poll::Ready(Ok(())) => {
                let data = Bytes::copy_from_slice(read.filled());
                this.left = this.left.saturating_sub(data.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

fn redirect(to: &str) -> Response {
    let loc = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, loc)]).into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found\n",
    )
        .into_response()
}

/// The site's own 404 page (`404.html` at its root) with status 404, as
/// static hosts and the edge serve it; plain text where it has none.
async fn site_not_found(root: &Path, head: bool) -> Response {
    match on_disk(&root.join("404.html"), head, StatusCode::NOT_FOUND).await {
        Some(r) => r,
        None => not_found(),
    }
}

/// What `OPTIONS` answers for a path that exists.
fn options() -> Response {
    (StatusCode::NO_CONTENT, [(header::ALLOW, ALLOW)]).into_response()
}

/// The methods static files answer.
const ALLOW: &str = "GET, HEAD, OPTIONS";

/// Percent-encodes a path segment for a URL: unreserved characters and the
/// sub-delimiters that are safe in a path stay as they are.
fn encode_segment(seg: &str, out: &mut String) {
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The URL of a directory, from its cleaned relative path (never `//host`,
/// whatever the request's path was).
fn directory_url(rel: &Path) -> String {
    let mut out = String::from("/");
    for c in rel.components() {
        if let Component::Normal(seg) = c {
            encode_segment(&seg.to_string_lossy(), &mut out);
            out.push('/');
        }
    }
    out
}

fn with_query(mut url: String, query: Option<&str>) -> String {
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Decodes `%XX` escapes; `None` for a malformed escape or invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The relative file path a URL path names, or `None` if it tries to leave
/// the directory (`..`, absolute parts, backslashes, NUL) or is malformed.
pub fn safe_relative(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut out = PathBuf::new();
    for seg in decoded.split('/').filter(|s| !s.is_empty() && *s != ".") {
        let p = Path::new(seg);
        match p.components().next() {
            Some(Component::Normal(_)) if p.components().count() == 1 => out.push(seg),
            _ => return None,
        }
    }
    Some(out)
}

/// Serves `GET`/`HEAD` requests that no API route took (and `OPTIONS`:
/// 204 with `Allow` where `GET` would find something, 404 where not).
pub async fn serve(www: Option<&Path>, method: &Method, uri: &Uri) -> Response {
    let options_asked = method == Method::OPTIONS;
    if method != Method::GET && method != Method::HEAD && !options_asked {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, ALLOW)]).into_response();
    }
    let head = method == Method::HEAD;
    let path = uri.path();
    let query = uri.query();
    let moved = |to: &str| {
        if options_asked {
            options()
        } else {
            redirect(&with_query(to.to_string(), query))
        }
    };
    if path == "/dashboard" {
        return moved("/dashboard/");
    }
    if let Some(rest) = path.strip_prefix("/dashboard/") {
        let name = if rest.is_empty() { "index.html" } else { rest };
        return match DASHBOARD.iter().find(|(n, _)| *n == name) {
            Some(_) if options_asked => options(),
            Some((n, body)) => embedded(n, body),
            None => not_found(),
        };
    }
    let Some(root) = www else {
        // No site to serve: the dashboard is the home page.
        return if path == "/" {
            moved("/dashboard/")
        } else {
            not_found()
        };
    };
    let Some(rel) = safe_relative(path) else {
        return site_not_found(root, head).await;
    };
    let mut full = root.join(&rel);
    // Clean URLs, as static hosts and Workers assets serve them: `/pricing`
    // is `pricing.html`, `/blog/why-x` is `blog/why-x.html`.
    if rel.extension().is_none() && !path.ends_with('/') {
        let html = full.with_extension("html");
        if html.is_file() {
            full = html;
        }
    }
    // Symbolic links must not lead outside the directory either: checked
    // before anything is answered about the path (a redirect for a directory
    // outside would tell it exists).
    let Ok(real_root) = tokio::fs::canonicalize(root).await else {
        return not_found();
    };
    let inside = |p: &Path| {
        let p = p.to_path_buf();
        let real_root = real_root.clone();
        async move {
            tokio::fs::canonicalize(&p)
                .await
                .ok()
                .filter(|real| real.starts_with(&real_root))
        }
    };
    let Some(mut real) = inside(&full).await else {
        return site_not_found(root, head).await;
    };
    if real.is_dir() {
        if !path.ends_with('/') {
            return moved(&directory_url(&rel));
        }
        match inside(&real.join("index.html")).await {
            Some(index) => real = index,
            // A site without a home page: the dashboard is the home page.
            None if path == "/" => return moved("/dashboard/"),
            None => return site_not_found(root, head).await,
        }
    }
    if options_asked {
        return if real.is_file() {
            options()
        } else {
            not_found()
        };
    }
    match on_disk(&real, head, StatusCode::OK).await {
        Some(r) => r,
        None => site_not_found(root, head).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_way_out() {
        assert_eq!(safe_relative("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(safe_relative("/"), Some(PathBuf::new()));
        assert_eq!(safe_relative("/a//./b"), Some(PathBuf::from("a/b")));
        for bad in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/etc/passwd",
            "/a/%2E%2E/%2e%2e/x",
            "/..%2fx",
            "/a\\..\\x",
            "/%5c..%5cx",
            "/x%00.js",
            "/%zz",
        ] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("pkg/buyerpath_bg.wasm"), "application/wasm");
        assert_eq!(content_type("index.HTML"), "text/html; charset=utf-8");
        assert_eq!(content_type("app.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
