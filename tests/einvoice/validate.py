"""Validates e-invoices with the official rules: each file given is a UBL 2.1 Invoice or
CreditNote, a CII invoice, or a Factur-X PDF.

- UBL: the OASIS UBL 2.1 schema of its document type, then CEN/TC 434's EN 16931 schematron
  for UBL (the compiled XSLT, run with Saxon).
- CII: the Factur-X EN 16931 profile's schema, then its schematron, which holds EN 16931's
  rules for CII.
- Factur-X PDF: the `factur-x` package extracts `factur-x.xml` and checks it against the
  schema; the PDF must declare PDF/A-3 and Factur-X's EN 16931 level in its XMP metadata and
  carry the XML as an `Alternative` associated file; then the XML is checked as CII.

The schemas and compiled schematrons are those the `factur-x` package ships. Prints one line
per file; exits 1 when any file fails (or, with --expect-failure, when any file passes).
"""

import argparse
import os
import sys
import time

import facturx
import pypdf
from lxml import etree
from saxonche import PySaxonProcessor

RULES = os.path.join(os.path.dirname(facturx.__file__), "xsd_and_schematron")
UBL_NS = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "Invoice",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "CreditNote",
}
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


class Rules:
    """Schemas and compiled schematrons, each loaded once."""

    def __init__(self, processor):
        self.processor = processor
        self.schemas = {}
        self.stylesheets = {}

    def schema(self, path):
        if path not in self.schemas:
            self.schemas[path] = etree.XMLSchema(etree.parse(os.path.join(RULES, path)))
        return self.schemas[path]

    def schematron(self, path):
        if path not in self.stylesheets:
            compiler = self.processor.new_xslt30_processor()
            self.stylesheets[path] = compiler.compile_stylesheet(
                stylesheet_file=os.path.join(RULES, path)
            )
        return self.stylesheets[path]


def check_xml(rules, xml_bytes):
    """The problems of one UBL or CII document, and what it is."""
    root = etree.fromstring(xml_bytes)
    namespace = etree.QName(root).namespace
    if namespace in UBL_NS:
        kind = f"UBL {UBL_NS[namespace]}"
        schema = f"ubl-2.1/maindoc/UBL-{UBL_NS[namespace]}-2.1.xsd"
        schematron = "ubl-2.1/EN16931-UBL-validation.xslt"
    elif namespace == CII_NS:
        kind = "CII"
        schema = "facturx-en16931/Factur-X_EN16931.xsd"
        schematron = "facturx-en16931/FACTUR-X_EN16931.xslt"
    else:
        return "unknown", [f"not an e-invoice: root element {root.tag}"], 0
    problems = []
    xsd = rules.schema(schema)
    if not xsd.validate(root):
        problems += [f"XSD: {error.message} (line {error.line})" for error in xsd.error_log]
    node = rules.processor.parse_xml(xml_text=xml_bytes.decode("utf-8"))
    report = etree.fromstring(rules.schematron(schematron).transform_to_string(xdm_node=node).encode())
    warnings = 0
    for failed in report.iterfind(".//svrl:failed-assert", SVRL):
        if failed.get("flag") == "warning":
            warnings += 1
            continue
        text = " ".join("".join(failed.itertext()).split())
        problems.append(f"{failed.get('id')}: {text[:200]}")
    return kind, problems, warnings


def check_pdf(rules, pdf_bytes):
    """The problems of one Factur-X PDF, its embedded XML's included."""
    problems = []
    try:
        name, xml_bytes = facturx.get_xml_from_pdf(pdf_bytes, check_xsd=True)
    except Exception as error:  # the package raises bare exceptions
        return "Factur-X PDF", [f"factur-x: {error}"], 0
    if name != "factur-x.xml":
        problems.append(f"embedded file is {name!r}, not 'factur-x.xml'")
    reader = pypdf.PdfReader(__import__("io").BytesIO(pdf_bytes))
    catalog = reader.trailer["/Root"]
    relationships = [
        str(spec.get_object().get("/AFRelationship")) for spec in catalog.get("/AF", [])
    ]
    if "/Alternative" not in relationships:
        problems.append(f"no Alternative associated file (found {relationships})")
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    for needed in (
        "<pdfaid:part>3</pdfaid:part>",
        "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>",
        "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>",
        "<fx:DocumentType>INVOICE</fx:DocumentType>",
    ):
        if needed not in xmp:
            problems.append(f"XMP lacks {needed}")
    kind, xml_problems, warnings = check_xml(rules, xml_bytes)
    return f"Factur-X PDF ({kind})", problems + xml_problems, warnings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--expect-failure", action="store_true")
    args = parser.parse_args()
    failed = passed = 0
    with PySaxonProcessor(license=False) as processor:
        rules = Rules(processor)
        for path in args.files:
            started = time.monotonic()
            with open(path, "rb") as file:
                content = file.read()
            if content.startswith(b"%PDF"):
                kind, problems, warnings = check_pdf(rules, content)
            else:
                kind, problems, warnings = check_xml(rules, content)
            took = time.monotonic() - started
            verdict = "FAIL" if problems else "ok  "
            print(
                f"{verdict} {path}: {kind}; {len(problems)} fatal, {warnings} warnings "
                f"({took:.2f} s)"
            )
            for problem in problems:
                print(f"       {problem}")
            failed += bool(problems)
            passed += not problems
    if args.expect_failure:
        sys.exit(1 if passed else 0)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
