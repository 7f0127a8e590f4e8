//! HTTP/1.x message heads as a proxy sees them: read from a byte stream, split into a
//! start line and headers, and the request targets a forward proxy accepts.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest head accepted (squid's default `request_header_max_size` is 64 KB).
const MAX_HEAD: usize = 64 * 1024;

/// Why a head could not be read.
#[derive(Debug)]
pub(super) enum HeadError {
    /// The peer closed or the socket failed in the middle of a head.
    Closed,
    /// The head is not HTTP/1.x or is larger than [`MAX_HEAD`].
    Malformed,
}

/// A start line and its headers, in the order received.
#[derive(Debug, Clone)]
pub(super) struct Head {
    pub start_line: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether any `name` header lists `token` (comma-separated, case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether a message with this head carries a body after it.
    pub fn has_body(&self) -> bool {
        self.get("transfer-encoding").is_some()
            || self
                .get("content-length")
                .is_some_and(|v| v.trim().parse::<u64>().map_or(true, |n| n > 0))
    }

    /// The headers without the hop-by-hop ones (RFC 9110 §7.6.1 plus the proxy ones),
    /// including those the `Connection` header names.
    pub fn end_to_end_headers(&self) -> impl Iterator<Item = &(String, String)> {
        const HOP: [&str; 8] = [
            "connection",
            "keep-alive",
            "proxy-connection",
            "proxy-authorization",
            "proxy-authenticate",
            "te",
            "trailer",
            "upgrade",
        ];
        let named: Vec<String> = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
        self.headers.iter().filter(move |(k, _)| {
            let k = k.to_ascii_lowercase();
            !HOP.contains(&k.as_str()) && !named.contains(&k)
        })
    }
}

/// Reads one head from `r`. `buf` holds bytes already received and, on return, the
/// bytes that followed the head (a body or a TLS ClientHello sent early). `Ok(None)`
/// is a clean close before the first byte.
pub(super) async fn read_head<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> Result<Option<Head>, HeadError> {
    let mut scanned = 0;
    loop {
        // RFC 9112 §2.2: ignore empty lines before a request line.
        let blank = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if blank > 0 {
            buf.drain(..blank);
            scanned = 0;
        }
        if let Some(end) = find_end(buf, scanned) {
            let head = parse(&buf[..end.0])?;
            buf.drain(..end.1);
            return Ok(Some(head));
        }
        if buf.len() > MAX_HEAD {
            return Err(HeadError::Malformed);
        }
        scanned = buf.len().saturating_sub(3);
        let before = buf.len();
        buf.reserve(4096);
        let n = r.read_buf(buf).await.map_err(|_| HeadError::Closed)?;
        if n == 0 {
            return if before == 0 {
                Ok(None)
            } else {
                Err(HeadError::Closed)
            };
        }
    }
}

/// The end of the head in `buf`: (end of the last header line, start of what follows).
fn find_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf.get(i + 1) == Some(&b'\n') {
                return Some((i, i + 2));
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                return Some((i, i + 3));
            }
        }
        i += 1;
    }
    None
}

fn parse(raw: &[u8]) -> Result<Head, HeadError> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start_line = lines.next().unwrap_or_default().to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // Obsolete line folding: continue the previous value.
            let (_, value) = headers.last_mut().ok_or(HeadError::Malformed)?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line.split_once(':').ok_or(HeadError::Malformed)?;
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(HeadError::Malformed);
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok(Head {
        start_line,
        headers,
    })
}

/// A parsed request line.
#[derive(Debug, Clone)]
pub(super) struct RequestLine<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub version: &'a str,
}

impl<'a> RequestLine<'a> {
    /// `METHOD SP target SP HTTP/1.x`, or `None`.
    pub fn parse(line: &'a str) -> Option<Self> {
        let mut parts = line.split(' ');
        let method = parts.next().filter(|m| !m.is_empty())?;
        let target = parts.next().filter(|t| !t.is_empty())?;
        let version = parts.next()?;
        if parts.next().is_some() || !version.starts_with("HTTP/1.") {
            return None;
        }
        Some(Self {
            method,
            target,
            version,
        })
    }
}

/// Splits `host[:port]` or `[v6]:port`; the host is lower-cased, without a trailing dot.
pub(super) fn split_authority(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0)?,
        None => default_port,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b))
    {
        return None;
    }
    Some((host, port))
}

