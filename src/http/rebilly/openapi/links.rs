//! OpenAPI links: from what a create answers to the operations on what it made. Clients read
//! them as "what can I do next"; schemathesis's stateful phase follows them.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, RefOr};

/// A link from an operation's 201 to another operation, with that operation's path
/// parameters as runtime expressions.
struct CreatedLink {
    from: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
}

const NEW_INVOICE: &[(&str, &str)] = &[("id", "$response.body#/id")];
const NEW_ITEM: &[(&str, &str)] = &[("id", "$request.path.id"), ("itemId", "$response.body#/id")];

const LINKS: &[CreatedLink] = &[
    CreatedLink {
        from: "PostInvoice",
        to: "GetInvoice",
        parameters: NEW_INVOICE,
    },
    CreatedLink {
        from: "PostInvoice",
        to: "PutInvoice",
        parameters: NEW_INVOICE,
    },
    CreatedLink {
        from: "PostInvoice",
        to: "PostInvoiceItem",
        parameters: NEW_INVOICE,
    },
    CreatedLink {
        from: "PostInvoice",
        to: "GetInvoiceItemCollection",
        parameters: NEW_INVOICE,
    },
    CreatedLink {
        from: "PostInvoice",
        to: "PostInvoiceIssuance",
        parameters: NEW_INVOICE,
    },
    CreatedLink {
        from: "PostInvoice",
        to: "PostInvoiceAbandonment",
        parameters: NEW_INVOICE,
    },
    CreatedLink {
        from: "PostInvoiceIssuance",
        to: "PostInvoiceVoid",
        parameters: NEW_INVOICE,
    },
    CreatedLink {
        from: "PostInvoiceItem",
        to: "GetInvoiceItem",
        parameters: NEW_ITEM,
    },
    CreatedLink {
        from: "PostInvoiceItem",
        to: "PutInvoiceItem",
        parameters: NEW_ITEM,
    },
    CreatedLink {
        from: "PostInvoiceItem",
        to: "DeleteInvoiceItem",
        parameters: NEW_ITEM,
    },
    CreatedLink {
        from: "PostProduct",
        to: "GetProduct",
        parameters: &[("id", "$response.body#/id")],
    },
];

/// Adds [`LINKS`] to the 201 answers. Every operation they name must exist: checked when the
/// contract is built.
pub fn add_links(spec: &mut OpenApi) {
    for link in LINKS {
        assert!(
            operation(spec, link.to).is_some(),
            "a link names no operation {}",
            link.to
        );
        let created = operation(spec, link.from)
            .and_then(|operation| operation.responses.responses.get_mut("201"));
        let Some(RefOr::T(created)) = created else {
            panic!("a link starts from {}, which answers no 201", link.from);
        };
        let built = link
            .parameters
            .iter()
            .fold(
                LinkBuilder::new().operation_id(link.to),
                |builder, (name, expression)| builder.parameter(*name, *expression),
            )
            .build();
        created.links.insert(link.to.to_owned(), RefOr::T(built));
    }
}

fn operation<'a>(spec: &'a mut OpenApi, id: &str) -> Option<&'a mut Operation> {
    spec.paths.paths.values_mut().find_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        .find(|operation| operation.operation_id.as_deref() == Some(id))
    })
}
