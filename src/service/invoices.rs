//! Invoice use cases: create, upsert, read, list, and the lifecycle actions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::events::{changed_fields, record};
use super::item_writes::{
    Applied, ItemWrite, KeptItems, Locking, Targeted, draft_only, write_items,
};
use super::repricing::reprice;
use rust_decimal::Decimal;

use crate::domain::discount::{AppliedDiscount, Discount};
use crate::domain::event::{EventChanges, EventType};
use crate::domain::ids::{InvoiceId, OrganizationId};
use crate::domain::invoice::{
    HostedToken, Invoice, InvoiceAction, InvoiceInput, InvoicePatch, InvoicePayments,
    InvoiceStatus, InvoiceTotals, PendingItems,
};
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::organization::Organization;
use crate::domain::precondition::ExpectedVersion;
use crate::error::{ApiError, Clash, DomainField, DraftChange, Resource, Rule};
use crate::repository::{Cursor, Db, InvoiceListing, Tx};

/// An invoice with its items, oldest first.
pub type InvoiceWithItems = (Invoice, Vec<InvoiceItem>);

/// Creates a draft invoice, in the caller's transaction; with [`PendingItems::Include`], its
/// customer's pending items of its currency move onto it.
#[tracing::instrument(skip_all)]
pub async fn create_invoice(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    input: InvoiceInput,
    pending: PendingItems,
) -> Result<InvoiceWithItems, ApiError> {
    let invoice = insert_new(tx, organization_id, InvoiceId::generate(), input)
        .await?
        .ok_or_else(|| ApiError::Internal("a new invoice id was already taken".into()))?;
    with_pending_items(tx, organization_id, (invoice, Vec::new()), pending).await
}

/// The invoice with its customer's pending items of its currency moved onto it, when asked.
async fn with_pending_items(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    (invoice, items): InvoiceWithItems,
    pending: PendingItems,
) -> Result<InvoiceWithItems, ApiError> {
    match pending {
        PendingItems::Exclude => Ok((invoice, items)),
        PendingItems::Include => take_in_pending_items(tx, organization_id, &invoice.id).await,
    }
}

