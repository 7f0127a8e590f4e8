//! What squid answers when it does not forward: the status line, squid's headers and
//! its English error pages, as Debian's squid 5.7 serves them (the pages' stylesheet,
//! squid's `errorpage.css`, is left out).

use std::fmt::Write as _;

use time::macros::format_description;
use time::OffsetDateTime;

/// The `Server` token and the product in `Via` and page footers.
pub(super) const SQUID: &str = "squid/5.7";

/// The realm squid uses when `auth_param basic realm` is not set.
pub(super) const DEFAULT_REALM: &str = "Squid proxy-caching web server";

/// A squid error page (`X-Squid-Error: <code> <errno>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Page {
    /// ERR_ACCESS_DENIED: the request matched `http_access deny`.
    AccessDenied,
    /// ERR_CACHE_ACCESS_DENIED: proxy authentication missing or wrong (with a 407).
    CacheAccessDenied,
    /// ERR_CONNECT_FAIL: the TCP connection to the origin failed.
    ConnectFail {
        /// errno: 111 refused, 110 timed out, ...
        errno: i32,
        /// `strerror(errno)`.
        text: String,
    },
    /// ERR_DNS_FAIL: the origin's name did not resolve.
    DnsFail {
        /// What the DNS server said (`%z`).
        message: String,
    },
    /// ERR_CANNOT_FORWARD: no path to the origin.
    CannotForward,
    /// ERR_READ_ERROR with `[No Error]` (squid 5's answer to a GET whose name does not
    /// resolve, and a generic 502).
    ReadError,
    /// ERR_READ_TIMEOUT (a generic 504).
    ReadTimeout,
    /// ERR_ZERO_SIZE_OBJECT: the origin closed without answering.
    ZeroSizeObject,
    /// ERR_SECURE_CONNECT_FAIL: TLS to the origin failed (interception).
    SecureConnectFail {
        /// The TLS error code in OpenSSL's spelling.
        tls_code: String,
        /// A one-line detail.
        detail: String,
    },
    /// ERR_INVALID_URL: a request target a forward proxy cannot fetch.
    InvalidUrl,
    /// ERR_UNSUP_REQ: a scheme squid does not proxy here.
    UnsupportedRequest,
    /// ERR_INVALID_REQ: not an HTTP/1.x request.
    InvalidRequest,
}

