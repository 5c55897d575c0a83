//! Settlement use cases: recording transactions and applying them to invoices, so that an
//! invoice's `amount_due` and status follow the money it has received and given back.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::events::{changed_fields, record, record_at};
use super::invoices::{
    InvoiceWithItems, IssueTimes, apply_action, invoice_not_found, locked_invoice,
};
use crate::domain::event::{EventChanges, EventType};
use crate::domain::ids::{InvoiceId, OrganizationId, TransactionId};
use crate::domain::invoice::{Invoice, InvoiceAction, InvoiceStatus, RECENT_ALLOCATIONS};
use crate::domain::money::decimal_places;
use crate::domain::permission::{Operation, Permissions};
use crate::domain::transaction::{
    Allocation, PaymentMethod, Transaction, TransactionInput, TransactionType, check_amount,
};
use crate::error::{ApiError, Clash, Denial, DomainField, Resource, Rule};
use crate::repository::{AllocationPage, Db, TransactionPage, Tx};

/// Records a transaction, in the caller's transaction.
#[tracing::instrument(skip_all)]
pub async fn record_transaction(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    input: TransactionInput,
) -> Result<Transaction, ApiError> {
    let now = Utc::now();
    let transaction = Transaction {
        id: TransactionId::generate(),
        kind: input.kind,
        customer_id: input.customer_id,
        website_id: input.website_id,
        currency: input.currency,
        amount: input.amount,
        allocated_amount: Decimal::ZERO,
        method: input.method,
        description: input
            .description
            .map(|description| description.into_string()),
        invoice_ids: Vec::new(),
        revision: 0,
        created_time: now,
        updated_time: now,
    };
    tx.insert_transaction(organization_id, &transaction).await?;
    Ok(transaction)
}

/// One transaction of the organization.
#[tracing::instrument(skip_all)]
pub async fn get_transaction(
    db: &Db,
    organization_id: &OrganizationId,
    transaction_id: &TransactionId,
) -> Result<Transaction, ApiError> {
    db.read(async |snapshot| {
        snapshot
            .find_transaction(organization_id, transaction_id)
            .await
    })
    .await?
    .ok_or_else(|| ApiError::not_found(Resource::Transaction, transaction_id))
}

/// A page of the organization's transactions, newest first.
#[tracing::instrument(skip_all)]
pub async fn list_transactions(
    db: &Db,
    organization_id: &OrganizationId,
    limit: i64,
    offset: i64,
) -> Result<TransactionPage, ApiError> {
    // One snapshot, so that `Pagination-Total` counts the transactions the page comes from.
    let page = db
        .read(async |snapshot| (snapshot.list_transactions(organization_id, limit, offset)).await);
    Ok(page.await?)
}

/// A page of the invoice's allocations, oldest first; 404 when there is no such invoice.
#[tracing::instrument(skip_all)]
pub async fn list_allocations(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    limit: i64,
    offset: i64,
) -> Result<AllocationPage, ApiError> {
    db.read(async |snapshot| {
        if snapshot
            .find_invoice(organization_id, invoice_id)
            .await?
            .is_none()
        {
            return Err(invoice_not_found(invoice_id.as_str()));
        }
        Ok(snapshot
            .list_allocations(organization_id, invoice_id, limit, offset)
            .await?)
    })
    .await
}

/// Applies `amount` of a transaction to an invoice (by default, as much as both allow), in the
/// caller's transaction: the invoice and the transaction are locked, in that order, so that
/// concurrent applications, from any replica, see each other's effect.
#[tracing::instrument(skip_all, fields(invoice = %invoice_id, transaction = %transaction_id))]
pub async fn apply_transaction(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    transaction_id: &TransactionId,
    amount: Option<Decimal>,
) -> Result<InvoiceWithItems, ApiError> {
    let payment = Payment::Made;
    settle_by(
        tx,
        organization_id,
        invoice_id,
        transaction_id,
        amount,
        payment,
    )
    .await
}

/// How a sale came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payment {
    /// A payment made to the seller, whose success pays the invoice.
    Made,
    /// A payment made elsewhere, only marked here: it pays the invoice, but no payment
    /// succeeded here.
    Elsewhere,
}

