use chrono::Utc;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::domain::currency::Currency;
use crate::domain::ids::{CustomerId, WebsiteId};
use crate::domain::invoice::{InvoicePayments, InvoiceTotals};

/// An issued, unpaid invoice of `amount` USD; other settlement tests start from it too.
pub(in crate::service) fn issued(amount: Decimal) -> Invoice {
    let now = Utc::now();
    Invoice {
        id: InvoiceId::parse("in_1").unwrap(),
        customer_id: CustomerId::parse("cus_1").unwrap(),
        website_id: WebsiteId::parse("web_1").unwrap(),
        currency: Currency::parse("USD").unwrap(),
        status: InvoiceStatus::Unpaid,
        invoice_number: Some(1),
        totals: InvoiceTotals {
            subtotal_amount: amount,
            discount_amount: Decimal::ZERO,
            tax_amount: Decimal::ZERO,
            amount,
            amount_due: amount,
        },
        payments: InvoicePayments::default(),
        due_time: None,
        issued_time: Some(now),
        abandoned_time: None,
        voided_time: None,
        discounts: Vec::new(),
        tax: Default::default(),
        notes: None,
        po_number: None,
        parties: Default::default(),
        metadata: Default::default(),
        collection: Default::default(),
        hosted_token: None,
        revision: 1,
        created_time: now,
        updated_time: now,
    }
}

fn transaction(kind: TransactionType, amount: Decimal) -> Transaction {
    let now = Utc::now();
    Transaction {
        id: TransactionId::parse("txn_1").unwrap(),
        kind,
        customer_id: CustomerId::parse("cus_1").unwrap(),
        website_id: WebsiteId::parse("web_1").unwrap(),
        currency: Currency::parse("USD").unwrap(),
        amount,
        allocated_amount: Decimal::ZERO,
        method: PaymentMethod::BankTransfer,
        description: None,
        invoice_ids: Vec::new(),
        revision: 0,
        created_time: now,
        updated_time: now,
    }
}

fn rule_of(result: Result<Decimal, ApiError>) -> Rule {
    match result {
        Err(ApiError::InvalidInput { rule, .. }) => rule,
        other => panic!("expected a 422, got {other:?}"),
    }
}

#[test]
fn an_invoice_paid_in_two_parts_is_partially_paid_then_paid() {
    let mut invoice = issued(dec!(100.00));
    let now = Utc::now();
    let first = settle(&mut invoice, TransactionType::Sale, dec!(30.00), now).unwrap();
    assert_eq!(first, EventType::InvoicePartiallyPaid);
    assert_eq!(invoice.status, InvoiceStatus::PartiallyPaid);
    assert_eq!(invoice.totals.amount_due, dec!(70.00));
    assert_eq!(invoice.payments.paid_time, None);
    let second = settle(&mut invoice, TransactionType::Sale, dec!(70.00), now).unwrap();
    assert_eq!(second, EventType::InvoicePaid);
    assert_eq!(invoice.status, InvoiceStatus::Paid);
    assert_eq!(invoice.totals.amount_due, Decimal::ZERO);
    assert_eq!(invoice.payments.paid_time, Some(now));
    assert_eq!(
        invoice.totals.amount - invoice.payments.net_paid(),
        invoice.totals.amount_due
    );
}

#[test]
fn refunds_give_money_back_and_raise_the_amount_due() {
    let mut invoice = issued(dec!(50));
    let now = Utc::now();
    settle(&mut invoice, TransactionType::Sale, dec!(50), now).unwrap();
    let part = settle(&mut invoice, TransactionType::Refund, dec!(20), now).unwrap();
    assert_eq!(part, EventType::InvoicePartiallyRefunded);
    assert_eq!(invoice.status, InvoiceStatus::PartiallyRefunded);
    assert_eq!(invoice.totals.amount_due, dec!(20));
    let rest = settle(&mut invoice, TransactionType::Refund, dec!(30), now).unwrap();
    assert_eq!(rest, EventType::InvoiceRefunded);
    assert_eq!(invoice.status, InvoiceStatus::Refunded);
    assert_eq!(invoice.totals.amount_due, dec!(50));
    assert_eq!(invoice.payments.net_paid(), Decimal::ZERO);
}

#[test]
fn a_past_due_invoice_paid_in_part_stays_past_due() {
    let mut invoice = issued(dec!(10));
    invoice.status = InvoiceStatus::PastDue;
    settle(&mut invoice, TransactionType::Sale, dec!(4), Utc::now()).unwrap();
    assert_eq!(invoice.status, InvoiceStatus::PastDue);
    settle(&mut invoice, TransactionType::Sale, dec!(6), Utc::now()).unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Paid);
}

