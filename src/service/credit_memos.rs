//! Credit memo use cases: issuing a memo for an invoice, allocating it to invoices (which
//! lowers what they have due, and can pay them), changing those allocations, and voiding it.
//!
//! Every write locks what it changes in one order, so that concurrent writes from any replica
//! see each other's effect and never wait on each other in a circle: a memo first (when it
//! exists), then its invoices by id.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::events::{changed_fields, record_at};
use super::invoices::invoice_not_found;
use super::settlement::{record_transaction, settle};
use crate::domain::credit_memo::{
    AllocationRequest, CreditAllocation, CreditLine, CreditMemo, CreditMemoInput, CreditMemoStatus,
    CreditReason, CreditSettlement, CreditTotals, Credited, price_line,
};
use crate::domain::event::{EventChanges, EventType};
use crate::domain::ids::{CreditMemoId, InvoiceId, InvoiceItemId, OrganizationId};
use crate::domain::invoice::{Invoice, InvoiceStatus, RECENT_ALLOCATIONS};
use crate::domain::invoice_item::{Description, InvoiceItem};
use crate::domain::money::decimal_places;
use crate::domain::transaction::{
    Allocation, MAX_AMOUNT, PaymentMethod, TransactionDescription, TransactionInput,
    TransactionType,
};
use crate::error::{ApiError, Clash, DomainField, Resource, Rule};
use crate::repository::{CreditMemoFilter, CreditMemoPage, Cursor, Db, Tx};

/// What a client may change on an issued memo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreditMemoPatch {
    /// Its reason, when given (`Some(None)` clears it).
    pub reason: Option<Option<CreditReason>>,
    /// Its description, when given (`Some(None)` clears it).
    pub description: Option<Option<Description>>,
    /// Every allocation it is to have, when given: those not listed are withdrawn.
    pub allocations: Option<Vec<AllocationRequest>>,
}

/// Issues a credit memo for an invoice, in the caller's transaction, and settles it as the
/// input says.
#[tracing::instrument(skip_all, fields(invoice = %input.invoice_id))]
pub async fn issue_credit_memo(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    input: CreditMemoInput,
) -> Result<CreditMemo, ApiError> {
    let mut ids: Vec<InvoiceId> = input
        .allocations
        .iter()
        .map(|allocation| allocation.invoice_id.clone())
        .collect();
    ids.push(input.invoice_id.clone());
    let mut ledger = Ledger::lock(tx, organization_id, ids).await?;
    let credited = ledger.get(&input.invoice_id).ok_or_else(|| {
        ApiError::invalid_input(DomainField::CreditedInvoice, Rule::UnknownInvoice)
    })?;
    if matches!(
        credited.status,
        InvoiceStatus::Draft | InvoiceStatus::Voided
    ) {
        return Err(ApiError::Conflict(Clash::NotCreditable {
            invoice: credited.id.to_string(),
            status: credited.status,
        }));
    }
    check_terms(credited, &input)?;
    let items = tx
        .items_of_invoices(organization_id, std::slice::from_ref(&credited.id), None, 0)
        .await?;
    let (earlier_total, earlier) = tx
        .credited_of_invoice(organization_id, &credited.id)
        .await?;
    let lines = price_lines(&input, &items, earlier, credited.currency)?;
    let currency = credited.currency;
    if decimal_places(input.shipping_amount) > currency.minor_units() {
        return Err(ApiError::invalid_input(
            DomainField::CreditShipping,
            Rule::TooPrecise { currency },
        ));
    }
    let totals = CreditTotals::of(&lines, input.shipping_amount);
    if totals.total_amount <= Decimal::ZERO || totals.total_amount > MAX_AMOUNT {
        return Err(ApiError::invalid_input(
            DomainField::CreditLines,
            Rule::CreditTotal {
                total: totals.total_amount,
            },
        ));
    }
    // Memos never credit an invoice past what it charged.
    let left = (credited.totals.amount - earlier_total).normalize();
    if totals.total_amount > left {
        return Err(ApiError::invalid_input(
            DomainField::CreditLines,
            Rule::MoreThanInvoiceLeft { left, currency },
        ));
    }
    let now = Utc::now();
    let mut memo = CreditMemo {
        id: CreditMemoId::generate(),
        number: tx.next_credit_memo_number(organization_id).await?,
        customer_id: credited.customer_id.clone(),
        currency,
        invoice_id: credited.id.clone(),
        status: CreditMemoStatus::Issued,
        reason: input.reason,
        description: input.description.map(Description::into_string),
        lines,
        totals,
        allocated_amount: Decimal::ZERO,
        out_of_band_amount: Decimal::ZERO,
        allocations: Vec::new(),
        metadata: input.metadata,
        revision: 0,
        created_time: now,
        updated_time: now,
        voided_time: None,
    };
    tx.insert_credit_memo(organization_id, &memo).await?;
    ledger.note(&memo.invoice_id, EventType::CreditMemoCreated, &memo.id);
    match input.settlement {
        CreditSettlement::AsAllocated => {
            for request in &input.allocations {
                let id = &request.invoice_id;
                if input
                    .allocations
                    .iter()
                    .filter(|other| &other.invoice_id == id)
                    .count()
                    > 1
                {
                    return Err(ApiError::invalid_input(
                        DomainField::AllocatedInvoice,
                        Rule::InvoiceListedTwice {
                            invoice: id.to_string(),
                        },
                    ));
                }
                ledger
                    .allocate(tx, organization_id, &mut memo, request, now)
                    .await?;
            }
        }
        CreditSettlement::OnTheInvoice { out_of_band } => {
            settle_on_the_invoice(
                tx,
                organization_id,
                &mut ledger,
                &mut memo,
                out_of_band,
                now,
            )
            .await?;
        }
    }
    memo.status = CreditMemoStatus::of_allocated(memo.allocated_amount, memo.totals.total_amount);
    tx.update_credit_memo(organization_id, &memo).await?;
    ledger.finish(tx, organization_id).await?;
    Ok(memo)
}

