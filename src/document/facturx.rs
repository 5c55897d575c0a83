//! Factur-X (ZUGFeRD 2): the invoice's PDF as a PDF/A-3 that carries its CII XML as
//! `factur-x.xml`, an alternative representation of the same invoice, and says so in its XMP
//! metadata, where Factur-X readers look for it.
//!
//! The PDF library writes the PDF/A metadata but knows nothing of Factur-X's extension schema,
//! so the finished file's XMP packet is given it here: the new properties go in, the packet's
//! stream length and every object offset after it move by what was added.

use chrono::{DateTime, Datelike, Timelike, Utc};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::metadata;

/// The file name Factur-X readers look for.
pub const FILE_NAME: &str = "factur-x.xml";
const NAMESPACE: &str = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#";

/// What a Factur-X PDF carries besides its pages.
#[derive(Debug, Clone, Copy)]
pub struct FacturX<'a> {
    /// The CII XML.
    pub xml: &'a str,
    /// When the XML last changed.
    pub modified: DateTime<Utc>,
}

impl FacturX<'_> {
    /// The XML as the PDF embeds it.
    pub(super) fn embedded_file(&self) -> EmbeddedFile {
        EmbeddedFile {
            path: FILE_NAME.to_owned(),
            mime_type: MimeType::new("text/xml"),
            description: Some("Factur-X invoice, EN 16931 profile".to_owned()),
            association_kind: AssociationKind::Alternative,
            data: self.xml.as_bytes().to_vec().into(),
            modification_date: Some(self.date()),
            compress: Some(true),
            location: None,
        }
    }
}

impl FacturX<'_> {
    /// When the XML last changed, as the PDF writes dates; PDF/A wants the document dated too.
    pub(super) fn date(&self) -> metadata::DateTime {
        let at = self.modified;
        // Narrowing is exact: each field is within its calendar range.
        metadata::DateTime::new(u16::try_from(at.year()).unwrap_or(9999))
            .month(at.month() as u8)
            .day(at.day() as u8)
            .hour(at.hour() as u8)
            .minute(at.minute() as u8)
            .second(at.second() as u8)
            .utc_offset_hour(0)
            .utc_offset_minute(0)
    }
}

/// The RDF that tells a reader the PDF is a Factur-X invoice of the EN 16931 profile, with
/// the PDF/A extension schema that declares its properties.
fn factur_x_rdf() -> String {
    let property = |name: &str, description: &str| {
        format!(
            "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>{name}</pdfaProperty:name>\
             <pdfaProperty:valueType>Text</pdfaProperty:valueType>\
             <pdfaProperty:category>external</pdfaProperty:category>\
             <pdfaProperty:description>{description}</pdfaProperty:description></rdf:li>"
        )
    };
    let properties = [
        property("DocumentFileName", "The name of the embedded XML document"),
        property(
            "DocumentType",
            "The type of the hybrid document in capital letters",
        ),
        property(
            "Version",
            "The version of the standard applying to the embedded XML",
        ),
        property(
            "ConformanceLevel",
            "The conformance level of the embedded XML",
        ),
    ]
    .concat();
    format!(
        "<rdf:Description rdf:about=\"\" \
         xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\" \
         xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\" \
         xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\
         <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">\
         <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>\
         <pdfaSchema:namespaceURI>{NAMESPACE}</pdfaSchema:namespaceURI>\
         <pdfaSchema:prefix>fx</pdfaSchema:prefix>\
         <pdfaSchema:property><rdf:Seq>{properties}</rdf:Seq></pdfaSchema:property>\
         </rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>\
         <rdf:Description rdf:about=\"\" xmlns:fx=\"{NAMESPACE}\">\
         <fx:DocumentType>INVOICE</fx:DocumentType>\
         <fx:DocumentFileName>{FILE_NAME}</fx:DocumentFileName>\
         <fx:Version>1.0</fx:Version>\
         <fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>\
         </rdf:Description>"
    )
}

/// The PDF with Factur-X's properties added to its XMP packet.
pub(super) fn declare(pdf: Vec<u8>) -> Result<Vec<u8>, String> {
    add_to_xmp(pdf, factur_x_rdf().as_bytes())
}