#[test]
fn drafts_voided_and_paid_invoices_take_no_payment() {
    for status in [
        InvoiceStatus::Draft,
        InvoiceStatus::Voided,
        InvoiceStatus::Abandoned,
        InvoiceStatus::Paid,
    ] {
        let mut invoice = issued(dec!(10));
        invoice.status = status;
        if matches!(status, InvoiceStatus::Draft | InvoiceStatus::Abandoned) {
            // Never issued: a draft, or a draft given up.
            invoice.issued_time = None;
        }
        let refused = settle(&mut invoice, TransactionType::Sale, dec!(1), Utc::now());
        assert!(
            matches!(
                refused,
                Err(ApiError::Conflict(Clash::NotSettleable { .. }))
            ),
            "{status:?}"
        );
    }
    let mut unpaid = issued(dec!(10));
    let refused = settle(&mut unpaid, TransactionType::Refund, dec!(1), Utc::now());
    assert!(matches!(
        refused,
        Err(ApiError::Conflict(Clash::NotSettleable { .. }))
    ));
}

#[test]
fn the_default_amount_is_the_lesser_of_the_unused_amount_and_the_amount_due() {
    let invoice = issued(dec!(100));
    let small = transaction(TransactionType::Sale, dec!(30));
    assert_eq!(allocation_amount(&invoice, &small, None).unwrap(), dec!(30));
    let large = transaction(TransactionType::Sale, dec!(500));
    assert_eq!(
        allocation_amount(&invoice, &large, None).unwrap(),
        dec!(100)
    );
    let mut spent = transaction(TransactionType::Sale, dec!(500));
    spent.allocated_amount = dec!(450);
    assert_eq!(allocation_amount(&invoice, &spent, None).unwrap(), dec!(50));
}

#[test]
fn amounts_past_what_is_due_or_unused_are_refused_naming_the_limit() {
    let invoice = issued(dec!(100));
    let large = transaction(TransactionType::Sale, dec!(500));
    assert_eq!(
        rule_of(allocation_amount(&invoice, &large, Some(dec!(100.01)))),
        Rule::MoreThanDue {
            due: dec!(100),
            currency: invoice.currency
        }
    );
    let small = transaction(TransactionType::Sale, dec!(30));
    assert_eq!(
        rule_of(allocation_amount(&invoice, &small, Some(dec!(31)))),
        Rule::MoreThanUnused {
            unused: dec!(30),
            currency: invoice.currency
        }
    );
    assert_eq!(
        rule_of(allocation_amount(&invoice, &small, Some(dec!(0)))),
        Rule::NotPositive
    );
    assert_eq!(
        rule_of(allocation_amount(&invoice, &small, Some(dec!(1.001)))),
        Rule::TooPrecise {
            currency: invoice.currency
        }
    );
    let mut used_up = transaction(TransactionType::Sale, dec!(30));
    used_up.allocated_amount = dec!(30);
    assert_eq!(
        rule_of(allocation_amount(&invoice, &used_up, None)),
        Rule::TransactionUsedUp
    );
}

#[test]
fn a_transaction_of_another_customer_or_currency_is_refused() {
    let invoice = issued(dec!(100));
    let mut other = transaction(TransactionType::Sale, dec!(10));
    other.customer_id = CustomerId::parse("cus_2").unwrap();
    assert_eq!(
        rule_of(allocation_amount(&invoice, &other, None)),
        Rule::TransactionOfOtherCustomer
    );
    let mut euros = transaction(TransactionType::Sale, dec!(10));
    euros.currency = Currency::parse("EUR").unwrap();
    assert_eq!(
        rule_of(allocation_amount(&invoice, &euros, None)),
        Rule::TransactionInOtherCurrency {
            invoice: invoice.currency
        }
    );
}

#[test]
fn a_refund_of_all_an_invoice_never_paid_in_full_held_leaves_it_awaiting_payment() {
    let mut invoice = issued(dec!(100));
    let now = Utc::now();
    settle(&mut invoice, TransactionType::Sale, dec!(30), now).unwrap();
    let part = settle(&mut invoice, TransactionType::Refund, dec!(10), now).unwrap();
    assert_eq!(part, EventType::InvoicePartiallyRefunded);
    assert_eq!(invoice.status, InvoiceStatus::PartiallyPaid);
    let all = settle(&mut invoice, TransactionType::Refund, dec!(20), now).unwrap();
    assert_eq!(all, EventType::InvoiceRefunded);
    assert_eq!(
        invoice.status,
        InvoiceStatus::Unpaid,
        "it can be paid again"
    );
    assert_eq!(invoice.totals.amount_due, dec!(100));
    settle(&mut invoice, TransactionType::Sale, dec!(100), now).unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Paid);

    let mut late = issued(dec!(100));
    late.status = InvoiceStatus::PastDue;
    settle(&mut late, TransactionType::Sale, dec!(30), now).unwrap();
    settle(&mut late, TransactionType::Refund, dec!(30), now).unwrap();
    assert_eq!(late.status, InvoiceStatus::PastDue);
}

#[test]
fn an_invoice_written_off_after_issue_may_still_be_paid() {
    let mut invoice = issued(dec!(10));
    invoice.status = InvoiceStatus::Abandoned;
    let paid = settle(&mut invoice, TransactionType::Sale, dec!(10), Utc::now()).unwrap();
    assert_eq!(paid, EventType::InvoicePaid);
    assert_eq!(invoice.status, InvoiceStatus::Paid);
}