/// Moves the invoice's customer's pending items of its currency onto the draft, oldest first,
/// keeping their ids and creation times, in the caller's transaction: each is priced on the
/// invoice and written with its `invoice-modified` event, as if created there, and its own
/// `item-updated`, from pending to on the invoice. Returns the
/// invoice and all its items after the move.
#[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
async fn take_in_pending_items(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<(Invoice, Vec<InvoiceItem>), ApiError> {
    let invoice = locked_invoice(tx, organization_id, invoice_id).await?;
    draft_only(&invoice)?;
    let pending = tx
        .take_pending_items(organization_id, &invoice.customer_id, invoice.currency)
        .await?;
    let writes: Vec<ItemWrite> = pending
        .into_iter()
        .map(|item| ItemWrite::Create {
            input: item.as_input(),
            id: item.id.clone(),
            pending: Some(Box::new(item)),
            terms: None,
        })
        .collect();
    let targets: Vec<Targeted<'_>> = writes
        .iter()
        .map(|write| Targeted {
            organization_id,
            invoice_id,
            write,
            cause: None,
        })
        .collect();
    for applied in write_items(tx, &targets, Locking::Wait, &mut KeptItems::default()).await? {
        match applied {
            Applied::Done(done) => drop((*done)?),
            Applied::Elsewhere => return Err(invoice_not_found(invoice_id.as_str())),
        }
    }
    let invoice = locked_invoice(tx, organization_id, invoice_id).await?;
    let items = tx
        .items_of_invoices(organization_id, std::slice::from_ref(invoice_id), None, 0)
        .await?;
    Ok((invoice, items))
}

/// Creates the invoice with that id (`true`), or replaces the fields of the draft that has it
/// (`false`), repricing its items, in the caller's transaction. With `if_match`, only the
/// version it names may be replaced, and nothing created (412 otherwise).
#[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
pub async fn upsert_invoice(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    input: InvoiceInput,
    if_match: Option<&ExpectedVersion>,
    pending: PendingItems,
) -> Result<(InvoiceWithItems, bool), ApiError> {
    // A concurrent PUT may create the invoice between our lookup and our insert; then the
    // insert, finding the id taken, waits for the other to commit and writes nothing, and the
    // second attempt, a new statement of the same transaction (read committed), finds the row
    // and updates it. The 409 below is a guard that read committed never reaches.
    for _ in 0..2 {
        let current = tx.lock_invoice(organization_id, invoice_id).await?;
        if let Some(if_match) = if_match
            && !if_match.admits(current.as_ref().map(|invoice| invoice.revision))
        {
            return Err(ApiError::version_mismatch(Resource::Invoice, invoice_id));
        }
        let Some(current) = current else {
            let created =
                insert_new(tx, organization_id, invoice_id.clone(), input.clone()).await?;
            if let Some(invoice) = created {
                let created =
                    with_pending_items(tx, organization_id, (invoice, Vec::new()), pending).await?;
                return Ok((created, true));
            }
            continue;
        };
        let updated = update_draft(tx, organization_id, current, input).await?;
        let updated = with_pending_items(tx, organization_id, updated, pending).await?;
        return Ok((updated, false));
    }
    Err(ApiError::Conflict(Clash::CreatedConcurrently {
        invoice: invoice_id.to_string(),
    }))
}

/// The organization's issued invoice whose page link carries `token`, with its items and its
/// seller; 404 when none of its invoices' links carries it (any more).
#[tracing::instrument(skip_all)]
pub async fn hosted_invoice(
    db: &Db,
    organization_id: &OrganizationId,
    token: &HostedToken,
) -> Result<(Invoice, Vec<InvoiceItem>, Organization), ApiError> {
    let missing = || ApiError::not_found(Resource::InvoicePage, token.as_str());
    let found = db
        .read(async |snapshot| {
            let found = snapshot.invoice_of_hosted_token(organization_id, token);
            let Some(invoice_id) = found.await? else {
                return Ok(None);
            };
            let read = invoice_in(snapshot, organization_id, &invoice_id).await?;
            Ok::<_, ApiError>(Some(read))
        })
        .await?;
    let (invoice, items) = found.ok_or_else(missing)?;
    let seller = db.find_organization(organization_id).await?;
    Ok((invoice, items, seller))
}

/// Revokes the organization's invoice link that carries `token`: the invoice's page gets a new
/// link, and the old one opens nothing; 404 when none of the organization's links carries it.
#[tracing::instrument(skip_all)]
pub async fn revoke_hosted_link(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    token: &HostedToken,
) -> Result<(), ApiError> {
    let missing = || ApiError::not_found(Resource::InvoicePage, token.as_str());
    let invoice_id = tx
        .invoice_of_hosted_token(organization_id, token)
        .await?
        .ok_or_else(missing)?;
    let mut invoice = tx
        .lock_invoice(organization_id, &invoice_id)
        .await?
        .filter(|invoice| invoice.hosted_token.as_ref() == Some(token))
        .ok_or_else(missing)?;
    // The link is no figure of the invoice: its revision and events stay as they are.
    invoice.hosted_token = Some(HostedToken::generate());
    tx.update_invoice(organization_id, &invoice).await?;
    Ok(())
}

/// An invoice with its newest `shown` items, newest first, read in one snapshot: for a dialect
/// that shows an invoice with only its first lines.
#[tracing::instrument(skip_all)]
pub async fn get_invoice_with_newest_items(
    db: &Db,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    shown: i64,
) -> Result<InvoiceWithItems, ApiError> {
    let invoice_ids = std::slice::from_ref(invoice_id);
    db.read(async |snapshot| {
        invoices_with_newest_items(snapshot, organization_id, invoice_ids, shown).await
    })
    .await?
    .into_iter()
    .next()
    .ok_or_else(|| invoice_not_found(invoice_id.as_str()))
}

/// The organization's invoices of these ids, in no set order, each with its discounts and its
/// newest `shown` items, newest first, as the caller's transaction sees them.
pub async fn invoices_with_newest_items(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_ids: &[InvoiceId],
    shown: i64,
) -> Result<Vec<InvoiceWithItems>, ApiError> {
    let invoices = tx.invoices_by_ids(organization_id, invoice_ids).await?;
    with_items(tx, organization_id, invoices, Some(shown)).await
}

/// One invoice with its items, as the caller's transaction sees them.
async fn invoice_in(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<InvoiceWithItems, ApiError> {
    let invoice = tx
        .find_invoice(organization_id, invoice_id)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))?;
    let items = items_of(tx, organization_id, &invoice.id).await?;
    Ok((invoice, items))
}