/// An `http://` URL in absolute form, split for forwarding.
#[derive(Debug, Clone)]
pub(super) struct AbsoluteUrl {
    pub host: String,
    pub port: u16,
    /// `host[:port]` as written (without user info), for a missing `Host` header.
    pub authority: String,
    /// The origin-form target: path and query, at least `/`.
    pub origin_form: String,
}

/// Why a request target is not something a forward proxy can fetch.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TargetError {
    /// Not absolute form (`GET /path`): squid's ERR_INVALID_URL.
    NotAbsolute,
    /// Absolute form with a scheme other than `http` (squid's ERR_UNSUP_REQ).
    UnsupportedScheme,
    /// Absolute form with a bad authority (ERR_INVALID_URL).
    BadAuthority,
}

impl AbsoluteUrl {
    /// Parses `http://[user@]host[:port][/path][?query]`.
    pub fn parse(target: &str) -> Result<Self, TargetError> {
        let Some((scheme, rest)) = target.split_once("://") else {
            return Err(TargetError::NotAbsolute);
        };
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(if scheme.bytes().all(|b| b.is_ascii_alphabetic()) {
                TargetError::UnsupportedScheme
            } else {
                TargetError::NotAbsolute
            });
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = split_authority(authority, 80).ok_or(TargetError::BadAuthority)?;
        let path = rest[end..].split('#').next().unwrap_or_default();
        let origin_form = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        Ok(Self {
            host,
            port,
            authority: authority.to_string(),
            origin_form,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_head_and_keeps_what_follows() {
        let mut input: &[u8] =
            b"\r\nCONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nX:  y \r\n\r\n\x16\x03\x01";
        let mut buf = Vec::new();
        let head = read_head(&mut input, &mut buf).await.unwrap().unwrap();
        assert_eq!(head.start_line, "CONNECT a.example:443 HTTP/1.1");
        assert_eq!(head.get("host"), Some("a.example:443"));
        assert_eq!(head.get("x"), Some("y"));
        assert_eq!(buf, b"\x16\x03\x01");
    }

    #[tokio::test]
    async fn bare_newlines_and_eof() {
        let mut input: &[u8] = b"GET http://a/ HTTP/1.0\nHost: a\n\n";
        let mut buf = Vec::new();
        let head = read_head(&mut input, &mut buf).await.unwrap().unwrap();
        assert_eq!(head.headers.len(), 1);
        assert!(read_head(&mut input, &mut buf).await.unwrap().is_none());
        let mut cut: &[u8] = b"GET http://a/ HTTP/1.1\r\nHo";
        assert!(matches!(
            read_head(&mut cut, &mut Vec::new()).await,
            Err(HeadError::Closed)
        ));
    }

    #[test]
    fn authorities() {
        assert_eq!(
            split_authority("Registry.RedHat.io.:443", 80),
            Some(("registry.redhat.io".into(), 443))
        );
        assert_eq!(
            split_authority("[::1]:5000", 80),
            Some(("::1".into(), 5000))
        );
        assert_eq!(
            split_authority("a.example", 443),
            Some(("a.example".into(), 443))
        );
        assert_eq!(split_authority("a.example:0", 443), None);
        assert_eq!(split_authority("a b:1", 443), None);
        assert_eq!(split_authority(":443", 443), None);
    }

    #[test]
    fn absolute_urls() {
        let u = AbsoluteUrl::parse("http://u:p@Insecure.example:5000/v2/x?n=1#f").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("insecure.example", 5000));
        assert_eq!(u.authority, "Insecure.example:5000");
        assert_eq!(u.origin_form, "/v2/x?n=1");
        assert_eq!(AbsoluteUrl::parse("http://a?q").unwrap().origin_form, "/?q");
        assert_eq!(AbsoluteUrl::parse("http://a").unwrap().port, 80);
        assert_eq!(
            AbsoluteUrl::parse("/v2/").unwrap_err(),
            TargetError::NotAbsolute
        );
        assert_eq!(
            AbsoluteUrl::parse("ftp://a/").unwrap_err(),
            TargetError::UnsupportedScheme
        );
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let head = Head {
            start_line: String::new(),
            headers: vec![
                ("Host".into(), "a".into()),
                ("Connection".into(), "keep-alive, X-Private".into()),
                ("X-Private".into(), "1".into()),
                ("Proxy-Authorization".into(), "Basic x".into()),
                ("Accept".into(), "*/*".into()),
            ],
        };
        let kept: Vec<&str> = head.end_to_end_headers().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kept, ["Host", "Accept"]);
        assert!(head.has_token("connection", "KEEP-ALIVE"));
        assert!(!head.has_body());
    }
}
