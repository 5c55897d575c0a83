//! Content negotiation (RFC 9110 §12.5.1): which of the representations a resource offers the
//! request's `Accept` prefers.

use axum::http::{HeaderMap, header};

/// A representation of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`.
    Json,
    /// `application/pdf`.
    Pdf,
    /// `application/vnd.oasis.ubl+xml`: a UBL 2.1 document.
    Ubl,
    /// `application/xml`: the same UBL 2.1 document, for clients that name XML only.
    Xml,
}

impl MediaType {
    /// The media type's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Pdf => "application/pdf",
            Self::Ubl => "application/vnd.oasis.ubl+xml",
            Self::Xml => "application/xml",
        }
    }

    /// How much the server likes to answer it, in thousandths (Apache's `qs`): `Accept`'s
    /// weight is multiplied by it. Generic XML is the e-invoice too, but a browser's `Accept`
    /// names `application/xml;q=0.9` beside `*/*;q=0.8`, and should still read JSON.
    fn source_quality(self) -> u32 {
        match self {
            Self::Json | Self::Pdf | Self::Ubl => 1000,
            Self::Xml => 850,
        }
    }

    /// A short name for it, as an entity tag's part.
    pub fn short_name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Pdf => "pdf",
            Self::Ubl => "ubl",
            Self::Xml => "xml",
        }
    }
}

/// The representation among `offered` (in the server's order of preference) that `Accept`
/// prefers. Each offered type takes the weight of the most specific range that matches it
/// (`type/subtype` over `type/*` over `*/*`), times its source quality; `q=0` refuses it; the
/// highest weight wins, and a tie goes to the type offered first. Without `Accept`, the first; `None` when `Accept`
/// accepts none of them (406).
pub fn negotiate(headers: &HeaderMap, offered: &[MediaType]) -> Option<MediaType> {
    let ranges: Vec<Range> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(Range::parse)
        .collect();
    if ranges.is_empty() {
        // No Accept, or none that parses: any representation will do.
        return offered.first().copied();
    }
    let mut best: Option<(MediaType, u32)> = None;
    for &media_type in offered {
        let weight = ranges
            .iter()
            .filter_map(|range| range.specificity(media_type).map(|s| (s, range.weight)))
            // The most specific range decides; of equally specific ones, the highest weight.
            .max_by_key(|(specificity, weight)| (*specificity, *weight))
            .map(|(_, weight)| u32::from(weight) * media_type.source_quality());
        if let Some(weight) = weight.filter(|weight| *weight > 0)
            && best.is_none_or(|(_, top)| weight > top)
        {
            best = Some((media_type, weight));
        }
    }
    best.map(|(media_type, _)| media_type)
}

/// One media range of `Accept`, its weight in thousandths.
#[derive(Debug)]
struct Range {
    kind: String,
    subtype: String,
    weight: u16,
}

impl Range {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            return None;
        }
        let mut weight = 1000;
        for parameter in parts {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                weight = parse_weight(value.trim())?;
            }
        }
        Some(Self {
            kind: kind.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            weight,
        })
    }

    /// How closely the range names `media_type` (2 exactly, 1 by type, 0 as `*/*`), if at all.
    fn specificity(&self, media_type: MediaType) -> Option<u8> {
        let (kind, subtype) = media_type.as_str().split_once('/')?;
        match (self.kind.as_str(), self.subtype.as_str()) {
            ("*", "*") => Some(0),
            (k, "*") if k == kind => Some(1),
            (k, s) if k == kind && s == subtype => Some(2),
            _ => None,
        }
    }
}

/// A qvalue, `0` to `1` with at most three decimals, in thousandths.
fn parse_weight(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const BOTH: &[MediaType] = &[MediaType::Json, MediaType::Pdf];

    fn pick(accept: &[&str]) -> Option<MediaType> {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        negotiate(&headers, BOTH)
    }

    #[test]
    fn a_browser_reads_json_and_a_client_naming_xml_reads_the_e_invoice() {
        const DOCUMENTS: &[MediaType] = &[
            MediaType::Json,
            MediaType::Pdf,
            MediaType::Ubl,
            MediaType::Xml,
        ];
        let pick = |accept: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
            negotiate(&headers, DOCUMENTS)
        };
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(pick(browser), Some(MediaType::Json));
        assert_eq!(pick("application/xml"), Some(MediaType::Xml));
        assert_eq!(
            pick("application/xml, application/json;q=0.8"),
            Some(MediaType::Xml)
        );
        // Anything at all at full weight: the server's first choice.
        assert_eq!(pick("application/xml, */*"), Some(MediaType::Json));
        assert_eq!(pick("application/vnd.oasis.ubl+xml"), Some(MediaType::Ubl));
        assert_eq!(pick("*/*"), Some(MediaType::Json));
        assert_eq!(pick("text/xml"), None);
    }

    #[test]
    fn the_preferred_acceptable_type_wins() {
        assert_eq!(pick(&[]), Some(MediaType::Json));
        assert_eq!(pick(&["application/pdf"]), Some(MediaType::Pdf));
        assert_eq!(pick(&["APPLICATION/PDF"]), Some(MediaType::Pdf));
        assert_eq!(pick(&["*/*"]), Some(MediaType::Json));
        assert_eq!(pick(&["application/*"]), Some(MediaType::Json));
        assert_eq!(
            pick(&["application/json;q=0.5, application/pdf"]),
            Some(MediaType::Pdf)
        );
        assert_eq!(
            pick(&["application/pdf;q=0.9", "application/json;q=0.8"]),
            Some(MediaType::Pdf)
        );
        assert_eq!(
            pick(&["application/json; charset=utf-8"]),
            Some(MediaType::Json)
        );
        assert_eq!(pick(&["*/*;q=0.1, application/pdf"]), Some(MediaType::Pdf));
    }

    #[test]
    fn a_more_specific_range_overrides_a_broader_one() {
        assert_eq!(
            pick(&["application/*, application/json;q=0"]),
            Some(MediaType::Pdf)
        );
        assert_eq!(pick(&["*/*, application/pdf;q=0"]), Some(MediaType::Json));
    }

    #[test]
    fn nothing_acceptable_is_none() {
        assert_eq!(pick(&["text/html"]), None);
        assert_eq!(pick(&["image/*"]), None);
        assert_eq!(pick(&["application/pdf;q=0, application/json;q=0"]), None);
        assert_eq!(pick(&["*/*;q=0"]), None);
    }

    #[test]
    fn ranges_that_do_not_parse_are_left_out() {
        assert_eq!(pick(&["nonsense"]), Some(MediaType::Json));
        assert_eq!(pick(&["application/pdf;q=2"]), Some(MediaType::Json));
        assert_eq!(pick(&["*/json"]), Some(MediaType::Json));
        assert_eq!(pick(&["application/pdf;q=0.5000"]), Some(MediaType::Json));
        assert_eq!(parse_weight("0.125"), Some(125));
        assert_eq!(parse_weight("1.000"), Some(1000));
        assert_eq!(parse_weight("1.001"), None);
        assert_eq!(parse_weight("-0"), None);
    }
}
