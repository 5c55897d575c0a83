//! `GET /docs` in a real browser: headless Debian Chromium opens Swagger UI on the real binary,
//! its JavaScript fetches `/openapi.json`, and every operation of that contract is rendered.

use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::database_url;
use crate::process::{ServerProcess, exchange};

/// Debian's `chromium` package puts its launcher here.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The longest the browser may take in real time, all attempts together: a guard against a
/// hang, never a measure of speed.
const BROWSER_DEADLINE: Duration = Duration::from_secs(240);

/// The virtual time budget of each attempt, in milliseconds. Chromium's virtual time stands
/// still while the page's resources load, so a slow machine needs no bigger budget than a fast
/// one; the later, longer attempts are a second chance, not the plan.
const VIRTUAL_TIME_BUDGETS_MS: [u64; 3] = [15_000, 60_000, 180_000];

/// An operation: method (upper case), path and operation id.
type Operation = (String, String, String);

#[sqlx::test]
async fn swagger_ui_renders_every_operation_of_the_served_contract_in_a_browser(pool: PgPool) {
    assert!(
        Path::new(CHROMIUM).exists(),
        "this test runs headless Chromium, which is missing at {CHROMIUM}: apt-get install chromium"
    );
    let server = ServerProcess::start(&[("DATABASE_URL", &database_url(&pool))]);
    let contract = exchange(server.port, "GET", "/openapi.json", &[], None);
    assert_eq!(contract.status, 200, "{}", contract.body);
    let expected = operations_of(&contract.json());
    assert!(
        expected.len() > 10,
        "the contract lists too few operations to check: {expected:?}"
    );

    let url = format!("http://127.0.0.1:{}/docs/", server.port);
    let started = Instant::now();
    let deadline = started + BROWSER_DEADLINE;
    let mut misses = Vec::new();
    for budget_ms in VIRTUAL_TIME_BUDGETS_MS {
        let dom = dump_dom(&url, budget_ms, deadline);
        let rendered = rendered_operations(&dom);
        let unexpected: Vec<_> = rendered.difference(&expected).collect();
        assert!(
            unexpected.is_empty(),
            "Swagger UI shows operations the contract does not have: {unexpected:?}"
        );
        if rendered == expected {
            println!(
                "Swagger UI rendered {} of {} operations of /openapi.json in {:.1?} \
                 (attempt {}, virtual time budget {budget_ms} ms, DOM {} bytes)",
                rendered.len(),
                expected.len(),
                started.elapsed(),
                misses.len() + 1,
                dom.len()
            );
            return;
        }
        let missing: Vec<_> = expected.difference(&rendered).cloned().collect();
        misses.push((budget_ms, missing, dom));
    }
    let (_, missing, dom) = misses.last().unwrap();
    let budgets: Vec<u64> = misses.iter().map(|(budget, ..)| *budget).collect();
    panic!(
        "Swagger UI did not render every operation (virtual time budgets {budgets:?} ms); \
         missing after the last attempt: {missing:?}\n----- DOM (start) -----\n{}",
        dom.chars().take(3000).collect::<String>()
    );
}

/// Every operation of an OpenAPI document.
fn operations_of(contract: &Value) -> BTreeSet<Operation> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let paths = contract["paths"]
        .as_object()
        .expect("the contract has paths");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                let id = operation["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
                operations.insert((method.to_uppercase(), path.clone(), id.to_owned()));
            }
        }
    }
    operations
}

/// The operations Swagger UI rendered: each `opblock` element's method, `data-path` and
/// operation id (shown because the server's Swagger UI config turns `displayOperationId` on).
fn rendered_operations(dom: &str) -> BTreeSet<Operation> {
    dom.split(r#"<div class="opblock opblock-"#)
        .skip(1)
        .filter_map(|block| {
            let method = between(block, r#"class="opblock-summary-method">"#, "<")?;
            let path = between(block, r#"data-path=""#, r#"""#)?;
            let id = between(block, r#"class="opblock-summary-operation-id">"#, "<")?;
            Some((method.to_owned(), path.to_owned(), id.to_owned()))
        })
        .collect()
}

/// The text after the first `start` up to the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// The page's DOM after its scripts ran for `budget_ms` of virtual time, from headless Chromium
/// with a fresh profile. Fails the test if Chromium fails or is still running at `deadline`.
fn dump_dom(url: &str, budget_ms: u64, deadline: Instant) -> String {
    let scratch = Scratch::new();
    let dom_path = scratch.0.join("dom.html");
    let errors_path = scratch.0.join("stderr.txt");
    let mut command = Command::new(CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--dump-dom",
        ])
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .arg(format!(
            "--user-data-dir={}",
            scratch.0.join("profile").display()
        ))
        .arg(url)
        .stdin(Stdio::null())
        // Files, not pipes: the DOM is larger than a pipe's buffer, and nothing reads the pipe
        // until Chromium has exited.
        .stdout(File::create(&dom_path).unwrap())
        .stderr(File::create(&errors_path).unwrap())
        // Its own process group, so that a hung browser is killed with all its helpers.
        .process_group(0);
    let mut child = command.spawn().unwrap_or_else(|error| {
        panic!("cannot run {CHROMIUM} ({error}): apt-get install chromium")
    });
    let status = wait_until(&mut child, deadline).unwrap_or_else(|| {
        kill_group(&child);
        let _ = child.wait();
        panic!(
            "Chromium did not finish before the deadline ({BROWSER_DEADLINE:?} for every \
             attempt together); its stderr:\n{}",
            read_tail(&errors_path)
        )
    });
    assert!(
        status.success(),
        "Chromium failed ({status}); its stderr:\n{}",
        read_tail(&errors_path)
    );
    std::fs::read_to_string(&dom_path).unwrap()
}

/// The child's exit status, or `None` if it is still running at `deadline`.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill_group(child: &Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
}

/// The last lines of a file, without Chromium's complaints about the missing D-Bus.
fn read_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|line| !line.contains("dbus")).collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A fresh temporary directory (Chromium's profile and output), removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "invoice-api-chromium-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir(&path).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
