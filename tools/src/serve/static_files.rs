//! Static files: the dashboard (built into the binary, so `/dashboard/` works
//! from any directory) and the demo site from `--www DIR`, with content types
//! browsers need (`application/wasm` for streaming compilation) and no way out
//! of the directory.

use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};

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

fn file(name: &str, body: Vec<u8>) -> Response {
    (
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
        ],
        body,
    )
        .into_response()
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
async fn site_not_found(root: &Path) -> Response {
    match tokio::fs::read(root.join("404.html")).await {
        Ok(body) => {
            let mut r = file("404.html", body);
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
        Err(_) => not_found(),
    }
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

/// Serves `GET`/`HEAD` requests that no API route took.
pub async fn serve(www: Option<&Path>, method: &Method, uri: &Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let path = uri.path();
    if path == "/dashboard" {
        return redirect("/dashboard/");
    }
    if let Some(rest) = path.strip_prefix("/dashboard/") {
        let name = if rest.is_empty() { "index.html" } else { rest };
        return match DASHBOARD.iter().find(|(n, _)| *n == name) {
            Some((n, body)) => file(n, body.as_bytes().to_vec()),
            None => not_found(),
        };
    }
    let Some(root) = www else {
        // No site to serve: the dashboard is the home page.
        return if path == "/" {
            redirect("/dashboard/")
        } else {
            not_found()
        };
    };
    let Some(rel) = safe_relative(path) else {
        return site_not_found(root).await;
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
    if full.is_dir() {
        if !path.ends_with('/') {
            return redirect(&format!("{path}/"));
        }
        full.push("index.html");
    }
    // Symbolic links must not lead outside the directory either.
    let (Ok(real), Ok(real_root)) = (
        tokio::fs::canonicalize(&full).await,
        tokio::fs::canonicalize(root).await,
    ) else {
        return if path == "/" {
            redirect("/dashboard/")
        } else {
            site_not_found(root).await
        };
    };
    if !real.starts_with(&real_root) {
        return site_not_found(root).await;
    }
    match tokio::fs::read(&real).await {
        Ok(body) => file(&real.to_string_lossy(), body),
        Err(_) => site_not_found(root).await,
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
