use super::*;
use crate::document::tests::{credit_memo, invoice, line_of, organization, page_count, text_of};

fn rendered(memo: &CreditMemo) -> Vec<u8> {
    let (invoice, seller) = (invoice(), organization());
    let document = CreditMemoDocument {
        credit_memo: memo,
        invoice: &invoice,
        seller: &seller,
    };
    let pdf = render(&document, None, &|| true).unwrap().expect("wanted");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    pdf
}

#[test]
fn a_memo_of_several_lines_shows_its_parties_lines_and_where_its_credit_went() {
    let memo = credit_memo(5, false);
    let pdf = rendered(&memo);
    assert_eq!(page_count(&pdf), 1);
    let text = text_of(&pdf);
    for expected in [
        "Credit memo",
        "No. 7",
        memo.id.as_str(),
        "partially-applied",
        "2026-03-01",
        "return",
        "Acme Ltd",
        "VAT number GB980780684",
        "Ada Lovelace",
        "Customer cus_doc",
        "Ship to",
        "Seat 4 — 座席",
        "Goods returned in March.",
        "Page 1 of 1",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    assert!(
        line_of(&text, "Credits invoice").ends_with("No. 42"),
        "{text}"
    );
    assert!(!text.contains("Voided"), "{text}");
    // Five lines of 200.25 less 20.03, three taxed 14.52, and 5.00 of shipping.
    for (label, amount) in [
        ("Subtotal", "1,001.25"),
        ("Discount", "-100.15"),
        ("Sales tax", "43.56"),
        ("Tax", "43.56"),
        ("Shipping", "5.00"),
        ("Total credit", "949.66"),
        // 100.00 on the credited invoice, 40.00 of it given back.
        ("Applied to invoice No. 42", "-60.00"),
        ("Applied to invoice in_other", "-50.00"),
        ("Given back", "-40.00"),
        ("Unused credit (USD)", "799.66"),
    ] {
        let line = line_of(&text, label);
        assert!(
            line.ends_with(amount),
            "{label} should read {amount}: {line:?}"
        );
    }
    let seat: Vec<&str> = line_of(&text, "Seat 2").split_whitespace().collect();
    assert_eq!(
        seat[seat.len() - 5..],
        ["2", "100.125", "20.03", "14.52", "200.25"],
        "quantity, unit price, discount, tax, amount"
    );
}

#[test]
fn a_voided_memo_says_so_and_when_and_leaves_no_credit() {
    let memo = credit_memo(2, true);
    let pdf = rendered(&memo);
    assert_eq!(page_count(&pdf), 1);
    let text = text_of(&pdf);
    assert!(line_of(&text, "Credit memo").contains("Voided"), "{text}");
    assert!(line_of(&text, "Voided").ends_with("2026-03-05"), "{text}");
    assert!(
        !text.contains("Applied to") && !text.contains("Given back"),
        "{text}"
    );
    assert!(
        line_of(&text, "Unused credit (USD)").ends_with("0.00"),
        "{text}"
    );
}

#[test]
fn many_lines_flow_over_pages_each_with_its_header_and_footer() {
    let pdf = rendered(&credit_memo(120, false));
    // Under the heading and the parties the first page has room for about 38 rows of one
    // line, each next page for 56: 120 rows end on the third, which has room for the totals.
    assert_eq!(page_count(&pdf), 3);
    let text = text_of(&pdf);
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|page| !page.trim().is_empty())
        .collect();
    assert_eq!(pages.len(), 3, "{text}");
    for (index, page) in pages.iter().enumerate() {
        let footer = format!("Page {} of 3", index + 1);
        assert!(page.contains(&footer), "no {footer:?} in\n{page}");
        assert!(page.contains("Credit memo No. 7 · crmm_"), "{page}");
        assert!(
            page.contains("Unit price"),
            "the table header on every page: {page}"
        );
    }
    assert!(
        pages[2].contains("Seat 119") && pages[2].contains("Unused credit"),
        "{text}"
    );
    assert!(!pages[0].contains("Seat 119"), "{text}");
}

#[test]
fn a_render_nobody_waits_for_stops() {
    let (memo, invoice, seller) = (credit_memo(3, false), invoice(), organization());
    let document = CreditMemoDocument {
        credit_memo: &memo,
        invoice: &invoice,
        seller: &seller,
    };
    assert_eq!(render(&document, None, &|| false), Ok(None));
}