impl Page {
    /// The page's name (`X-Squid-Error`, `<body id=...>`).
    pub fn code(&self) -> &'static str {
        match self {
            Page::AccessDenied => "ERR_ACCESS_DENIED",
            Page::CacheAccessDenied => "ERR_CACHE_ACCESS_DENIED",
            Page::ConnectFail { .. } => "ERR_CONNECT_FAIL",
            Page::DnsFail { .. } => "ERR_DNS_FAIL",
            Page::CannotForward => "ERR_CANNOT_FORWARD",
            Page::ReadError => "ERR_READ_ERROR",
            Page::ReadTimeout => "ERR_READ_TIMEOUT",
            Page::ZeroSizeObject => "ERR_ZERO_SIZE_OBJECT",
            Page::SecureConnectFail { .. } => "ERR_SECURE_CONNECT_FAIL",
            Page::InvalidUrl => "ERR_INVALID_URL",
            Page::UnsupportedRequest => "ERR_UNSUP_REQ",
            Page::InvalidRequest => "ERR_INVALID_REQ",
        }
    }

    /// The errno squid reports next to the code.
    fn errno(&self) -> i32 {
        match self {
            Page::ConnectFail { errno, .. } => *errno,
            Page::SecureConnectFail { .. } => 71,
            _ => 0,
        }
    }

    /// The `%E` text: `(errno) strerror` or `[No Error]`.
    fn system_message(&self) -> String {
        match self {
            Page::ConnectFail { errno, text } => format!("({errno}) {text}"),
            Page::SecureConnectFail { .. } => "(71) Protocol error".to_string(),
            _ => "[No Error]".to_string(),
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Page::CacheAccessDenied => "ERROR: Cache Access Denied",
            _ => "ERROR: The requested URL could not be retrieved",
        }
    }

    /// The part of the page between `<div id="content">` and the closing `<br>`, with
    /// squid's codes: `%U` URL, `%H` host, `%E` system message, `%R` request line,
    /// `%z` DNS message, `%x` TLS code, `%D` detail.
    fn content(&self) -> String {
        const URL_LINE: &str = "<p>The following error was encountered while trying to retrieve the URL: <a href=\"%U\">%U</a></p>\n\n";
        const ADMIN: &str =
            "<p>Your cache administrator is <a href=\"mailto:webmaster\">webmaster</a>.</p>\n";
        let error = |text: &str| {
            format!("<blockquote id=\"error\">\n<p><b>{text}</b></p>\n</blockquote>\n\n")
        };
        match self {
            Page::AccessDenied => format!(
                "{URL_LINE}{}<p>Access control configuration prevents your request from being allowed at this time. Please contact your service provider if you feel this is incorrect.</p>\n\n{ADMIN}",
                error("Access Denied.")
            ),
            Page::CacheAccessDenied => format!(
                "{URL_LINE}{}<p>Sorry, you are not currently allowed to request %U from this cache until you have authenticated yourself.</p>\n\n<p>Please contact the <a href=\"mailto:webmaster\">cache administrator</a> if you have difficulties authenticating yourself.</p>\n\n",
                error("Cache Access Denied.")
            ),
            Page::ConnectFail { .. } => format!(
                "{URL_LINE}{}<p id=\"sysmsg\">The system returned: <i>%E</i></p>\n\n<p>The remote host or network may be down. Please try the request again.</p>\n\n{ADMIN}\n",
                error("Connection to %H failed.")
            ),
            Page::DnsFail { .. } => format!(
                "{URL_LINE}{}<p>The DNS server returned:</p>\n<blockquote id=\"data\">\n<pre>%z</pre>\n</blockquote>\n\n<p>This means that the cache was not able to resolve the hostname presented in the URL. Check if the address is correct.</p>\n\n{ADMIN}",
                error("Unable to determine IP address from host name <q>%H</q>"),
            ),
            Page::CannotForward => format!(
                "{URL_LINE}{}<p>This request could not be forwarded to the origin server or to any parent caches.</p>\n\n<p>Some possible problems are:</p>\n<ul>\n<li id=\"network-down\">An Internet connection needed to access this domains origin servers may be down.</li>\n<li id=\"no-peer\">All configured parent caches may be currently unreachable.</li>\n<li id=\"permission-denied\">The administrator may not allow this cache to make direct connections to origin servers.</li>\n</ul>\n\n{ADMIN}\n",
                error("Unable to forward this request at this time.")
            ),
            Page::ReadError => format!(
                "{URL_LINE}{}<p id=\"sysmsg\">The system returned: <i>%E</i></p>\n\n<p>An error condition occurred while reading data from the network. Please retry your request.</p>\n\n{ADMIN}",
                error("Read Error")
            ),
            Page::ReadTimeout => format!(
                "{URL_LINE}{}<p id=\"sysmsg\">The system returned: <i>%E</i></p>\n\n<p>A Timeout occurred while waiting to read data from the network. The network or server may be down or congested. Please retry your request.</p>\n\n{ADMIN}",
                error("Read Timeout")
            ),
            Page::ZeroSizeObject => format!(
                "{URL_LINE}{}<p>Squid did not receive any data for this request.</p>\n\n{ADMIN}",
                error("Zero Sized Reply")
            ),
            Page::SecureConnectFail { .. } => format!(
                "{URL_LINE}{}<div id=\"sysmsg\">\n<p>The system returned:</p>\n<blockquote id=\"data\">\n<pre>%E (TLS code: %x)</pre>\n<p>%D</p>\n</blockquote>\n</div>\n\n<p>This proxy and the remote host failed to negotiate a mutually acceptable security settings for handling your request. It is possible that the remote host does not support secure connections, or the proxy is not satisfied with the host security credentials.</p>\n\n{ADMIN}",
                error("Failed to establish a secure connection to %H"),
            ),
            Page::InvalidUrl => format!(
                "{URL_LINE}{}<p>Some aspect of the requested URL is incorrect.</p>\n\n<p>Some possible problems are:</p>\n<ul>\n<li><p>Missing or incorrect access protocol (should be <q>http://</q> or similar)</p></li>\n<li><p>Missing hostname</p></li>\n<li><p>Illegal double-escape in the URL-Path</p></li>\n<li><p>Illegal character in hostname; underscores are not allowed.</p></li>\n</ul>\n\n{ADMIN}",
                error("Invalid URL")
            ),
            Page::UnsupportedRequest => format!(
                "{URL_LINE}{}<p>Squid does not support all request methods for all access protocols. For example, you can not POST a Gopher request.</p>\n\n{ADMIN}",
                error("Unsupported Request Method and Protocol")
            ),
            Page::InvalidRequest => format!(
                "<p><b>Invalid Request</b> error was encountered while trying to process the request:</p>\n\n<blockquote id=\"data\">\n<pre>%R</pre>\n</blockquote>\n\n{ADMIN}"
            ),
        }
    }

    /// The whole HTML page.
    pub fn body(&self, ctx: &PageContext<'_>) -> String {
        let code = self.code();
        let doctype = if matches!(self, Page::CannotForward) {
            "HTML"
        } else {
            "html"
        };
        let h2 = match self {
            Page::CacheAccessDenied => "Cache Access Denied.",
            _ => "The requested URL could not be retrieved",
        };
        let hr = if matches!(self, Page::CacheAccessDenied) {
            "<hr> "
        } else {
            "<hr>"
        };
        let content = expand(&self.content(), |code| match (code, self) {
            ('U', _) => Some(html(ctx.url)),
            ('H', _) => Some(html(ctx.host)),
            ('E', _) => Some(self.system_message()),
            ('R', _) => Some(html(ctx.request_line)),
            ('z', Page::DnsFail { message }) => Some(html(message)),
            ('x', Page::SecureConnectFail { tls_code, .. }) => Some(html(tls_code)),
            ('D', Page::SecureConnectFail { detail, .. }) => Some(html(detail)),
            _ => None,
        });
        format!(
            "<!DOCTYPE {doctype} PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n\
             <html><head>\n\
             <meta type=\"copyright\" content=\"Copyright (C) 1996-2021 The Squid Software Foundation and contributors\">\n\
             <meta http-equiv=\"Content-Type\" {content_attr}=\"text/html; charset=utf-8\">\n\
             <title>{title}</title>\n\
             <style type=\"text/css\"><!-- \n --></style>\n\
             </head><body id={code}>\n\
             <div id=\"titles\">\n<h1>ERROR</h1>\n<h2>{h2}</h2>\n</div>\n<hr>\n\n\
             <div id=\"content\">\n{content}<br>\n</div>\n\n\
             {hr}\n<div id=\"footer\">\n<p>Generated {date} by {hostname} ({SQUID})</p>\n<!-- {code} -->\n</div>\n</body></html>\n",
            title = self.title(),
            // squid's ERR_CONNECT_FAIL template spells this attribute in capitals.
            content_attr = if matches!(self, Page::ConnectFail { .. }) {
                "CONTENT"
            } else {
                "content"
            },
            date = ctx.date,
            hostname = ctx.hostname,
        )
    }
}

