//! The schema is ready to shard by organization (`docs/scaling.md`): every key of a tenant
//! table leads with `organization_id`, every foreign key between tenant tables carries it, and
//! every query the code runs on a tenant table names the organization. The queries are the
//! ones the compile-time checked macros run, as committed in `.sqlx/`.

use std::path::Path;

use regex::Regex;
use sqlx::PgPool;

/// The tables to distribute by `organization_id`.
const TENANT_TABLES: [&str; 16] = [
    "invoices",
    "invoice_items",
    "pending_items",
    "invoice_discounts",
    "products",
    "idempotency_keys",
    "invoice_number_sequences",
    "invoice_events",
    "webhooks",
    "webhook_deliveries",
    "webhook_attempts",
    "transactions",
    "invoice_transactions",
    "credit_memos",
    "credit_memo_allocations",
    "credit_memo_number_sequences",
];

/// The tables every shard holds a copy of: small, and read before the organization is known
/// (a key is looked up by its hash to learn its organization).
const REFERENCE_TABLES: [&str; 2] = ["organizations", "api_keys"];

/// Statements that may touch every shard, and why.
const ALL_SHARD_STATEMENTS: [(&str, &str); 6] = [
    (
        "delete from idempotency_keys where created_time <=",
        "the hourly purge of expired keys: one statement that every shard runs in parallel",
    ),
    (
        "delete from webhook_attempts where (organization_id, id) in (",
        "the hourly pruning of the delivery log by age: every shard runs it in parallel",
    ),
    (
        "with candidates as (",
        "a delivery worker claims what is due on its shard; a worker per shard, or each shard in turn",
    ),
    (
        "select d.id, d.organization_id",
        "the claimed deliveries, read where they were claimed",
    ),
    (
        r#"select count(*) as "pending!""#,
        "the backlog metric: a count per shard, summed",
    ),
    (
        r#"select organization_id as "organization_id: organizationid", id as "id: invoiceid" from invoices where status in"#,
        "the past-due check's candidates: each shard's overdue invoices, each then moved in a transaction of its organization",
    ),
];

/// A key of a table: table, name, kind (`p`, `u`, `f`), its columns, and for a foreign key the
/// columns it references.
type Constraint = (String, String, String, Vec<String>, Option<Vec<String>>);

#[sqlx::test]
async fn every_key_of_a_tenant_table_leads_with_the_organization(pool: PgPool) {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = 'public' and table_type = 'BASE TABLE'
           and table_name not like '\\_sqlx%' order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut known: Vec<&str> = TENANT_TABLES
        .iter()
        .chain(&REFERENCE_TABLES)
        .copied()
        .collect();
    known.sort_unstable();
    assert_eq!(
        tables, known,
        "a table that is neither tenant nor reference"
    );
    let constraints: Vec<Constraint> = sqlx::query_as(
        "select c.conrelid::regclass::text, c.conname::text, c.contype::text,
                 array(select a.attname::text from unnest(c.conkey) with ordinality k(n, o)
                       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n
                       order by k.o),
                 case when c.contype = 'f' then
                     array(select a.attname::text from unnest(c.confkey) with ordinality k(n, o)
                           join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n
                           order by k.o)
                 end
             from pg_constraint c
             where c.connamespace = 'public'::regnamespace and c.contype in ('p', 'u', 'f')
             order by 1, 2",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut checked = 0;
    for (table, name, kind, columns, referenced) in &constraints {
        if !TENANT_TABLES.contains(&table.as_str()) {
            continue;
        }
        checked += 1;
        eprintln!("{table}: {name} ({kind}) on {columns:?}");
        assert_eq!(
            columns.first().map(String::as_str),
            Some("organization_id"),
            "{table}.{name} does not lead with organization_id"
        );
        if let Some(referenced) = referenced {
            assert_eq!(
                referenced.first().map(String::as_str),
                Some(if columns.len() == 1 {
                    "id"
                } else {
                    "organization_id"
                }),
                "{table}.{name} references a tenant row without its organization"
            );
        }
    }
    assert!(
        checked >= TENANT_TABLES.len(),
        "every tenant table has a key"
    );
}

#[test]
fn every_query_on_a_tenant_table_names_the_organization() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".sqlx");
    let mut queries: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let query: serde_json::Value = serde_json::from_str(&text).unwrap();
            let sql = query["query"].as_str().unwrap().to_lowercase();
            sql.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect();
    queries.sort();
    assert!(queries.len() > 20, "the committed queries are in {dir:?}");
    let mut on_tenant_tables = 0;
    for sql in &queries {
        let problems = unscoped_references(sql);
        let allowed = ALL_SHARD_STATEMENTS
            .iter()
            .find(|(start, _)| sql.starts_with(start));
        let shown: String = sql.chars().take(110).collect();
        match (problems.is_empty(), allowed) {
            (true, _) if touches_tenant_table(sql) => {
                on_tenant_tables += 1;
                eprintln!("one organization: {shown}");
            }
            (true, _) => eprintln!("no tenant table: {shown}"),
            (false, Some((_, why))) => eprintln!("every shard ({why}): {shown}"),
            (false, None) => panic!("{problems:?} in: {sql}"),
        }
    }
    assert!(on_tenant_tables > 15, "{on_tenant_tables}");
}