/// A page of the organization's invoices (of one customer, when given), newest first, from
/// `cursor`, each with its newest `shown` items, newest first: a cursor page, which does not
/// shift as invoices are made. `None` when the cursor names no invoice of the organization.
#[tracing::instrument(skip_all)]
pub async fn page_invoices(
    db: &Db,
    organization_id: &OrganizationId,
    listing: &InvoiceListing,
    cursor: Cursor<'_, InvoiceId>,
    limit: i64,
    shown: i64,
) -> Result<Option<Vec<InvoiceWithItems>>, ApiError> {
    db.read(async |snapshot| {
        let found = snapshot.invoices_by_cursor(organization_id, listing, cursor, limit);
        match found.await? {
            Some(invoices) => Ok(Some(
                with_items(snapshot, organization_id, invoices, Some(shown)).await?,
            )),
            None => Ok(None),
        }
    })
    .await
}

/// Invoices read without their discounts, with their discounts and items: all of them, oldest
/// first, or with `Some(shown)` the newest `shown`, newest first.
pub(super) async fn with_items(
    snapshot: &mut Tx,
    organization_id: &OrganizationId,
    invoices: Vec<Invoice>,
    shown: Option<i64>,
) -> Result<Vec<InvoiceWithItems>, ApiError> {
    let ids: Vec<InvoiceId> = invoices.iter().map(|invoice| invoice.id.clone()).collect();
    let discounts = snapshot
        .discounts_of_invoices(organization_id, &ids)
        .await?;
    let items = match shown {
        None => {
            snapshot
                .items_of_invoices(organization_id, &ids, None, 0)
                .await?
        }
        Some(shown) => {
            snapshot
                .newest_items_of_invoices(organization_id, &ids, shown)
                .await?
        }
    };
    // Every allocation pays an invoice or refunds what it was paid.
    let paid: Vec<InvoiceId> = invoices
        .iter()
        .filter(|invoice| invoice.payments.paid_amount > Decimal::ZERO)
        .map(|invoice| invoice.id.clone())
        .collect();
    let allocations = if paid.is_empty() {
        Vec::new()
    } else {
        snapshot.recent_allocations(organization_id, &paid).await?
    };
    let credited: Vec<InvoiceId> = invoices
        .iter()
        .filter(|invoice| invoice.payments.credited_amount > Decimal::ZERO)
        .map(|invoice| invoice.id.clone())
        .collect();
    let credits = if credited.is_empty() {
        Vec::new()
    } else {
        snapshot
            .credit_allocations(organization_id, &[], &credited)
            .await?
    };
    let mut discounts = group_by_invoice(discounts, |(id, _)| id.clone());
    let mut items = group_by_invoice(items, |item| item.invoice_id.clone());
    let mut allocations = group_by_invoice(allocations, |allocation| allocation.invoice_id.clone());
    let mut credits = group_by_invoice(credits, |credit| credit.invoice_id.clone());
    Ok(invoices
        .into_iter()
        .map(|mut invoice| {
            let applied = discounts.remove(&invoice.id).unwrap_or_default();
            invoice.discounts = applied.into_iter().map(|(_, applied)| applied).collect();
            invoice.payments.recent_allocations =
                allocations.remove(&invoice.id).unwrap_or_default();
            invoice.payments.credit_allocations = credits.remove(&invoice.id).unwrap_or_default();
            let items = items.remove(&invoice.id).unwrap_or_default();
            (invoice, items)
        })
        .collect())
}