/// What a page and its headers mention.
#[derive(Debug)]
pub(super) struct PageContext<'a> {
    /// `%U`: `http://host/path` for a GET; `host:port` for a CONNECT, or
    /// `https://host/*` when the port is 443 (as squid prints it).
    pub url: &'a str,
    /// The origin host (`%H`, and `%I` since the mock does not know the address).
    pub host: &'a str,
    /// The request line (`%R`).
    pub request_line: &'a str,
    /// The HTTP date of the answer.
    pub date: &'a str,
    /// squid's `visible_hostname`.
    pub hostname: &'a str,
    /// The proxy's port, for `X-Cache-Lookup`.
    pub port: u16,
}

/// Which of squid's header sets an error answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// Refused before forwarding (403, 407, 400): `X-Cache-Lookup: NONE`, keep-alive.
    Refused,
    /// A plain-HTTP request that failed while forwarding: `X-Cache-Lookup: MISS`,
    /// keep-alive.
    Forward,
    /// A CONNECT that failed while forwarding: no cache headers, connection closed.
    Tunnel,
}

/// A complete squid error answer (head and page).
pub(super) fn error_response(
    status: u16,
    page: &Page,
    style: Style,
    keep_alive: bool,
    proxy_authenticate: Option<&str>,
    ctx: &PageContext<'_>,
) -> Vec<u8> {
    let body = page.body(ctx);
    let mut head = String::with_capacity(512);
    let _ = write!(
        head,
        "HTTP/1.1 {status} {}\r\nServer: {SQUID}\r\nMime-Version: 1.0\r\nDate: {}\r\n\
         Content-Type: text/html;charset=utf-8\r\nContent-Length: {}\r\n\
         X-Squid-Error: {} {}\r\nVary: Accept-Language\r\nContent-Language: en\r\n",
        reason(status),
        ctx.date,
        body.len(),
        page.code(),
        page.errno(),
    );
    if let Some(realm) = proxy_authenticate {
        let _ = write!(head, "Proxy-Authenticate: Basic realm=\"{realm}\"\r\n");
    }
    if style != Style::Tunnel {
        let lookup = if style == Style::Refused {
            "NONE"
        } else {
            "MISS"
        };
        let _ = write!(
            head,
            "X-Cache: MISS from {h}\r\nX-Cache-Lookup: {lookup} from {h}:{p}\r\nVia: 1.1 {h} ({SQUID})\r\nConnection: {}\r\n",
            if keep_alive { "keep-alive" } else { "close" },
            h = ctx.hostname,
            p = ctx.port,
        );
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// The reason phrase squid writes for `status`.
pub(super) fn reason(status: u16) -> &'static str {
    match status {
        200 => "Connection established",
        _ => hyper::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown"),
    }
}

/// The current time as an HTTP date (`Mon, 23 Nov 2026 11:00:07 GMT`).
pub(super) fn http_date() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .unwrap_or_default()
}