/// Changes an issued memo's reason, description or allocations, in the caller's transaction.
#[tracing::instrument(skip_all, fields(credit_memo = %credit_memo_id))]
pub async fn patch_credit_memo(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    credit_memo_id: &CreditMemoId,
    patch: CreditMemoPatch,
) -> Result<CreditMemo, ApiError> {
    let mut memo = lock_memo(tx, organization_id, credit_memo_id).await?;
    let before = memo.clone();
    let now = Utc::now();
    if let Some(reason) = patch.reason {
        memo.reason = reason;
    }
    if let Some(description) = patch.description {
        memo.description = description.map(Description::into_string);
    }
    if let Some(wanted) = patch.allocations {
        if memo.out_of_band_amount > Decimal::ZERO {
            return Err(ApiError::Conflict(Clash::CreditGivenBack {
                credit_memo: memo.id.to_string(),
                amount: memo.out_of_band_amount,
                currency: memo.currency,
            }));
        }
        for (index, request) in wanted.iter().enumerate() {
            if wanted[..index]
                .iter()
                .any(|other| other.invoice_id == request.invoice_id)
            {
                return Err(ApiError::invalid_input(
                    DomainField::AllocatedInvoice,
                    Rule::InvoiceListedTwice {
                        invoice: request.invoice_id.to_string(),
                    },
                ));
            }
        }
        let ids = memo
            .allocations
            .iter()
            .map(|allocation| allocation.invoice_id.clone())
            .chain(wanted.iter().map(|request| request.invoice_id.clone()))
            .collect();
        let mut ledger = Ledger::lock(tx, organization_id, ids).await?;
        // Withdrawn first, so that what they free can go to the invoices listed.
        let withdrawn: Vec<InvoiceId> = memo
            .allocations
            .iter()
            .map(|allocation| allocation.invoice_id.clone())
            .filter(|id| !wanted.iter().any(|request| &request.invoice_id == id))
            .collect();
        ledger
            .withdraw(tx, organization_id, &mut memo, withdrawn, now)
            .await?;
        for request in &wanted {
            ledger
                .allocate(tx, organization_id, &mut memo, request, now)
                .await?;
        }
        memo.status =
            CreditMemoStatus::of_allocated(memo.allocated_amount, memo.totals.total_amount);
        ledger.finish(tx, organization_id).await?;
    }
    if memo != before {
        memo.revision += 1;
        memo.updated_time = now;
        tx.update_credit_memo(organization_id, &memo).await?;
    }
    Ok(memo)
}

