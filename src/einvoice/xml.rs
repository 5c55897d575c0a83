//! A small writer of well-formed XML: elements open and close in order, and every text and
//! attribute value is escaped. E-invoices need no more, and no parser.

use std::fmt::Write;

/// An XML document being written, indented by two spaces per level.
pub struct Xml {
    out: String,
    open: Vec<&'static str>,
}

impl Xml {
    /// A document with its declaration, and room for about `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        let mut out = String::with_capacity(capacity);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        Self {
            out,
            open: Vec::new(),
        }
    }

    /// Opens an element with attributes; [`Xml::close`] closes it.
    pub fn open_with(&mut self, name: &'static str, attributes: &[(&str, &str)]) -> &mut Self {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.attributes(attributes);
        self.out.push_str(">\n");
        self.open.push(name);
        self
    }

    /// Opens an element.
    pub fn open(&mut self, name: &'static str) -> &mut Self {
        self.open_with(name, &[])
    }

    /// Closes the element opened last.
    pub fn close(&mut self) -> &mut Self {
        let name = self.open.pop().expect("an element to close");
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
        self
    }

    /// An element holding only text, with attributes.
    pub fn leaf_with(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) -> &mut Self {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.attributes(attributes);
        self.out.push('>');
        escape_into(&mut self.out, text);
        let _ = writeln!(self.out, "</{name}>");
        self
    }

    /// An element holding only text.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.leaf_with(name, &[], text)
    }

    /// The element when there is text for it; nothing otherwise.
    pub fn leaf_if(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.leaf(name, text);
        }
        self
    }

    /// The document, every element closed.
    pub fn finish(self) -> String {
        assert!(self.open.is_empty(), "elements left open: {:?}", self.open);
        self.out
    }

    fn attributes(&mut self, attributes: &[(&str, &str)]) {
        for (name, value) in attributes {
            let _ = write!(self.out, " {name}=\"");
            escape_into(&mut self.out, value);
            self.out.push('"');
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }
}

/// Appends `text` with the five characters XML reserves escaped, and the control characters XML
/// 1.0 cannot carry at all left out (the wire's texts refuse them, so none should reach here).
fn escape_into(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(character),
            control if control < ' ' => {}
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped_and_elements_nest() {
        let mut xml = Xml::new(64);
        xml.open_with("a", &[("k", "\"<&>'")])
            .leaf("b", "Tom & Jerry <GmbH>")
            .leaf_if("c", None)
            .leaf("d", "bell\u{7}")
            .close();
        assert_eq!(
            xml.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <a k=\"&quot;&lt;&amp;&gt;&apos;\">\n  \
             <b>Tom &amp; Jerry &lt;GmbH&gt;</b>\n  \
             <d>bell</d>\n\
             </a>\n"
        );
    }
}
