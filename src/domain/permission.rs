//! What a credential may do: Rebilly's operation ids, one per endpoint.

use std::fmt;

/// An operation, named by its Rebilly operation id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `GET /invoices`.
    GetInvoiceCollection,
    /// `POST /invoices`.
    PostInvoice,
    /// `GET /invoices/{id}`.
    GetInvoice,
    /// `PUT /invoices/{id}`.
    PutInvoice,
    /// `POST /invoices/{id}/issue`.
    PostInvoiceIssuance,
    /// `POST /invoices/{id}/void`.
    PostInvoiceVoid,
    /// `POST /invoices/{id}/abandon`.
    PostInvoiceAbandonment,
    /// `GET /invoices/{id}/items`.
    GetInvoiceItemCollection,
    /// `POST /invoices/{id}/items`.
    PostInvoiceItem,
    /// `GET /invoices/{id}/items/{itemId}`.
    GetInvoiceItem,
    /// `PUT /invoices/{id}/items/{itemId}`.
    PutInvoiceItem,
    /// `DELETE /invoices/{id}/items/{itemId}`.
    DeleteInvoiceItem,
    /// `GET /products`.
    GetProductCollection,
    /// `POST /products`.
    PostProduct,
    /// `GET /products/{id}`.
    GetProduct,
    /// `GET /organizations/{organizationId}`.
    GetOrganization,
    /// `PATCH /organizations/{organizationId}`.
    PatchOrganization,
    /// `GET /webhooks`.
    GetWebhookCollection,
    /// `POST /webhooks`.
    PostWebhook,
    /// `GET /webhooks/{id}`.
    GetWebhook,
    /// `PUT /webhooks/{id}`.
    PutWebhook,
    /// `DELETE /webhooks/{id}`.
    DeleteWebhook,
    /// `GET /tracking/webhooks`.
    GetTrackingWebhookCollection,
    /// `GET /tracking/webhooks/{id}`.
    GetTrackingWebhook,
    /// `POST /tracking/webhooks/{id}/resend`.
    PostTrackingWebhookResendRequest,
    /// `GET /invoices/{id}/timeline`.
    GetInvoiceTimelineCollection,
    /// `POST /invoices/{id}/timeline`.
    PostInvoiceTimeline,
    /// `GET /invoices/{id}/timeline/{messageId}`.
    GetInvoiceTimeline,
    /// `DELETE /invoices/{id}/timeline/{messageId}`.
    DeleteInvoiceTimeline,
    /// `GET /transactions`.
    GetTransactionCollection,
    /// `POST /transactions`.
    PostTransaction,
    /// `GET /transactions/{id}`.
    GetTransaction,
    /// `POST /invoices/{id}/transaction`.
    PostInvoiceTransaction,
    /// `GET /invoices/{id}/transaction-allocations`.
    GetInvoiceTransactionAllocationCollection,
    /// `GET /credit-memos`.
    GetCreditMemoCollection,
    /// `POST /credit-memos`.
    PostCreditMemo,
    /// `GET /credit-memos/{id}`.
    GetCreditMemo,
    /// `PATCH /credit-memos/{id}`.
    PatchCreditMemo,
    /// `POST /credit-memos/{id}/void`.
    PostCreditMemoVoid,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Self; 39] = [
        Self::GetInvoiceCollection,
        Self::PostInvoice,
        Self::GetInvoice,
        Self::PutInvoice,
        Self::PostInvoiceIssuance,
        Self::PostInvoiceVoid,
        Self::PostInvoiceAbandonment,
        Self::GetInvoiceItemCollection,
        Self::PostInvoiceItem,
        Self::GetInvoiceItem,
        Self::PutInvoiceItem,
        Self::DeleteInvoiceItem,
        Self::GetProductCollection,
        Self::PostProduct,
        Self::GetProduct,
        Self::GetOrganization,
        Self::PatchOrganization,
        Self::GetWebhookCollection,
        Self::PostWebhook,
        Self::GetWebhook,
        Self::PutWebhook,
        Self::DeleteWebhook,
        Self::GetTrackingWebhookCollection,
        Self::GetTrackingWebhook,
        Self::PostTrackingWebhookResendRequest,
        Self::GetInvoiceTimelineCollection,
        Self::PostInvoiceTimeline,
        Self::GetInvoiceTimeline,
        Self::DeleteInvoiceTimeline,
        Self::GetTransactionCollection,
        Self::PostTransaction,
        Self::GetTransaction,
        Self::PostInvoiceTransaction,
        Self::GetInvoiceTransactionAllocationCollection,
        Self::GetCreditMemoCollection,
        Self::PostCreditMemo,
        Self::GetCreditMemo,
        Self::PatchCreditMemo,
        Self::PostCreditMemoVoid,
    ];

    /// Rebilly's operation id.
    pub fn name(self) -> &'static str {
        match self {
            Self::GetInvoiceCollection => "GetInvoiceCollection",
            Self::PostInvoice => "PostInvoice",
            Self::GetInvoice => "GetInvoice",
            Self::PutInvoice => "PutInvoice",
            Self::PostInvoiceIssuance => "PostInvoiceIssuance",
            Self::PostInvoiceVoid => "PostInvoiceVoid",
            Self::PostInvoiceAbandonment => "PostInvoiceAbandonment",
            Self::GetInvoiceItemCollection => "GetInvoiceItemCollection",
            Self::PostInvoiceItem => "PostInvoiceItem",
            Self::GetInvoiceItem => "GetInvoiceItem",
            Self::PutInvoiceItem => "PutInvoiceItem",
            Self::DeleteInvoiceItem => "DeleteInvoiceItem",
            Self::GetProductCollection => "GetProductCollection",
            Self::PostProduct => "PostProduct",
            Self::GetProduct => "GetProduct",
            Self::GetOrganization => "GetOrganization",
            Self::PatchOrganization => "PatchOrganization",
            Self::GetWebhookCollection => "GetWebhookCollection",
            Self::PostWebhook => "PostWebhook",
            Self::GetWebhook => "GetWebhook",
            Self::PutWebhook => "PutWebhook",
            Self::DeleteWebhook => "DeleteWebhook",
            Self::GetTrackingWebhookCollection => "GetTrackingWebhookCollection",
            Self::GetTrackingWebhook => "GetTrackingWebhook",
            Self::PostTrackingWebhookResendRequest => "PostTrackingWebhookResendRequest",
            Self::GetInvoiceTimelineCollection => "GetInvoiceTimelineCollection",
            Self::PostInvoiceTimeline => "PostInvoiceTimeline",
            Self::GetInvoiceTimeline => "GetInvoiceTimeline",
            Self::DeleteInvoiceTimeline => "DeleteInvoiceTimeline",
            Self::GetTransactionCollection => "GetTransactionCollection",
            Self::PostTransaction => "PostTransaction",
            Self::GetTransaction => "GetTransaction",
            Self::PostInvoiceTransaction => "PostInvoiceTransaction",
            Self::GetInvoiceTransactionAllocationCollection => {
                "GetInvoiceTransactionAllocationCollection"
            }
            Self::GetCreditMemoCollection => "GetCreditMemoCollection",
            Self::PostCreditMemo => "PostCreditMemo",
            Self::GetCreditMemo => "GetCreditMemo",
            Self::PatchCreditMemo => "PatchCreditMemo",
            Self::PostCreditMemoVoid => "PostCreditMemoVoid",
        }
    }

    /// The operation of a Rebilly operation id.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|operation| operation.name() == name)
    }

    fn bit(self) -> u64 {
        1 << (self as u64)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of operations a credential allows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Permissions(u64);

impl Permissions {
    /// Every operation: a credential without a list of permissions.
    pub const ALL: Self = Self((1 << Operation::ALL.len()) - 1);
    /// No operation.
    pub const NONE: Self = Self(0);

    /// The set of these operations.
    pub fn of(operations: impl IntoIterator<Item = Operation>) -> Self {
        Self(operations.into_iter().fold(0, |bits, op| bits | op.bit()))
    }

    /// Reads operation ids; the first unknown one is the error.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        names
            .into_iter()
            .map(|name| {
                Operation::parse(name.trim()).ok_or_else(|| format!("unknown permission {name:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::of)
    }

    /// Reads operation ids, leaving out those this server does not know (a token may carry
    /// permissions for other services).
    pub fn parse_known<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self::of(names.into_iter().filter_map(Operation::parse))
    }

    /// Whether the operation is allowed.
    pub fn allows(self, operation: Operation) -> bool {
        self.0 & operation.bit() != 0
    }

    /// Operations allowed by either set.
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The operation ids, in the order of [`Operation::ALL`].
    pub fn names(self) -> Vec<&'static str> {
        Operation::ALL
            .into_iter()
            .filter(|operation| self.allows(*operation))
            .map(Operation::name)
            .collect()
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_reads_back_its_name() {
        for operation in Operation::ALL {
            assert_eq!(Operation::parse(operation.name()), Some(operation));
        }
        assert_eq!(Operation::parse("postInvoice"), None);
    }

    #[test]
    fn sets_allow_exactly_their_operations() {
        let set = Permissions::parse(["PostInvoiceItem", " GetInvoiceItem"]).unwrap();
        assert!(set.allows(Operation::PostInvoiceItem));
        assert!(set.allows(Operation::GetInvoiceItem));
        assert!(!set.allows(Operation::DeleteInvoiceItem));
        assert_eq!(set.names(), ["PostInvoiceItem", "GetInvoiceItem"]);
        assert_eq!(
            Permissions::parse(["PostInvoice", "Nope"]),
            Err("unknown permission \"Nope\"".to_owned())
        );
        assert_eq!(
            Permissions::parse_known(["Nope", "GetProduct"]),
            Permissions::of([Operation::GetProduct])
        );
        for operation in Operation::ALL {
            assert!(Permissions::ALL.allows(operation));
            assert!(!Permissions::NONE.allows(operation));
        }
        assert_eq!(Permissions::ALL.names().len(), Operation::ALL.len());
        assert_eq!(
            Permissions::of([Operation::GetProduct])
                .union(Permissions::of([Operation::PostProduct])),
            Permissions::parse(["PostProduct", "GetProduct"]).unwrap()
        );
    }
}