/// Voids a memo, in the caller's transaction: its credit is withdrawn from every invoice it
/// was allocated to, which must all still be open.
#[tracing::instrument(skip_all, fields(credit_memo = %credit_memo_id))]
pub async fn void_credit_memo(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    credit_memo_id: &CreditMemoId,
) -> Result<CreditMemo, ApiError> {
    let mut memo = lock_memo(tx, organization_id, credit_memo_id).await?;
    if memo.out_of_band_amount > Decimal::ZERO {
        return Err(ApiError::Conflict(Clash::CreditGivenBack {
            credit_memo: memo.id.to_string(),
            amount: memo.out_of_band_amount,
            currency: memo.currency,
        }));
    }
    let now = Utc::now();
    let ids = memo
        .allocations
        .iter()
        .map(|allocation| allocation.invoice_id.clone())
        .chain([memo.invoice_id.clone()])
        .collect();
    let mut ledger = Ledger::lock(tx, organization_id, ids).await?;
    let allocated: Vec<InvoiceId> = memo
        .allocations
        .iter()
        .map(|allocation| allocation.invoice_id.clone())
        .collect();
    ledger
        .withdraw(tx, organization_id, &mut memo, allocated, now)
        .await?;
    memo.status = CreditMemoStatus::Voided;
    memo.voided_time = Some(now);
    memo.revision += 1;
    memo.updated_time = now;
    tx.update_credit_memo(organization_id, &memo).await?;
    ledger.note(&memo.invoice_id, EventType::CreditMemoVoided, &memo.id);
    ledger.finish(tx, organization_id).await?;
    Ok(memo)
}

/// One memo of the organization.
#[tracing::instrument(skip_all)]
pub async fn get_credit_memo(
    db: &Db,
    organization_id: &OrganizationId,
    credit_memo_id: &CreditMemoId,
) -> Result<CreditMemo, ApiError> {
    db.read(async |snapshot| {
        snapshot
            .find_credit_memo(organization_id, credit_memo_id)
            .await
    })
    .await?
    .ok_or_else(|| ApiError::not_found(Resource::CreditMemo, credit_memo_id))
}

/// A memo, the invoice it credits and that invoice's items, read in one snapshot: a document
/// shows the memo with the invoice's parties, and an e-invoice states each line in its item's
/// VAT category.
#[tracing::instrument(skip_all)]
pub async fn get_credit_memo_with_invoice(
    db: &Db,
    organization_id: &OrganizationId,
    credit_memo_id: &CreditMemoId,
) -> Result<(CreditMemo, Invoice, Vec<InvoiceItem>), ApiError> {
    db.read(async |snapshot| {
        let Some(memo) = snapshot
            .find_credit_memo(organization_id, credit_memo_id)
            .await?
        else {
            return Ok(None);
        };
        let Some(invoice) = snapshot
            .find_invoice(organization_id, &memo.invoice_id)
            .await?
        else {
            return Ok(None);
        };
        let items = snapshot
            .items_of_invoices(organization_id, std::slice::from_ref(&invoice.id), None, 0)
            .await?;
        Ok::<_, sqlx::Error>(Some((memo, invoice, items)))
    })
    .await?
    .ok_or_else(|| ApiError::not_found(Resource::CreditMemo, credit_memo_id))
}

/// A page of the organization's memos, newest first.
#[tracing::instrument(skip_all)]
pub async fn list_credit_memos(
    db: &Db,
    organization_id: &OrganizationId,
    filter: &CreditMemoFilter,
    limit: i64,
    offset: i64,
) -> Result<CreditMemoPage, ApiError> {
    let page = db.read(async |snapshot| {
        (snapshot.list_credit_memos(organization_id, filter, limit, offset)).await
    });
    Ok(page.await?)
}

/// A page of the organization's memos from a cursor, newest first; `None` when the cursor
/// names no memo.
#[tracing::instrument(skip_all)]
pub async fn credit_memos_by_cursor(
    db: &Db,
    organization_id: &OrganizationId,
    filter: &CreditMemoFilter,
    cursor: Cursor<'_, CreditMemoId>,
    limit: i64,
) -> Result<Option<Vec<CreditMemo>>, ApiError> {
    let page = db.read(async |snapshot| {
        (snapshot.credit_memos_by_cursor(organization_id, filter, cursor, limit)).await
    });
    Ok(page.await?)
}