/// Applies a transaction as [`apply_transaction`] does; a sale that pays the invoice off
/// records, beside `invoice-paid`, that a payment succeeded, unless it was made elsewhere.
async fn settle_by(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    transaction_id: &TransactionId,
    amount: Option<Decimal>,
    payment: Payment,
) -> Result<InvoiceWithItems, ApiError> {
    let mut invoice = locked_invoice(tx, organization_id, invoice_id).await?;
    let transaction = tx
        .lock_transaction(organization_id, transaction_id)
        .await?
        .ok_or_else(|| {
            ApiError::invalid_input(DomainField::AppliedTransaction, Rule::UnknownTransaction)
        })?;
    let amount = allocation_amount(&invoice, &transaction, amount)?;
    let now = Utc::now();
    let before = invoice.clone();
    let event_type = settle(&mut invoice, transaction.kind, amount, now)?;
    let allocation = Allocation {
        invoice_id: invoice.id.clone(),
        transaction_id: transaction.id,
        kind: transaction.kind,
        amount,
        currency: transaction.currency,
        created_time: now,
    };
    tx.insert_allocation(organization_id, &allocation).await?;
    // The locked invoice was read with its newest allocations (after the lock): this one joins
    // them, and the oldest leaves past the number shown.
    let recent = &mut invoice.payments.recent_allocations;
    recent.push(allocation);
    let excess = recent.len().saturating_sub(RECENT_ALLOCATIONS);
    recent.drain(..excess);
    let settled = finish(tx, organization_id, before, invoice, event_type).await?;
    if event_type == EventType::InvoicePaid && payment == Payment::Made {
        let succeeded = EventType::InvoicePaymentSucceeded;
        record(
            tx,
            organization_id,
            &settled.0,
            succeeded,
            EventChanges::default(),
        )
        .await?;
    }
    Ok(settled)
}

/// Records that an invoice was sent to its customer (`invoice-sent`; this server sends no
/// mail itself). A draft is issued first, with `times`, and marked paid when it has nothing to
/// pay; a void invoice is 409.
#[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
pub async fn send_invoice(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    permissions: Permissions,
    times: IssueTimes,
) -> Result<InvoiceWithItems, ApiError> {
    let invoice = locked_invoice(tx, organization_id, invoice_id).await?;
    let (invoice, items) = match invoice.status {
        InvoiceStatus::Draft => {
            let issued = issue_draft(tx, organization_id, invoice_id, permissions, times).await?;
            close_if_nothing_due(tx, organization_id, issued).await?
        }
        InvoiceStatus::Voided => {
            return Err(ApiError::Conflict(Clash::NotSendable {
                invoice: invoice_id.to_string(),
                status: invoice.status,
            }));
        }
        _ => {
            let ids = std::slice::from_ref(invoice_id);
            let items = tx.items_of_invoices(organization_id, ids, None, 0).await?;
            (invoice, items)
        }
    };
    // Sending changes nothing of the invoice: its event is of now, at the revision it has.
    let at = (invoice.revision, Utc::now());
    let sent = EventChanges::default();
    record_at(
        tx,
        organization_id,
        invoice_id,
        at,
        EventType::InvoiceSent,
        sent,
    )
    .await?;
    Ok((invoice, items))
}

/// Issues a draft for a write that issues it on the way (a payment, a send): the caller needs
/// the issue's permission too.
async fn issue_draft(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    permissions: Permissions,
    times: IssueTimes,
) -> Result<InvoiceWithItems, ApiError> {
    let issue = Operation::PostInvoiceIssuance;
    if !permissions.allows(issue) {
        return Err(ApiError::Forbidden(Denial::Permission {
            operation: issue.to_string(),
        }));
    }
    apply_action(tx, organization_id, invoice_id, InvoiceAction::Issue, times).await
}

