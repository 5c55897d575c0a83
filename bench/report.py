"""Turns bench/run's raw results into a table (printed) and docs/benchmarks.md with charts.

Usage: python bench/report.py RESULTS_DIR DOCS_DIR
"""

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LOADS = {
    "create": "POST /invoices/{id}/items",
    "update": "PUT /invoices/{id}/items/{itemId}",
    "delete": "DELETE /invoices/{id}/items/{itemId}",
    "get": "GET /invoices/{id}/items/{itemId}",
    "list": "GET /invoices/{id}/items?limit=20",
    "invoice": "GET /invoices/{id} (10 items)",
    "grow": "POST into one discounted, taxed invoice",
    "grow_fixed": "POST into one invoice with a fixed discount, taxed",
}

results_dir, docs = Path(sys.argv[1]), Path(sys.argv[2])
rows = list(csv.DictReader(open(results_dir / "results.tsv"), delimiter="\t"))
facts = [line.rstrip("\n").split("\t", 1) for line in open(results_dir / "facts.tsv")]

def samples_of(load):
    """(seconds, items) each second of a run of creates into one invoice; none when not run."""
    path = results_dir / f"{load}.tsv"
    if not path.exists():
        return []
    return [(float(row["seconds"]), int(row["items"])) for row in csv.DictReader(open(path), delimiter="\t")]


growth_items = dict(facts).get("stored_items_for_growth")
deliveries_file = results_dir / "deliveries.tsv"
deliveries = (
    [line.rstrip("\n").split("\t", 1) for line in open(deliveries_file)]
    if deliveries_file.exists()
    else []
)


def phase(row):
    return "growth" if growth_items and int(row["stored_items"]) >= int(growth_items) else "main"


def tps_text(reference):
    """pgbench's rate, with its client count where PostgreSQL's max_connections held it lower."""
    if not reference:
        return "-"
    text = f"{float(reference['rate']):,.0f}"
    clients = reference.get("clients") or reference["connections"]
    if clients != reference["connections"]:
        text += f" (at {clients})"
    return text


