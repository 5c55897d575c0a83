use chrono::Utc;
use rust_decimal_macros::dec;

use super::*;
use crate::service::settlement::tests::issued;

/// Takes `change` of credit off (or back onto) an invoice as `Ledger::set` does.
fn credited(invoice: &mut Invoice, change: Decimal) -> EventType {
    invoice.payments.credited_amount += change;
    invoice.totals.amount_due -= change;
    credit(invoice, change, Utc::now())
}

#[test]
fn credit_lowers_what_is_due_and_can_pay_the_invoice() {
    let mut invoice = issued(dec!(100));
    assert_eq!(
        credited(&mut invoice, dec!(30)),
        EventType::InvoicePartiallyPaid
    );
    assert_eq!(invoice.status, InvoiceStatus::PartiallyPaid);
    assert_eq!(invoice.totals.amount_due, dec!(70));
    assert_eq!(credited(&mut invoice, dec!(70)), EventType::InvoicePaid);
    assert_eq!(invoice.status, InvoiceStatus::Paid);
    assert!(invoice.payments.paid_time.is_some());
    let figures = (invoice.totals, &invoice.payments);
    assert_eq!(
        figures.0.amount_due,
        figures.0.amount - figures.1.net_paid() - figures.1.credited_amount
    );
}

#[test]
fn credit_withdrawn_leaves_the_invoice_awaiting_payment_again() {
    let mut invoice = issued(dec!(100));
    credited(&mut invoice, dec!(30));
    assert_eq!(
        credited(&mut invoice, dec!(-30)),
        EventType::InvoiceModified
    );
    assert_eq!(invoice.status, InvoiceStatus::Unpaid);
    assert_eq!(invoice.totals.amount_due, dec!(100));

    // Still holding a payment: it stays partially paid.
    let mut invoice = issued(dec!(100));
    invoice.payments.paid_amount = dec!(10);
    invoice.totals.amount_due = dec!(90);
    invoice.status = InvoiceStatus::PartiallyPaid;
    credited(&mut invoice, dec!(30));
    credited(&mut invoice, dec!(-30));
    assert_eq!(invoice.status, InvoiceStatus::PartiallyPaid);

    // A past-due invoice stays past due.
    let mut invoice = issued(dec!(100));
    invoice.status = InvoiceStatus::PastDue;
    credited(&mut invoice, dec!(30));
    assert_eq!(invoice.status, InvoiceStatus::PastDue);
    credited(&mut invoice, dec!(-30));
    assert_eq!(invoice.status, InvoiceStatus::PastDue);
}

#[test]
fn only_open_invoices_take_changes_of_credit() {
    use InvoiceStatus::*;
    for status in InvoiceStatus::ALL {
        assert_eq!(
            is_open(status),
            matches!(status, Unpaid | PartiallyPaid | PastDue),
            "{status:?}"
        );
    }
}