/// Replaces squid's `%X` codes in one pass (so a `%` in a substituted URL stays).
fn expand(template: &str, value: impl Fn(char) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 128);
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(code) => match value(code) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push('%');
                    out.push(code);
                }
            },
            None => out.push('%'),
        }
    }
    out
}

/// Escapes text for HTML.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(url: &'a str) -> PageContext<'a> {
        PageContext {
            url,
            host: "quay.io",
            request_line: "CONNECT quay.io:443 HTTP/1.1",
            date: "Mon, 23 Nov 2026 11:00:12 GMT",
            hostname: "vm",
            port: 3128,
        }
    }

    /// Squid 5.7's ERR_ACCESS_DENIED for a CONNECT to quay.io:443, captured with
    /// `curl -x`, without the stylesheet.
    #[test]
    fn access_denied_matches_squid() {
        let got = error_response(
            403,
            &Page::AccessDenied,
            Style::Refused,
            true,
            None,
            &ctx("https://quay.io/*"),
        );
        let got = String::from_utf8(got).unwrap();
        let (head, body) = got.split_once("\r\n\r\n").unwrap();
        assert_eq!(
            head,
            format!(
                "HTTP/1.1 403 Forbidden\r\nServer: squid/5.7\r\nMime-Version: 1.0\r\n\
                 Date: Mon, 23 Nov 2026 11:00:12 GMT\r\nContent-Type: text/html;charset=utf-8\r\n\
                 Content-Length: {}\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\nVary: Accept-Language\r\n\
                 Content-Language: en\r\nX-Cache: MISS from vm\r\nX-Cache-Lookup: NONE from vm:3128\r\n\
                 Via: 1.1 vm (squid/5.7)\r\nConnection: keep-alive",
                body.len()
            )
        );
        let squid_tail = "</head><body id=ERR_ACCESS_DENIED>\n<div id=\"titles\">\n<h1>ERROR</h1>\n\
            <h2>The requested URL could not be retrieved</h2>\n</div>\n<hr>\n\n<div id=\"content\">\n\
            <p>The following error was encountered while trying to retrieve the URL: \
            <a href=\"https://quay.io/*\">https://quay.io/*</a></p>\n\n<blockquote id=\"error\">\n\
            <p><b>Access Denied.</b></p>\n</blockquote>\n\n<p>Access control configuration prevents \
            your request from being allowed at this time. Please contact your service provider if \
            you feel this is incorrect.</p>\n\n<p>Your cache administrator is \
            <a href=\"mailto:webmaster\">webmaster</a>.</p>\n<br>\n</div>\n\n<hr>\n\
            <div id=\"footer\">\n<p>Generated Mon, 23 Nov 2026 11:00:12 GMT by vm (squid/5.7)</p>\n\
            <!-- ERR_ACCESS_DENIED -->\n</div>\n</body></html>\n";
        assert!(body.ends_with(squid_tail), "{body}");
        assert!(body.starts_with("<!DOCTYPE html PUBLIC"));
    }

    #[test]
    fn connect_fail_names_errno() {
        let page = Page::ConnectFail {
            errno: 111,
            text: "Connection refused".into(),
        };
        let got = error_response(503, &page, Style::Tunnel, false, None, &ctx("quay.io:8098"));
        let got = String::from_utf8(got).unwrap();
        assert!(got.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(got.contains("\r\nX-Squid-Error: ERR_CONNECT_FAIL 111\r\nVary: Accept-Language\r\nContent-Language: en\r\n\r\n"));
        assert!(got.contains("<p><b>Connection to quay.io failed.</b></p>"));
        assert!(got.contains("<i>(111) Connection refused</i>"));
        assert!(
            got.contains("<meta http-equiv=\"Content-Type\" CONTENT=\"text/html; charset=utf-8\">")
        );
        assert!(!got.contains("X-Cache"));
    }

    #[test]
    fn auth_page_and_header() {
        let got = error_response(
            407,
            &Page::CacheAccessDenied,
            Style::Refused,
            true,
            Some(DEFAULT_REALM),
            &ctx("registry.redhat.io:8081"),
        );
        let got = String::from_utf8(got).unwrap();
        assert!(got.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"));
        assert!(got.contains("Content-Language: en\r\nProxy-Authenticate: Basic realm=\"Squid proxy-caching web server\"\r\nX-Cache: MISS"));
        assert!(got.contains("<p>Sorry, you are not currently allowed to request registry.redhat.io:8081 from this cache until you have authenticated yourself.</p>"));
        assert!(got.contains("\n<hr> \n<div id=\"footer\">"));
    }

    #[test]
    fn percent_in_url_is_not_a_code() {
        let page = Page::DnsFail {
            message: "Name Error: The domain name does not exist.".into(),
        };
        let body = page.body(&ctx("http://quay.io/v2/%E2%80%H/"));
        assert!(
            body.contains("<a href=\"http://quay.io/v2/%E2%80%H/\">"),
            "{body}"
        );
        assert!(body.contains("<pre>Name Error: The domain name does not exist.</pre>"));
        assert!(body.contains(
            "<p><b>Unable to determine IP address from host name <q>quay.io</q></b></p>"
        ));
    }

    #[test]
    fn reasons_and_dates() {
        assert_eq!(reason(200), "Connection established");
        assert_eq!(reason(504), "Gateway Timeout");
        assert_eq!(reason(599), "Unknown");
        let date = http_date();
        assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    }
}