/// Records a sale of what the invoice has left due, paid elsewhere, and applies it: one call
/// for a dialect whose "pay" names no transaction. A draft is issued first, with `times`; an
/// invoice with nothing to pay is marked paid without a transaction.
#[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
pub async fn pay_out_of_band(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    permissions: Permissions,
    times: IssueTimes,
) -> Result<InvoiceWithItems, ApiError> {
    let mut invoice = locked_invoice(tx, organization_id, invoice_id).await?;
    if invoice.status == InvoiceStatus::Draft {
        (invoice, _) = issue_draft(tx, organization_id, invoice_id, permissions, times).await?;
    }
    if invoice.status == InvoiceStatus::Unpaid && invoice.totals.amount_due.is_zero() {
        let items = tx
            .items_of_invoices(organization_id, std::slice::from_ref(invoice_id), None, 0)
            .await?;
        return close_if_nothing_due(tx, organization_id, (invoice, items)).await;
    }
    settleable(&invoice, TransactionType::Sale)?;
    let due = invoice.totals.amount_due;
    if due <= Decimal::ZERO || check_amount(due, invoice.currency).is_err() {
        return Err(ApiError::Conflict(Clash::NotPayableAtOnce {
            invoice: invoice_id.to_string(),
            due,
            currency: invoice.currency,
        }));
    }
    let transaction = record_transaction(
        tx,
        organization_id,
        TransactionInput {
            kind: TransactionType::Sale,
            customer_id: invoice.customer_id.clone(),
            website_id: invoice.website_id.clone(),
            currency: invoice.currency,
            amount: invoice.totals.amount_due,
            method: PaymentMethod::Other,
            description: None,
        },
    )
    .await?;
    let payment = Payment::Elsewhere;
    settle_by(
        tx,
        organization_id,
        invoice_id,
        &transaction.id,
        None,
        payment,
    )
    .await
}

/// Marks an issued invoice with nothing to pay (a total of 0) paid, as finalizing one does on
/// a dialect where such an invoice needs no payment; any other invoice is left as it is.
#[tracing::instrument(skip_all, fields(invoice = %read.0.id))]
pub async fn close_if_nothing_due(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    read: InvoiceWithItems,
) -> Result<InvoiceWithItems, ApiError> {
    let (invoice, items) = read;
    if invoice.status != InvoiceStatus::Unpaid || !invoice.totals.amount_due.is_zero() {
        return Ok((invoice, items));
    }
    let before = invoice.clone();
    let mut invoice = invoice;
    let now = Utc::now();
    invoice.status = InvoiceStatus::Paid;
    invoice.payments.paid_time = Some(now);
    invoice.updated_time = now;
    let closed = finish(tx, organization_id, before, invoice, EventType::InvoicePaid).await?;
    // Nothing to pay is a payment that succeeded at once, as on a dialect that tells it apart.
    let succeeded = EventType::InvoicePaymentSucceeded;
    record(
        tx,
        organization_id,
        &closed.0,
        succeeded,
        EventChanges::default(),
    )
    .await?;
    Ok(closed)
}

/// Stores a settled invoice and writes its event.
async fn finish(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    before: Invoice,
    mut invoice: Invoice,
    event_type: EventType,
) -> Result<InvoiceWithItems, ApiError> {
    invoice.revision += 1;
    tx.update_invoice(organization_id, &invoice).await?;
    let changes = EventChanges {
        fields: changed_fields(&before, &invoice),
        ..EventChanges::default()
    };
    record(tx, organization_id, &invoice, event_type, changes).await?;
    let items = tx
        .items_of_invoices(organization_id, std::slice::from_ref(&invoice.id), None, 0)
        .await?;
    Ok((invoice, items))
}

/// How much of the transaction goes to the invoice: the amount asked for, checked against
/// both, or the lesser of what the transaction has left and what the invoice can take.
fn allocation_amount(
    invoice: &Invoice,
    transaction: &Transaction,
    asked: Option<Decimal>,
) -> Result<Decimal, ApiError> {
    let refused = |field, rule| Err(ApiError::invalid_input(field, rule));
    if transaction.customer_id != invoice.customer_id {
        return refused(
            DomainField::AppliedTransaction,
            Rule::TransactionOfOtherCustomer,
        );
    }
    if transaction.currency != invoice.currency {
        return refused(
            DomainField::AppliedTransaction,
            Rule::TransactionInOtherCurrency {
                invoice: invoice.currency,
            },
        );
    }
    settleable(invoice, transaction.kind)?;
    let unused = transaction.unused_amount();
    if unused <= Decimal::ZERO {
        return refused(DomainField::AppliedTransaction, Rule::TransactionUsedUp);
    }
    let room = room_for(invoice, transaction.kind);
    let currency = invoice.currency;
    let Some(asked) = asked else {
        if room <= Decimal::ZERO {
            return refused(DomainField::AppliedAmount, Rule::NothingDue);
        }
        return Ok(unused.min(room));
    };
    if asked <= Decimal::ZERO {
        return refused(DomainField::AppliedAmount, Rule::NotPositive);
    }
    if decimal_places(asked) > currency.minor_units() {
        return refused(DomainField::AppliedAmount, Rule::TooPrecise { currency });
    }
    if asked > unused {
        return refused(
            DomainField::AppliedAmount,
            Rule::MoreThanUnused { unused, currency },
        );
    }
    if asked > room {
        let rule = match transaction.kind {
            TransactionType::Sale => Rule::MoreThanDue {
                due: room,
                currency,
            },
            TransactionType::Refund => Rule::MoreThanPaid {
                held: room,
                currency,
            },
        };
        return refused(DomainField::AppliedAmount, rule);
    }
    Ok(asked)
}