/// Prices a memo as `issue_credit_memo` would, storing nothing: what a preview shows.
#[tracing::instrument(skip_all, fields(invoice = %input.invoice_id))]
pub async fn preview_credit_memo(
    db: &Db,
    organization_id: &OrganizationId,
    input: CreditMemoInput,
) -> Result<CreditMemo, ApiError> {
    // The whole write, rolled back: the preview is what the memo would be, by the same rules.
    let mut tx = db.begin().await?;
    let memo = issue_credit_memo(&mut tx, organization_id, input).await;
    tx.rollback().await?;
    memo
}

/// The memo, locked; 404 when there is none, 409 when it is voided (it changes no more).
async fn lock_memo(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    credit_memo_id: &CreditMemoId,
) -> Result<CreditMemo, ApiError> {
    let memo = tx
        .lock_credit_memo(organization_id, credit_memo_id)
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::CreditMemo, credit_memo_id))?;
    if memo.status == CreditMemoStatus::Voided {
        return Err(ApiError::Conflict(Clash::CreditMemoVoided {
            credit_memo: memo.id.to_string(),
        }));
    }
    Ok(memo)
}

/// 422 unless the customer and currency the client named are the credited invoice's.
fn check_terms(invoice: &Invoice, input: &CreditMemoInput) -> Result<(), ApiError> {
    if input
        .customer_id
        .as_ref()
        .is_some_and(|customer| customer != &invoice.customer_id)
    {
        return Err(ApiError::invalid_input(
            DomainField::CreditCustomer,
            Rule::NotTheInvoiceCustomer {
                customer: invoice.customer_id.to_string(),
            },
        ));
    }
    if input
        .currency
        .is_some_and(|currency| currency != invoice.currency)
    {
        return Err(ApiError::invalid_input(
            DomainField::CreditCurrency,
            Rule::NotTheInvoiceCurrency {
                currency: invoice.currency,
            },
        ));
    }
    Ok(())
}

/// Prices the lines in order, each after what earlier memos and the lines before it credited
/// of its item.
fn price_lines(
    input: &CreditMemoInput,
    items: &[InvoiceItem],
    mut credited: HashMap<InvoiceItemId, Credited>,
    currency: crate::domain::currency::Currency,
) -> Result<Vec<CreditLine>, ApiError> {
    let mut lines = Vec::with_capacity(input.lines.len());
    for (index, line) in input.lines.iter().enumerate() {
        let item = line
            .invoice_item_id
            .as_ref()
            .and_then(|id| items.iter().find(|item| &item.id == id));
        let already = item
            .and_then(|item| credited.get(&item.id).copied())
            .unwrap_or_default();
        let priced = price_line(line, item, already, currency).map_err(|error| {
            ApiError::invalid_input(DomainField::CreditLines, Rule::CreditLine { index, error })
        })?;
        if let Some(item) = item {
            credited.entry(item.id.clone()).or_default().add(&priced);
        }
        lines.push(priced);
    }
    Ok(lines)
}