def table(selected):
    lines = [
        "| operation | connections | requests/s | p50 ms | p99 ms | non-2xx | errors | pgbench TPS | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    servers = [row for row in selected if row["side"] == "server"]
    for row in servers:
        reference = next(
            (
                other
                for other in selected
                if other["side"] == "pgbench"
                and other["load"] == row["load"]
                and other["connections"] == row["connections"]
            ),
            None,
        )
        tps = float(reference["rate"]) if reference else None
        rate = float(row["rate"])
        lines.append(
            f"| {LOADS[row['load']]} | {row['connections']} | {rate:,.0f} | {row['p50_ms']} | "
            f"{row['p99_ms']} | {row['non2xx']} | {row['errors']} | "
            f"{tps_text(reference)} | {f'{rate / tps:.2f}' if tps else '-'} |"
        )
    return "\n".join(lines)


def lone(row):
    return row["connections"] == "1"


main = [row for row in rows if phase(row) == "main" and not lone(row)]
lone_rows = [row for row in rows if lone(row)]
growth = [row for row in rows if phase(row) == "growth"]


def lone_table():
    """Each write at one connection: its p50 beside pgbench's for the same work."""
    lines = [
        "| operation | requests/s | p50 ms | p99 ms | non-2xx | errors | pgbench TPS | pgbench p50 ms | x pgbench's p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in (row for row in lone_rows if row["side"] == "server"):
        reference = next(
            (o for o in lone_rows if o["side"] == "pgbench" and o["load"] == row["load"]), None
        )
        reference_p50 = float(reference["p50_ms"]) if reference and reference["p50_ms"] else None
        ratio = f"{float(row['p50_ms']) / reference_p50:.2f}" if reference_p50 else "-"
        lines.append(
            f"| {LOADS[row['load']]} | {float(row['rate']):,.0f} | {row['p50_ms']} | "
            f"{row['p99_ms']} | {row['non2xx']} | {row['errors']} | {tps_text(reference)} | "
            f"{reference['p50_ms'] if reference_p50 else '-'} | {ratio} |"
        )
    return "\n".join(lines)


if lone_rows:
    print(lone_table())
print(table(main))
if growth:
    print(f"\nwith {int(growth_items):,} items stored:")
    print(table(growth))

docs.mkdir(exist_ok=True)
figure, axes = plt.subplots(figsize=(8, 5))
for index, load in enumerate(["create", "update", "delete", "get", "list", "invoice"]):
    for side, style in [("server", "-o"), ("pgbench", "--x")]:
        points = [
            (int(row["connections"]), float(row["rate"]))
            for row in main
            if row["load"] == load and row["side"] == side
        ]
        if points:
            xs, ys = zip(*sorted(points))
            axes.plot(xs, ys, style, color=f"C{index}", label=f"{load} ({side})")
axes.set_xscale("log", base=2)
axes.set_xlabel("connections")
axes.set_ylabel("requests/s (server), transactions/s (pgbench)")
axes.set_title("invoice-api (solid) beside pgbench running the same work's SQL (dashed)")
axes.legend(fontsize=7, ncol=2)
axes.grid(alpha=0.3)
figure.tight_layout()
figure.savefig(docs / "bench-rate.png", dpi=110)

figure, axes = plt.subplots(figsize=(8, 4.5))
# Over windows of five samples (about five seconds), so that one slow second does not draw a
# cliff.
WINDOW = 5
GROWS = {"grow": "a 10% discount", "grow_fixed": "a discount of 50.00"}
rates_of = {}
# The rate into the empty invoice: over the first second, before it holds many items (its
# first window of five spans well over a thousand).
empty_rate_of = {}
for load, what in GROWS.items():
    samples = samples_of(load)
    if len(samples) > 1 and samples[1][0] > samples[0][0]:
        (t0, n0), (t1, n1) = samples[:2]
        empty_rate_of[load] = (n1 - n0) / (t1 - t0)
    rates_of[load] = [
        ((a[1] + b[1]) / 2, (b[1] - a[1]) / (b[0] - a[0]))
        for a, b in zip(samples, samples[WINDOW:])
        if b[0] > a[0]
    ]
    if rates_of[load]:
        xs, ys = zip(*rates_of[load])
        axes.plot(xs, ys, "-", label=f"{what}, 16 connections")
axes.set_xlabel("items on the invoice")
axes.set_ylabel("creates/s")
axes.set_title("Creates into one invoice with a discount and two tax rates")
axes.grid(alpha=0.3)
axes.legend()
figure.tight_layout()
figure.savefig(docs / "bench-growth.png", dpi=110)


def rate_near(rates, count):
    near = [rate for items, rate in rates if abs(items - count) <= max(100, count * 0.1)]
    if near:
        return sum(near) / len(near)
    # No window centred near `count` (the invoice grew past it faster than the samples came):
    # in a straight line between the nearest window below it and the nearest above.
    below = [window for window in rates if window[0] < count]
    above = [window for window in rates if window[0] > count]
    if not below or not above:
        return None
    (items_below, rate_below), (items_above, rate_above) = max(below), min(above)
    share = (count - items_below) / (items_above - items_below)
    return rate_below + (rate_above - rate_below) * share


fact_lines = "\n".join(f"- {name}: {value}" for name, value in facts)
lone_section = ""
if lone_rows:
    lone_section = f"""
## A lone write

Each write at one connection, one request at a time, beside pgbench's same work at one client:
the p50 from each request's (each transaction's, `pgbench -l`) own latency. The target: within
1.3 x pgbench's.

{lone_table()}
"""
growth_section = ""
if growth:
    growth_section = f"""
## With {int(growth_items):,} items stored

The same create and get at 32 connections after 990 more items were put on each of the 1,000
invoices:

{table(growth)}
"""
DELIVERY_FIGURES = {
    "keep_up_creates_per_s": "creates/s while deliveries run (32 connections)",
    "keep_up_offered_per_s": "deliveries written per second (two webhooks)",
    "keep_up_delivered_per_s": "deliveries received per second while the creates ran",
    "keep_up_backlog": "backlog when the creates stopped",
    "keep_up_received": "deliveries received in all",
    "latency_events_per_s": "paced creates/s (one webhook)",
    "latency_commit_to_receipt_ms": "from the event's time to its receipt, ms",
    "latency_received": "deliveries received at that rate",
    "peak_rss_mib": "peak resident memory of that server, MiB",
}
delivery_lines = "\n".join(
    f"| {DELIVERY_FIGURES.get(name, name)} | {value} |" for name, value in deliveries
)
deliveries_section = (
    f"""
## Webhook deliveries while the API takes creates

`bench/deliveries`, run by `bench/run` on the same build: the release server on a fresh
database sends every event to a receiver on 127.0.0.1 that answers 204 at once
(`examples/receipt_log.rs`). First creates as fast as 32 connections go, each event to two
webhooks; then creates paced to a fixed rate, one webhook, timed from each event's time (taken
in its transaction, before the commit) to its receipt. The targets: at least 2,000 deliveries
a second while the creates run, and a p99 under 1 s at 1,000 events a second.

| figure | measured |
|---|---|
{delivery_lines}
"""
    if deliveries
    else ""
)
ran = [load for load in GROWS if rates_of[load]]
grow_lines = []
for count in [100, 1000, 2000, 5000, 10000]:
    cells = []
    for load in ran:
        rate = rate_near(rates_of[load], count)
        empty = empty_rate_of.get(load)
        cells.append(f"{rate:,.0f} | {rate / empty:.2f}" if rate and empty else "- | -")
    if any(cell != "- | -" for cell in cells):
        grow_lines.append(f"| {count:,} | " + " | ".join(cells) + " |")
grow_table = (
    "| items on the invoice | "
    + " | ".join(f"creates/s, {GROWS[load]} | x the rate into the empty invoice" for load in ran)
    + " |\n|---:|"
    + "---:|---:|" * len(ran)
    + "\n"
    + "\n".join(grow_lines)
    if grow_lines
    else "(too few samples)"
)
grow_invoices = (
    "One invoice with a 10% discount and two tax rates, then another with a discount of 50.00 "
    "and\nthe same rates for a third of the time, 16 connections each"
    if "grow_fixed" in ran
    else "One invoice with a 10% discount and two tax rates, 16 connections"
)
(docs / "benchmarks.md").write_text(
    f"""# Benchmarks

Written by `bench/run` from one run; every figure below is from that run. The harness starts
the release server on a fresh database, makes 1,000 draft invoices of 10 items each, and
drives each load with `wrk` (a random invoice, or item, per request), then runs `pgbench` with
the least SQL for the same work (`bench/pgbench/*.sql`: one round trip per request, sent as
prepared statements, as the server sends its own) at the same concurrency, alternating, so
that both see the same machine. The ratio is the server's requests/s over pgbench's
transactions/s.

## The machine and the run

{fact_lines}

## Requests/s against connections

{table(main)}

![requests/s against connections, server beside pgbench](bench-rate.png)
{lone_section}
## Creates into one invoice as it grows

{grow_invoices}: every create reprices the
invoice, so the rate falls as it grows. Rates from the item count sampled each second, over
five seconds (where no window of five is centred near a row's count, in a straight line
between the nearest below and above); the rate into the empty invoice is its first
second's. The discount shares and item taxes were checked to sum to each invoice's figures
at the end.

{grow_table}

![write rate against the number of items on the invoice](bench-growth.png)
{growth_section}{deliveries_section}""",
)
print(f"\nwrote {docs / 'benchmarks.md'}, {docs / 'bench-rate.png'}, {docs / 'bench-growth.png'}")
