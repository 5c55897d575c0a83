use chrono::Utc;
use rust_decimal_macros::dec;

use super::*;
use crate::domain::ids::InvoiceId;
use crate::domain::invoice_item::ItemExtras;
use crate::domain::tax::{ManualTax, TaxAmount, TaxDescription};

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

/// An item of 3 units at 10.00, discounted 6.00 and taxed 2.40.
fn item() -> InvoiceItem {
    let now = Utc::now();
    InvoiceItem {
        id: InvoiceItemId::parse("ii_1").unwrap(),
        invoice_id: InvoiceId::parse("in_1").unwrap(),
        item_type: ItemType::Debit,
        description: Some(Description::parse("Seats".to_owned()).unwrap()),
        unit_price: UnitPrice::parse(dec!(10)).unwrap(),
        quantity: Quantity::parse(3).unwrap(),
        price: dec!(30),
        product_id: None,
        discount_amount: dec!(6),
        period_start_time: None,
        period_end_time: None,
        period_number: None,
        tax: Some(ItemTax::Manual(ManualTax::new(
            TaxAmount::parse(dec!(2.40)).unwrap(),
            TaxDescription::parse("VAT".to_owned()).unwrap(),
        ))),
        vat: None,
        extras: ItemExtras::default(),
        revision: 0,
        created_time: now,
        updated_time: now,
    }
}

fn of_item(quantity: Option<i64>, unit_price: Option<Decimal>) -> CreditLineInput {
    CreditLineInput {
        invoice_item_id: Some(InvoiceItemId::parse("ii_1").unwrap()),
        description: None,
        unit_price: unit_price.map(|price| UnitPrice::parse(price).unwrap()),
        quantity: quantity.map(|quantity| Quantity::parse(quantity).unwrap()),
    }
}

/// The line of `of_item(quantity, unit_price)` for the test item, none of it credited yet.
fn priced_of_item(quantity: Option<i64>, unit_price: Option<Decimal>) -> CreditLine {
    price_line(
        &of_item(quantity, unit_price),
        Some(&item()),
        Credited::default(),
        usd(),
    )
    .unwrap()
}

#[test]
fn a_whole_item_gives_back_all_it_was_charged() {
    let line = priced_of_item(None, None);
    assert_eq!(
        (
            line.quantity,
            line.price,
            line.discount_amount,
            line.tax_amount
        ),
        (3, dec!(30), dec!(6), dec!(2.40))
    );
    assert_eq!(line.amount(), dec!(26.40));
    assert_eq!(line.description.as_deref(), Some("Seats"));
    assert_eq!(line.tax_description.as_deref(), Some("VAT"));
}

#[test]
fn part_of_an_item_takes_its_share_of_discount_and_tax_rounded() {
    let line = priced_of_item(Some(1), None);
    // A third of 6.00 and of 2.40.
    assert_eq!(
        (line.price, line.discount_amount, line.tax_amount),
        (dec!(10), dec!(2), dec!(0.80))
    );
    let line = priced_of_item(Some(1), Some(dec!(3.335)));
    // 3.335 rounds half away from zero to 3.34; its share of 6.00 is 0.668, of 2.40 0.2672.
    assert_eq!(
        (line.price, line.discount_amount, line.tax_amount),
        (dec!(3.34), dec!(0.67), dec!(0.27))
    );
}

#[test]
fn a_line_credits_no_more_than_its_item_billed() {
    let item = item();
    assert_eq!(
        price_line(
            &of_item(Some(4), None),
            Some(&item),
            Credited::default(),
            usd()
        ),
        Err(LineError::MoreThanBilled { quantity: 3 })
    );
    assert_eq!(
        price_line(
            &of_item(None, Some(dec!(10.01))),
            Some(&item),
            Credited::default(),
            usd()
        ),
        Err(LineError::AboveItemPrice {
            unit_price: dec!(10)
        })
    );
    assert_eq!(
        price_line(
            &of_item(None, Some(dec!(0.001))),
            Some(&item),
            Credited::default(),
            usd()
        ),
        Err(LineError::NotPositive)
    );
    let mut credit = item.clone();
    credit.item_type = ItemType::Credit;
    assert_eq!(
        price_line(
            &of_item(None, None),
            Some(&credit),
            Credited::default(),
            usd()
        ),
        Err(LineError::CreditItem)
    );
    assert_eq!(
        price_line(&of_item(None, None), None, Credited::default(), usd()),
        Err(LineError::UnknownItem)
    );
}