/// Inserts `rdf` at the end of the PDF's one XMP packet (before `</rdf:RDF>`), lengthens its
/// stream, and moves the cross-reference offsets of every object after it. Needs the classic
/// cross-reference table the PDF library writes, with the packet's stream uncompressed.
fn add_to_xmp(pdf: Vec<u8>, rdf: &[u8]) -> Result<Vec<u8>, String> {
    let insert_at = find(&pdf, b"</rdf:RDF>", 0).ok_or("no XMP packet")?;
    let object_start = rfind(&pdf[..insert_at], b" obj").ok_or("no object holds the XMP")?;
    let length_key = find(&pdf, b"/Length ", object_start)
        .filter(|&at| at < insert_at)
        .ok_or("the XMP stream has no direct length")?;
    let digits_start = length_key + b"/Length ".len();
    let digits_end = digits_start
        + pdf[digits_start..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
    let old_length: usize = parse(&pdf[digits_start..digits_end])?;
    let new_length = (old_length + rdf.len()).to_string();
    let shift = new_length.len() + rdf.len() - (digits_end - digits_start);

    let startxref_key = rfind(&pdf, b"startxref").ok_or("no startxref")?;
    let xref_offset: usize = parse(trimmed(&pdf[startxref_key + b"startxref".len()..]))?;
    let mut out = Vec::with_capacity(pdf.len() + shift);
    out.extend_from_slice(&pdf[..digits_start]);
    out.extend_from_slice(new_length.as_bytes());
    out.extend_from_slice(&pdf[digits_end..insert_at]);
    out.extend_from_slice(rdf);
    out.extend_from_slice(&pdf[insert_at..xref_offset]);
    let table_end = startxref_key;
    out.extend_from_slice(&moved_table(
        &pdf[xref_offset..table_end],
        object_start,
        shift,
    )?);
    out.extend_from_slice(format!("startxref\n{}\n%%EOF\n", xref_offset + shift).as_bytes());
    Ok(out)
}

/// The cross-reference table with `shift` added to the offsets past `after`.
fn moved_table(table: &[u8], after: usize, shift: usize) -> Result<Vec<u8>, String> {
    let text =
        std::str::from_utf8(table).map_err(|_| "a cross-reference table that is not text")?;
    let mut out = String::with_capacity(table.len());
    for line in text.split_inclusive('\n') {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [offset, generation, "n"] if offset.len() == 10 => {
                let offset: usize = parse(offset.as_bytes())?;
                let moved = if offset > after {
                    offset + shift
                } else {
                    offset
                };
                out.push_str(&format!("{moved:010} {generation} n\r\n"));
            }
            _ => out.push_str(line),
        }
    }
    Ok(out.into_bytes())
}

fn parse(digits: &[u8]) -> Result<usize, String> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| "a number the PDF should have".to_owned())
}

fn trimmed(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| b.is_ascii_digit())
        .unwrap_or(bytes.len());
    let len = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    &bytes[start..start + len]
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .rposition(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::layout::{Align, Pages, Weight};

    #[test]
    fn the_pdf_carries_the_xml_and_says_it_is_factur_x() {
        let mut pages = Pages::default();
        pages.text(
            40.0,
            60.0,
            12.0,
            Weight::Regular,
            Align::Left,
            "Invoice 1001 · Grüße",
        );
        let xml = crate::einvoice::cii::write(&crate::einvoice::tests::sample());
        let factur_x = FacturX {
            xml: &xml,
            modified: DateTime::from_timestamp(1_796_000_000, 0).unwrap(),
        };
        let pdf = pages.into_pdf("Invoice 1001", Some(&factur_x)).unwrap();
        if let Ok(path) = std::env::var("FACTURX_SAMPLE_OUT") {
            std::fs::write(path, &pdf).unwrap();
        }
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>"));
        assert!(text.contains("<pdfaid:part>3</pdfaid:part>"), "PDF/A-3");
        assert!(text.contains("/AFRelationship/Alternative"));
        // Every offset the cross-reference table gives points at its object.
        let startxref = rfind(&pdf, b"startxref").unwrap();
        let table_at: usize = parse(trimmed(&pdf[startxref + 9..])).unwrap();
        assert!(pdf[table_at..].starts_with(b"xref"));
        let table = std::str::from_utf8(&pdf[table_at..startxref]).unwrap();
        let mut checked = 0;
        for (number, line) in table.lines().skip(2).enumerate() {
            if let [offset, _, "n"] = line.split_whitespace().collect::<Vec<_>>()[..] {
                let offset: usize = offset.parse().unwrap();
                let header = format!("{} 0 obj", number);
                assert!(
                    pdf[offset..].starts_with(header.as_bytes()),
                    "object {number}"
                );
                checked += 1;
            }
        }
        assert!(checked > 5);
    }
}