/// All of a memo on its invoice: taken off what it has due while it is open, and what is past
/// that given back elsewhere, out of what it was paid (a refund recorded beside the credit).
async fn settle_on_the_invoice(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    ledger: &mut Ledger,
    memo: &mut CreditMemo,
    out_of_band: Option<Decimal>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let total = memo.totals.total_amount;
    let currency = memo.currency;
    let invoice = ledger
        .get(&memo.invoice_id)
        .ok_or_else(|| invoice_not_found(memo.invoice_id.as_str()))?;
    let paid = matches!(
        invoice.status,
        InvoiceStatus::Paid | InvoiceStatus::PartiallyRefunded
    );
    if !is_open(invoice.status) && !paid {
        return Err(ApiError::Conflict(Clash::CreditSettled {
            invoice: invoice.id.to_string(),
            status: invoice.status,
        }));
    }
    let due = if paid {
        Decimal::ZERO
    } else {
        invoice.totals.amount_due
    };
    let given_back = total - total.min(due);
    if out_of_band.is_some_and(|asked| asked != given_back) {
        let rule = if given_back.is_zero() {
            Rule::OutOfBandOnOpenInvoice
        } else {
            Rule::OutOfBandNotTotal {
                total: given_back,
                currency,
            }
        };
        return Err(ApiError::invalid_input(DomainField::CreditOutOfBand, rule));
    }
    let held = invoice.payments.net_paid();
    if given_back > held {
        return Err(ApiError::invalid_input(
            DomainField::CreditLines,
            Rule::MoreThanPaid { held, currency },
        ));
    }
    if given_back > Decimal::ZERO {
        let website_id = invoice.website_id.clone();
        give_back(
            tx,
            organization_id,
            ledger,
            memo,
            website_id,
            given_back,
            now,
        )
        .await?;
    }
    memo.out_of_band_amount = given_back;
    let invoice_id = memo.invoice_id.clone();
    ledger
        .set(
            tx,
            organization_id,
            memo,
            &invoice_id,
            (total, given_back),
            now,
        )
        .await
}

/// Records `amount` given back to the memo's invoice elsewhere, as a refund made out of band
/// and applied to the invoice; the credit it goes with is allocated after it.
async fn give_back(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    ledger: &mut Ledger,
    memo: &CreditMemo,
    website_id: crate::domain::ids::WebsiteId,
    amount: Decimal,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let refund = record_transaction(
        tx,
        organization_id,
        TransactionInput {
            kind: TransactionType::Refund,
            customer_id: memo.customer_id.clone(),
            website_id,
            currency: memo.currency,
            amount,
            method: PaymentMethod::Other,
            description: TransactionDescription::parse(format!("Credit memo {}", memo.id)).ok(),
        },
    )
    .await?;
    let allocation = Allocation {
        invoice_id: memo.invoice_id.clone(),
        transaction_id: refund.id,
        kind: TransactionType::Refund,
        amount,
        currency: memo.currency,
        created_time: now,
    };
    tx.insert_allocation(organization_id, &allocation).await?;
    let entry = ledger.entry(&memo.invoice_id)?;
    let event = settle(&mut entry.invoice, TransactionType::Refund, amount, now)?;
    let recent = &mut entry.invoice.payments.recent_allocations;
    recent.push(allocation);
    let excess = recent.len().saturating_sub(RECENT_ALLOCATIONS);
    recent.drain(..excess);
    entry.events.push((event, None));
    Ok(())
}

/// Whether credit taken off an invoice in that status can change.
fn is_open(status: InvoiceStatus) -> bool {
    matches!(
        status,
        InvoiceStatus::Unpaid | InvoiceStatus::PartiallyPaid | InvoiceStatus::PastDue
    )
}

/// The invoices one write touches, locked, with how each was and the events it makes.
struct Ledger {
    entries: BTreeMap<InvoiceId, Entry>,
}

struct Entry {
    before: Invoice,
    invoice: Invoice,
    events: Vec<(EventType, Option<CreditMemoId>)>,
}

impl Ledger {
    /// Locks the invoices of those ids that exist, in the order of their ids.
    async fn lock(
        tx: &mut Tx,
        organization_id: &OrganizationId,
        mut ids: Vec<InvoiceId>,
    ) -> Result<Self, ApiError> {
        ids.sort();
        ids.dedup();
        let mut entries = BTreeMap::new();
        for id in ids {
            if let Some(invoice) = tx.lock_invoice(organization_id, &id).await? {
                entries.insert(
                    id,
                    Entry {
                        before: invoice.clone(),
                        invoice,
                        events: Vec::new(),
                    },
                );
            }
        }
        Ok(Self { entries })
    }

    fn get(&self, id: &InvoiceId) -> Option<&Invoice> {
        self.entries.get(id).map(|entry| &entry.invoice)
    }

    fn entry(&mut self, id: &InvoiceId) -> Result<&mut Entry, ApiError> {
        self.entries.get_mut(id).ok_or_else(|| {
            ApiError::invalid_input(DomainField::AllocatedInvoice, Rule::UnknownInvoice)
        })
    }