/// The most a transaction of that type can apply to the invoice: what is due for a sale, what
/// it holds of the customer's money for a refund.
fn room_for(invoice: &Invoice, kind: TransactionType) -> Decimal {
    match kind {
        TransactionType::Sale => invoice.totals.amount_due,
        TransactionType::Refund => invoice.payments.net_paid(),
    }
}

/// 409 unless the invoice's status takes a transaction of that type.
fn settleable(invoice: &Invoice, kind: TransactionType) -> Result<(), ApiError> {
    use InvoiceStatus::*;
    let takes = match kind {
        // A written-off invoice may still be paid, once it was issued.
        TransactionType::Sale => {
            matches!(invoice.status, Unpaid | PartiallyPaid | PastDue)
                || (invoice.status == Abandoned && invoice.issued_time.is_some())
        }
        TransactionType::Refund => {
            matches!(
                invoice.status,
                Paid | PartiallyPaid | PastDue | PartiallyRefunded
            ) && invoice.payments.net_paid() > Decimal::ZERO
        }
    };
    if takes {
        Ok(())
    } else {
        Err(ApiError::Conflict(Clash::NotSettleable {
            invoice: invoice.id.to_string(),
            status: invoice.status,
            kind,
        }))
    }
}

/// Moves an invoice's figures and status by a checked amount of a transaction, as Rebilly
/// does; the event it makes.
pub(super) fn settle(
    invoice: &mut Invoice,
    kind: TransactionType,
    amount: Decimal,
    now: DateTime<Utc>,
) -> Result<EventType, ApiError> {
    settleable(invoice, kind)?;
    let payments = &mut invoice.payments;
    let event_type = match kind {
        TransactionType::Sale => {
            payments.paid_amount += amount;
            invoice.totals.amount_due -= amount;
            if invoice.totals.amount_due.is_zero() {
                payments.paid_time = Some(now);
                invoice.status = InvoiceStatus::Paid;
                EventType::InvoicePaid
            } else {
                // A past-due invoice stays past due until it is paid in full, and a written-off
                // one written off.
                if invoice.status == InvoiceStatus::Unpaid {
                    invoice.status = InvoiceStatus::PartiallyPaid;
                }
                EventType::InvoicePartiallyPaid
            }
        }
        TransactionType::Refund => {
            payments.refunded_amount += amount;
            invoice.totals.amount_due += amount;
            let was_paid_in_full = matches!(
                invoice.status,
                InvoiceStatus::Paid | InvoiceStatus::PartiallyRefunded
            );
            let all_back = payments.net_paid().is_zero();
            invoice.status = match (was_paid_in_full, all_back) {
                (true, true) => InvoiceStatus::Refunded,
                (true, false) => InvoiceStatus::PartiallyRefunded,
                // Never paid in full, and nothing held or credited any more: awaiting payment
                // again, as before its first payment (a past-due invoice stays past due).
                (false, true)
                    if invoice.status == InvoiceStatus::PartiallyPaid
                        && payments.credited_amount.is_zero() =>
                {
                    InvoiceStatus::Unpaid
                }
                (false, _) => invoice.status,
            };
            if all_back {
                EventType::InvoiceRefunded
            } else {
                EventType::InvoicePartiallyRefunded
            }
        }
    };
    invoice.updated_time = now;
    Ok(event_type)
}

#[cfg(test)]
pub(super) mod tests;
