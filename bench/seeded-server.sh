# Sourced by bench/quick and bench/deliveries: starts the server `binary` on a fresh database
# `database` (at `db`, beside `base`/postgres) on 127.0.0.1:`port`, logging to `log`, with
# rate limits off and the key `key` of `org_bench`; waits for `url`/health; then makes the
# 1,000 draft invoices of 10 items each that bench/load.lua drives. Sets `server`. Variables
# set in front of the call reach the server's environment.
start_seeded_server() {
    psql "$base/postgres" -qc "drop database if exists $database with (force)"
    psql "$base/postgres" -qc "create database $database"
    MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-131072} \
        RATE_LIMIT_REQUESTS=0 DATABASE_URL=$db \
        BIND_ADDR=127.0.0.1:$port RUST_LOG=warn \
        BOOTSTRAP_ORGANIZATION_ID=org_bench BOOTSTRAP_API_KEY=$key "$binary" >"$log" 2>&1 &
    server=$!
    for _ in $(seq 3000); do
        curl -sf -o /dev/null "$url/health" && break
        kill -0 "$server" 2>/dev/null || { tail -n 20 "$log" >&2; exit 1; }
        sleep 0.01
    done
    seq 1000 | xargs -P 8 -I{} curl -sSf -o /dev/null -X PUT "$url/invoices/bench-{}" \
        -H "REB-APIKEY: $key" -H 'Content-Type: application/json' \
        -d '{"customerId":"cus_bench","websiteId":"web_bench","currency":"USD"}'
    psql "$db" -q -v ON_ERROR_STOP=1 -v invoices=1000 -v first=1 -v last=10 -f bench/seed.sql
}