    /// An event about a memo, on one of the invoices.
    fn note(&mut self, id: &InvoiceId, event_type: EventType, memo: &CreditMemoId) {
        if let Some(entry) = self.entries.get_mut(id) {
            entry.events.push((event_type, Some(memo.clone())));
        }
    }

    /// Allocates what the request asks (by default, as much as the memo and the invoice
    /// allow) of the memo to the invoice, in place of what it had.
    async fn allocate(
        &mut self,
        tx: &mut Tx,
        organization_id: &OrganizationId,
        memo: &mut CreditMemo,
        request: &AllocationRequest,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let currency = memo.currency;
        let had = allocated_to(memo, &request.invoice_id);
        let invoice = &self.entry(&request.invoice_id)?.invoice;
        if invoice.customer_id != memo.customer_id {
            return Err(ApiError::invalid_input(
                DomainField::AllocatedInvoice,
                Rule::OtherCustomer,
            ));
        }
        if invoice.currency != currency {
            return Err(ApiError::invalid_input(
                DomainField::AllocatedInvoice,
                Rule::InvoiceInOtherCurrency { currency },
            ));
        }
        // An allocation listed as it is stays, even on an invoice that it (or others) paid.
        let unchanged = request
            .amount
            .map_or(!is_open(invoice.status), |asked| asked == had);
        if had > Decimal::ZERO && unchanged {
            return Ok(());
        }
        if !is_open(invoice.status) {
            return Err(ApiError::Conflict(Clash::CreditSettled {
                invoice: invoice.id.to_string(),
                status: invoice.status,
            }));
        }
        let due = invoice.totals.amount_due + had;
        let unused = memo.totals.total_amount - memo.allocated_amount + had;
        let amount = match request.amount {
            None if due.min(unused) <= Decimal::ZERO => {
                return Err(ApiError::invalid_input(
                    DomainField::AllocatedAmount,
                    Rule::NothingDue,
                ));
            }
            None => due.min(unused),
            Some(asked) if asked <= Decimal::ZERO => {
                return Err(ApiError::invalid_input(
                    DomainField::AllocatedAmount,
                    Rule::NotPositive,
                ));
            }
            Some(asked) if decimal_places(asked) > currency.minor_units() => {
                return Err(ApiError::invalid_input(
                    DomainField::AllocatedAmount,
                    Rule::TooPrecise { currency },
                ));
            }
            Some(asked) if asked > unused => {
                return Err(ApiError::invalid_input(
                    DomainField::AllocatedAmount,
                    Rule::MoreThanCreditLeft { unused, currency },
                ));
            }
            Some(asked) if asked > due && asked != had => {
                return Err(ApiError::invalid_input(
                    DomainField::AllocatedAmount,
                    Rule::MoreThanDue { due, currency },
                ));
            }
            Some(asked) => asked,
        };
        let invoice_id = request.invoice_id.clone();
        self.set(
            tx,
            organization_id,
            memo,
            &invoice_id,
            (amount, Decimal::ZERO),
            now,
        )
        .await
    }

    /// Withdraws the memo's allocations to these locked invoices.
    async fn withdraw(
        &mut self,
        tx: &mut Tx,
        organization_id: &OrganizationId,
        memo: &mut CreditMemo,
        invoice_ids: Vec<InvoiceId>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        for invoice_id in invoice_ids {
            let none = (Decimal::ZERO, Decimal::ZERO);
            self.set(tx, organization_id, memo, &invoice_id, none, now)
                .await?;
        }
        Ok(())
    }