/// Moves a locked invoice along its lifecycle, in the caller's transaction: 409 from a status
/// the action does not apply to.
#[tracing::instrument(skip_all, fields(invoice = %invoice_id, action = action.verb()))]
pub async fn apply_action(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    action: InvoiceAction,
    times: IssueTimes,
) -> Result<InvoiceWithItems, ApiError> {
    let mut invoice = locked_invoice(tx, organization_id, invoice_id).await?;
    let now = Utc::now();
    let issued_time = times.issued_time.unwrap_or(now);
    if action == InvoiceAction::Issue && times.due_time.is_some_and(|due| due < issued_time) {
        return Err(ApiError::invalid_input(
            DomainField::InvoiceDueTime,
            Rule::DueBeforeIssue,
        ));
    }
    if !action.admits(&invoice) {
        return Err(ApiError::Conflict(Clash::NotActionable {
            invoice: invoice_id.to_string(),
            status: invoice.status,
            action,
        }));
    }
    let held = invoice.payments.net_paid();
    if action == InvoiceAction::Void && held > Decimal::ZERO {
        return Err(ApiError::Conflict(Clash::HoldsPayments {
            invoice: invoice_id.to_string(),
            status: invoice.status,
            held,
            currency: invoice.currency,
        }));
    }
    let credited = invoice.payments.credited_amount;
    if action == InvoiceAction::Void && credited > Decimal::ZERO {
        return Err(ApiError::Conflict(Clash::HoldsCredit {
            invoice: invoice_id.to_string(),
            credited,
            currency: invoice.currency,
        }));
    }
    let before = invoice.clone();
    match action {
        InvoiceAction::Issue => {
            // Without a dueTime in the body, the invoice keeps its own unless that would fall
            // before the issue; then, as in Rebilly, it is due when issued, unless it is to
            // stay open-ended.
            let kept = invoice.due_time.filter(|due| *due >= issued_time);
            // An invoice sent for payment without a due time of its own is due some days on.
            let days_on = invoice
                .collection
                .days_until_due
                .and_then(|days| issued_time.checked_add_days(chrono::Days::new(u64::from(days))));
            let due = times.due_time.or(kept).or(days_on);
            invoice.issued_time = Some(issued_time);
            invoice.due_time = if times.open_ended {
                due
            } else {
                Some(due.unwrap_or(issued_time))
            };
            invoice.invoice_number = Some(tx.next_invoice_number(organization_id).await?);
            // From now on its customer may open it by its link.
            invoice.hosted_token = Some(HostedToken::generate());
        }
        InvoiceAction::Void => invoice.voided_time = Some(now),
        InvoiceAction::Abandon | InvoiceAction::WriteOff => invoice.abandoned_time = Some(now),
    }
    invoice.status = action.target();
    invoice.revision += 1;
    invoice.updated_time = now;
    tx.update_invoice(organization_id, &invoice).await?;
    let changes = EventChanges {
        fields: changed_fields(&before, &invoice),
        ..EventChanges::default()
    };
    record(
        tx,
        organization_id,
        &invoice,
        EventType::of_action(action),
        changes,
    )
    .await?;
    let items = items_of(tx, organization_id, &invoice.id).await?;
    Ok((invoice, items))
}

/// The optional body of `POST /invoices/{id}/issue`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IssueTimes {
    /// When it is issued; now when absent.
    pub issued_time: Option<DateTime<Utc>>,
    /// When it is due; when absent, the invoice's own `dueTime` if not before `issuedTime`,
    /// else `issuedTime` (or none: see `open_ended`).
    pub due_time: Option<DateTime<Utc>>,
    /// With no due time given or kept: `false`, it is due when issued (Rebilly's rule);
    /// `true`, it has none and never turns past due (Stripe's rule for an invoice without a
    /// `due_date`).
    pub open_ended: bool,
}

/// The 412 for a change whose precondition names another version than the current one.
/// The 404 for an invoice the organization does not have.
pub fn invoice_not_found(invoice_id: &str) -> ApiError {
    ApiError::not_found(Resource::Invoice, invoice_id)
}