#[test]
fn a_line_of_no_item_needs_a_price_and_words() {
    let custom = |unit_price: Option<Decimal>, words: Option<&str>| CreditLineInput {
        invoice_item_id: None,
        description: words.map(|words| Description::parse(words.to_owned()).unwrap()),
        unit_price: unit_price.map(|price| UnitPrice::parse(price).unwrap()),
        quantity: Some(Quantity::parse(2).unwrap()),
    };
    let line = price_line(
        &custom(Some(dec!(4.5)), Some("Goodwill")),
        None,
        Credited::default(),
        usd(),
    )
    .unwrap();
    assert_eq!((line.price, line.amount()), (dec!(9), dec!(9)));
    assert_eq!(
        price_line(
            &custom(None, Some("Goodwill")),
            None,
            Credited::default(),
            usd()
        ),
        Err(LineError::Unpriced)
    );
    assert_eq!(
        price_line(
            &custom(Some(dec!(4.5)), None),
            None,
            Credited::default(),
            usd()
        ),
        Err(LineError::Unpriced)
    );
}

#[test]
fn totals_are_the_sums_of_the_lines_and_the_shipping() {
    let item = item();
    let lines = [
        price_line(
            &of_item(Some(1), None),
            Some(&item),
            Credited::default(),
            usd(),
        )
        .unwrap(),
        price_line(
            &of_item(Some(2), None),
            Some(&item),
            Credited::default(),
            usd(),
        )
        .unwrap(),
    ];
    let totals = CreditTotals::of(&lines, dec!(5));
    assert_eq!(totals.subtotal_amount, dec!(30));
    assert_eq!(totals.discount_amount, dec!(6));
    assert_eq!(totals.tax_amount, dec!(2.40));
    assert_eq!(totals.total_amount, dec!(31.40));
}

#[test]
fn a_memo_is_applied_as_its_total_is_allocated() {
    use CreditMemoStatus::*;
    assert_eq!(CreditMemoStatus::of_allocated(dec!(0), dec!(10)), Issued);
    assert_eq!(
        CreditMemoStatus::of_allocated(dec!(4), dec!(10)),
        PartiallyApplied
    );
    assert_eq!(CreditMemoStatus::of_allocated(dec!(10), dec!(10)), Applied);
    for status in CreditMemoStatus::ALL {
        assert_eq!(CreditMemoStatus::parse(status.as_str()), Some(status));
    }
    for reason in CreditReason::ALL {
        assert_eq!(CreditReason::parse(reason.as_str()), Some(reason));
    }
}

#[test]
fn credit_in_parts_never_gives_back_more_than_the_item_charged() {
    // 2 units at 1.50 taxed 0.01: half of the tax rounds up to 0.01 each time.
    let mut item = item();
    item.unit_price = UnitPrice::parse(dec!(1.50)).unwrap();
    item.quantity = Quantity::parse(2).unwrap();
    item.price = dec!(3);
    item.discount_amount = Decimal::ZERO;
    item.tax = Some(ItemTax::Manual(ManualTax::new(
        TaxAmount::parse(dec!(0.01)).unwrap(),
        TaxDescription::parse("VAT".to_owned()).unwrap(),
    )));
    let mut credited = Credited::default();
    let first = price_line(&of_item(Some(1), None), Some(&item), credited, usd()).unwrap();
    assert_eq!((first.price, first.tax_amount), (dec!(1.50), dec!(0.01)));
    credited.add(&first);
    // The line that credits the rest takes the rest of the tax: none.
    let second = price_line(&of_item(Some(1), None), Some(&item), credited, usd()).unwrap();
    assert_eq!((second.price, second.tax_amount), (dec!(1.50), dec!(0)));
    credited.add(&second);
    assert_eq!(first.amount() + second.amount(), dec!(3.01));
    assert_eq!(
        price_line(&of_item(Some(1), None), Some(&item), credited, usd()),
        Err(LineError::MoreThanLeft { left: dec!(0) })
    );
}