    /// Sets the memo's allocation to a locked invoice to `amount` (0: none), of which
    /// `given_back` was given back elsewhere (its refund already applied to the invoice),
    /// moving the invoice's credit, amount due and status with it.
    async fn set(
        &mut self,
        tx: &mut Tx,
        organization_id: &OrganizationId,
        memo: &mut CreditMemo,
        invoice_id: &InvoiceId,
        (amount, given_back): (Decimal, Decimal),
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let had = allocated_to(memo, invoice_id);
        let change = amount - had;
        if change.is_zero() {
            return Ok(());
        }
        let entry = self.entry(invoice_id)?;
        let invoice = &mut entry.invoice;
        if !is_open(invoice.status) && given_back.is_zero() {
            return Err(ApiError::Conflict(Clash::CreditSettled {
                invoice: invoice.id.to_string(),
                status: invoice.status,
            }));
        }
        invoice.payments.credited_amount += change;
        invoice.totals.amount_due -= change;
        invoice.updated_time = now;
        // A withdrawal is a change of the invoice; an allocation made or changed is the
        // memo's application, with what it did to the invoice.
        if !amount.is_zero() {
            entry
                .events
                .push((EventType::CreditMemoApplied, Some(memo.id.clone())));
        }
        // A paid invoice credited after payment stays as its refund left it.
        if is_open(entry.invoice.status) {
            let event = credit(&mut entry.invoice, change, now);
            entry.events.push((event, None));
        }
        memo.allocated_amount += change;
        let allocation = match memo
            .allocations
            .iter_mut()
            .find(|allocation| &allocation.invoice_id == invoice_id)
        {
            Some(allocation) => {
                allocation.amount = amount;
                allocation.given_back = given_back;
                allocation.updated_time = now;
                allocation.clone()
            }
            None => {
                let allocation = CreditAllocation {
                    credit_memo_id: memo.id.clone(),
                    invoice_id: invoice_id.clone(),
                    amount,
                    given_back,
                    currency: memo.currency,
                    created_time: now,
                    updated_time: now,
                };
                memo.allocations.push(allocation.clone());
                allocation
            }
        };
        memo.allocations
            .retain(|allocation| !allocation.amount.is_zero());
        tx.put_credit_allocation(organization_id, &allocation)
            .await?;
        let invoice = &mut entry.invoice;
        let credits = &mut invoice.payments.credit_allocations;
        credits.retain(|credit| credit.credit_memo_id != memo.id);
        if !amount.is_zero() {
            credits.push(allocation);
        }
        Ok(())
    }

    /// Stores every invoice that changed, one revision further, and writes the events.
    async fn finish(self, tx: &mut Tx, organization_id: &OrganizationId) -> Result<(), ApiError> {
        for (_, entry) in self.entries {
            let Entry {
                before,
                mut invoice,
                events,
            } = entry;
            // Each event is a revision of its own, so that a receiver can order and
            // de-duplicate by it.
            let revisions = i64::try_from(events.len()).unwrap_or(i64::MAX);
            let first = invoice.revision + 1;
            if invoice == before && revisions == 0 {
                continue;
            }
            invoice.revision += revisions.max(1);
            tx.update_invoice(organization_id, &invoice).await?;
            let fields = changed_fields(&before, &invoice);
            for ((event_type, credit_memo), revision) in events.into_iter().zip(first..) {
                let changes = EventChanges {
                    fields: fields.clone(),
                    credit_memo,
                    ..EventChanges::default()
                };
                let at = (revision, invoice.updated_time);
                record_at(tx, organization_id, &invoice.id, at, event_type, changes).await?;
            }
        }
        Ok(())
    }
}

fn allocated_to(memo: &CreditMemo, invoice_id: &InvoiceId) -> Decimal {
    memo.allocations
        .iter()
        .find(|allocation| &allocation.invoice_id == invoice_id)
        .map_or(Decimal::ZERO, |allocation| allocation.amount)
}

/// Moves an open invoice's status by credit taken off it (`change` > 0) or given back to it;
/// the event it makes.
fn credit(invoice: &mut Invoice, change: Decimal, now: DateTime<Utc>) -> EventType {
    let payments = &invoice.payments;
    if invoice.totals.amount_due.is_zero() {
        invoice.payments.paid_time = Some(now);
        invoice.status = InvoiceStatus::Paid;
        return EventType::InvoicePaid;
    }
    if change > Decimal::ZERO {
        if invoice.status == InvoiceStatus::Unpaid {
            invoice.status = InvoiceStatus::PartiallyPaid;
        }
        return EventType::InvoicePartiallyPaid;
    }
    // Credit withdrawn: awaiting payment again as before any, once nothing is held or taken
    // off (a past-due invoice stays past due).
    if invoice.status == InvoiceStatus::PartiallyPaid
        && payments.net_paid().is_zero()
        && payments.credited_amount.is_zero()
    {
        invoice.status = InvoiceStatus::Unpaid;
    }
    EventType::InvoiceModified
}

#[cfg(test)]
mod tests;