/// The invoice, locked until the transaction ends; the 404 when the organization has none of
/// that id.
pub(super) async fn locked_invoice(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<Invoice, ApiError> {
    tx.lock_invoice(organization_id, invoice_id)
        .await?
        .ok_or_else(|| invoice_not_found(invoice_id.as_str()))
}

/// Inserts a new draft; `None` when the id is taken.
async fn insert_new(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    id: InvoiceId,
    input: InvoiceInput,
) -> Result<Option<Invoice>, ApiError> {
    let now = Utc::now();
    let mut invoice = Invoice {
        id,
        customer_id: input.customer_id,
        website_id: input.website_id,
        currency: input.currency,
        status: InvoiceStatus::Draft,
        invoice_number: None,
        totals: InvoiceTotals::default(),
        payments: InvoicePayments::default(),
        due_time: input.due_time,
        issued_time: None,
        abandoned_time: None,
        voided_time: None,
        discounts: unapplied(input.discounts),
        tax: input.tax,
        notes: input.notes.map(|notes| notes.into_string()),
        po_number: input.po_number.map(|po_number| po_number.into_string()),
        parties: input.parties,
        metadata: input.metadata.unwrap_or_default(),
        collection: input.collection.unwrap_or_default(),
        hosted_token: None,
        revision: 0,
        created_time: now,
        updated_time: now,
    };
    let repriced = reprice(&invoice, &mut [], now);
    invoice.discounts = repriced.discounts;
    invoice.totals = repriced.totals;
    if !tx.insert_invoice(organization_id, &invoice).await? {
        return Ok(None);
    }
    tx.save_discounts(organization_id, &invoice.id, &invoice.discounts)
        .await?;
    let changes = EventChanges::default();
    record(
        tx,
        organization_id,
        &invoice,
        EventType::InvoiceCreated,
        changes,
    )
    .await?;
    Ok(Some(invoice))
}

/// Deletes a draft with its items and discounts; 409 for an invoice that is no longer a draft.
/// Its events stay in the log, the last of them its deletion, which keeps the draft as it was.
#[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
pub async fn delete_draft(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<(), ApiError> {
    let mut invoice = locked_invoice(tx, organization_id, invoice_id).await?;
    if invoice.status != InvoiceStatus::Draft {
        return Err(ApiError::Conflict(Clash::NotDraft {
            invoice: invoice_id.to_string(),
            status: invoice.status,
            change: DraftChange::Invoice,
        }));
    }
    invoice.revision += 1;
    invoice.updated_time = Utc::now();
    record(
        tx,
        organization_id,
        &invoice,
        EventType::InvoiceDeleted,
        EventChanges::default(),
    )
    .await?;
    tx.delete_invoice(organization_id, invoice_id).await?;
    Ok(())
}

/// Replaces the fields of a locked draft and reprices its items.
async fn update_draft(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    current: Invoice,
    input: InvoiceInput,
) -> Result<InvoiceWithItems, ApiError> {
    if current.status != InvoiceStatus::Draft {
        return Err(ApiError::Conflict(Clash::NotDraft {
            invoice: current.id.to_string(),
            status: current.status,
            change: DraftChange::Invoice,
        }));
    }
    let mut items = items_of(tx, organization_id, &current.id).await?;
    if input.currency != current.currency && !items.is_empty() {
        return Err(ApiError::Conflict(Clash::CurrencyInUse {
            invoice: current.id.to_string(),
            currency: current.currency,
            asked: input.currency,
        }));
    }
    let now = Utc::now();
    let before = current.clone();
    let mut invoice = Invoice {
        customer_id: input.customer_id,
        website_id: input.website_id,
        currency: input.currency,
        due_time: input.due_time,
        discounts: unapplied(input.discounts),
        tax: input.tax,
        notes: input.notes.map(|notes| notes.into_string()),
        po_number: input.po_number.map(|po_number| po_number.into_string()),
        parties: input.parties,
        metadata: input.metadata.unwrap_or(current.metadata),
        collection: input.collection.unwrap_or(current.collection),
        revision: current.revision + 1,
        updated_time: now,
        ..current
    };
    let repriced = reprice(&invoice, &mut items, now);
    let moved: Vec<&InvoiceItem> = repriced.moved.iter().map(|&index| &items[index]).collect();
    let stored: Vec<_> = moved.iter().map(|item| (organization_id, *item)).collect();
    if !stored.is_empty() {
        tx.save_items(&stored).await?;
    }
    invoice.discounts = repriced.discounts;
    invoice.totals = repriced.totals;
    tx.update_invoice(organization_id, &invoice).await?;
    tx.save_discounts(organization_id, &invoice.id, &invoice.discounts)
        .await?;
    let changes = EventChanges {
        fields: changed_fields(&before, &invoice),
        items_repriced: moved.iter().map(|item| item.id.clone()).collect(),
        ..EventChanges::default()
    };
    record(
        tx,
        organization_id,
        &invoice,
        EventType::InvoiceModified,
        changes,
    )
    .await?;
    Ok((invoice, items))
}

/// Changes a draft's own fields that leave its prices as they are, in the caller's
/// transaction: 404 without it, 409 once it is no longer a draft, 422 when its way of
/// collecting would not fit its due date. A due date given drops days until due, and days
/// given drop the due date, as one replaces the other.
#[tracing::instrument(skip_all, fields(invoice = %invoice_id))]
pub async fn patch_draft(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    patch: InvoicePatch,
) -> Result<InvoiceWithItems, ApiError> {
    let current = locked_invoice(tx, organization_id, invoice_id).await?;
    if current.status != InvoiceStatus::Draft {
        return Err(ApiError::Conflict(Clash::NotDraft {
            invoice: current.id.to_string(),
            status: current.status,
            change: DraftChange::Invoice,
        }));
    }
    let before = current.clone();
    let mut invoice = current;
    if let Some(notes) = patch.notes {
        invoice.notes = notes.map(|notes| notes.into_string());
    }
    if let Some(change) = patch.metadata {
        invoice.metadata = invoice.metadata.changed(change).map_err(|error| {
            ApiError::invalid_input(DomainField::InvoiceMetadata, Rule::Metadata(error))
        })?;
    }
    if let Some(method) = patch.collection_method {
        invoice.collection.method = method;
    }
    match (patch.due_time, patch.days_until_due) {
        (Some(due), None) if due.is_some() => {
            invoice.due_time = due;
            invoice.collection.days_until_due = None;
        }
        (None, Some(Some(days))) => {
            invoice.collection.days_until_due = Some(days);
            invoice.due_time = None;
        }
        (due, days) => {
            invoice.due_time = due.unwrap_or(invoice.due_time);
            invoice.collection.days_until_due = days.unwrap_or(invoice.collection.days_until_due);
        }
    }
    invoice
        .collection
        .check(invoice.due_time)
        .map_err(|misfit| {
            ApiError::invalid_input(DomainField::InvoiceDaysUntilDue, Rule::Collection(misfit))
        })?;
    if invoice != before {
        invoice.revision += 1;
        invoice.updated_time = Utc::now();
        tx.update_invoice(organization_id, &invoice).await?;
        let changes = EventChanges {
            fields: changed_fields(&before, &invoice),
            ..EventChanges::default()
        };
        let modified = EventType::InvoiceModified;
        record(tx, organization_id, &invoice, modified, changes).await?;
    }
    let items = items_of(tx, organization_id, &invoice.id).await?;
    Ok((invoice, items))
}

async fn items_of(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
) -> Result<Vec<InvoiceItem>, ApiError> {
    Ok(tx
        .items_of_invoices(organization_id, std::slice::from_ref(invoice_id), None, 0)
        .await?)
}

/// Discounts not yet applied to anything.
fn unapplied(discounts: Vec<Discount>) -> Vec<AppliedDiscount> {
    discounts
        .into_iter()
        .map(|discount| AppliedDiscount {
            discount,
            amount: Decimal::ZERO,
        })
        .collect()
}

/// Groups rows by their invoice, keeping their order within each invoice.
fn group_by_invoice<T>(
    rows: Vec<T>,
    invoice_of: impl Fn(&T) -> InvoiceId,
) -> HashMap<InvoiceId, Vec<T>> {
    let mut groups: HashMap<InvoiceId, Vec<T>> = HashMap::new();
    for row in rows {
        groups.entry(invoice_of(&row)).or_default().push(row);
    }
    groups
}