fn touches_tenant_table(sql: &str) -> bool {
    TENANT_TABLES
        .iter()
        .any(|table| Regex::new(&format!(r"\b{table}\b")).unwrap().is_match(sql))
}

/// The tenant tables the statement reads or writes without naming their organization: an
/// insert must set `organization_id`; a read, update or delete must compare it (with the
/// table's alias, if it has one) to a parameter or to another row's `organization_id`.
fn unscoped_references(sql: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for table in TENANT_TABLES {
        let insert = Regex::new(&format!(r"insert into {table} \(([^)]*)\)")).unwrap();
        for columns in insert.captures_iter(sql) {
            if !columns[1].split(',').any(|c| c.trim() == "organization_id") {
                problems.push(format!("insert into {table} without organization_id"));
            }
        }
        let read = Regex::new(&format!(
            r"(?:from|join|update|delete from) {table}(?: (?:as )?([a-z]\w*))?"
        ))
        .unwrap();
        for found in read.captures_iter(sql) {
            let alias = found
                .get(1)
                .map(|a| a.as_str())
                .filter(|a| !["where", "set", "on", "join", "order", "limit", "group"].contains(a));
            let column = match alias {
                Some(alias) => format!(r"\b{alias}\.organization_id"),
                None => r"(?:^|[^.\w])organization_id".to_owned(),
            };
            let scoped = Regex::new(&format!(
                r"{column} = (?:\$\d+|[a-z]\w*\.organization_id)|[a-z]\w*\.organization_id = {column_plain}",
                column_plain = match alias {
                    Some(alias) => format!(r"{alias}\.organization_id"),
                    None => "organization_id".to_owned(),
                }
            ))
            .unwrap();
            if !scoped.is_match(sql) {
                problems.push(format!("{table} read without its organization"));
            }
        }
    }
    problems
}

#[test]
fn the_query_check_finds_a_query_that_names_no_organization() {
    assert!(
        !unscoped_references("select id from invoices where id = $1").is_empty(),
        "a read by id alone"
    );
    assert!(!unscoped_references("insert into products (id, name) values ($1, $2)").is_empty());
    assert!(
        !unscoped_references(
            "select d.x from invoice_discounts d join invoices i on i.id = d.invoice_id \
             where d.organization_id = $1"
        )
        .is_empty(),
        "a join that leaves the organization out"
    );
    assert!(
        unscoped_references(
            "select d.x from invoice_discounts d join invoices i \
             on i.organization_id = d.organization_id and i.id = d.invoice_id \
             where d.organization_id = $1"
        )
        .is_empty()
    );
}
