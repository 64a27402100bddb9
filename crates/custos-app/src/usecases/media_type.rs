//! A document's media type, as the uploader gave it: `type/subtype` with RFC 9110 parameters,
//! checked so that it can be sent back as a `Content-Type` header unchanged.

use crate::AppError;

/// An RFC 9110 token (media type names and parameter names and values).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// A media type such as `text/plain; charset="utf-8"`: `type/subtype`, then parameters whose
/// values are tokens or quoted strings (without quotes, backslashes or controls inside).
pub(crate) fn parse_media_type(raw: &str) -> Result<String, AppError> {
    let t = raw.trim().to_ascii_lowercase();
    let mut parts = t.split(';');
    let essence_ok = parts
        .next()
        .and_then(|e| e.trim().split_once('/'))
        .is_some_and(|(a, b)| is_token(a) && is_token(b));
    let params_ok = parts.all(|p| {
        p.trim().split_once('=').is_some_and(|(name, value)| {
            let quoted = value.len() >= 2
                && value.starts_with('"')
                && value.ends_with('"')
                && !value[1..value.len() - 1]
                    .chars()
                    .any(|c| c == '"' || c == '\\' || c.is_control());
            is_token(name) && (is_token(value) || quoted)
        })
    });
    if t.len() <= 127 && essence_ok && params_ok {
        Ok(t)
    } else {
        Err(AppError::BadInput(format!(
            "`{raw}` is not a media type such as `application/pdf`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_media_type;

    #[test]
    fn media_types_with_token_and_quoted_parameters() {
        for good in [
            "application/pdf",
            "text/plain; charset=utf-8",
            "text/plain; charset=\"utf-8\"",
            "Application/VND.ms-excel",
            "multipart/mixed; boundary=\"a b\"",
        ] {
            assert!(parse_media_type(good).is_ok(), "{good}");
        }
        for bad in [
            "pdf",
            "/pdf",
            "text/",
            "text/plain; charset",
            "text/plain; charset=\"utf-8",
            "text/plain; charset=\"a\"b\"",
            "text/html\r\nx-injected: 1",
            "text/plain; =x",
        ] {
            assert!(parse_media_type(bad).is_err(), "{bad:?}");
        }
    }
}
