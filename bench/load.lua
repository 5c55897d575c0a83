-- One load for wrk, chosen by its first argument:
--   wrk ... -s bench/load.lua URL -- OP KEY INVOICES ITEMS [INVOICE]
-- OP is create, update, get, list, invoice (a random one of INVOICES invoices `bench-N`, and
-- of its ITEMS seeded items `it-N-K`), grow (creates into the one INVOICE) or paced (creates
-- as create does, each connection waiting PAUSE ms before each request):
--   wrk ... -s bench/load.lua URL -- paced KEY INVOICES ITEMS - PAUSE
-- or delete, which takes the items `del-N-K` of bench/seed-deletable.sql in turn, none twice
-- (the k-th delete of all wrk's THREADS takes N = k mod INVOICES + 1, K = k / INVOICES + 1):
--   wrk -tTHREADS ... -s bench/load.lua URL -- delete KEY INVOICES ITEMS - THREADS
-- `done` prints one RESULT line: requests/s, p50 and p99 in ms, non-2xx answers, socket errors.
local op, key, invoices, items, fixed
local counter = 0
-- For delete, how many threads wrk runs; `setup` gives each its number from 0, as the
-- global `thread_number` of its own Lua state.
local threads
local started = 0

function setup(thread)
  thread:set("thread_number", started)
  started = started + 1
end

function init(args)
  op, key = args[1], args[2]
  invoices, items, fixed = tonumber(args[3]), tonumber(args[4]), args[5]
  -- Each wrk thread has its own Lua state: seed each differently.
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  if op == "paced" then
    local pause = tonumber(args[6])
    -- wrk looks for `delay` after `init`, and paces only when it finds one.
    delay = function() return pause end
  elseif op == "delete" then
    threads = tonumber(args[6])
  end
end

local function body()
  counter = counter + 1
  return string.format('{"type":"debit","unitPrice":%d.%02d,"quantity":%d}',
    counter % 97 + 1, counter % 100, counter % 3 + 1)
end

local json = { ["Content-Type"] = "application/json" }

function request()
  local inv = math.random(invoices)
  local headers = { ["REB-APIKEY"] = key }
  if op == "create" or op == "paced" then
    headers["Content-Type"] = json["Content-Type"]
    return wrk.format("POST", string.format("/invoices/bench-%d/items", inv), headers, body())
  elseif op == "grow" then
    headers["Content-Type"] = json["Content-Type"]
    return wrk.format("POST", string.format("/invoices/%s/items", fixed), headers, body())
  elseif op == "update" then
    headers["Content-Type"] = json["Content-Type"]
    local path = string.format("/invoices/bench-%d/items/it-%d-%d", inv, inv, math.random(items))
    return wrk.format("PUT", path, headers, body())
  elseif op == "delete" then
    local k = counter * threads + thread_number
    counter = counter + 1
    local n, item = k % invoices + 1, math.floor(k / invoices) + 1
    return wrk.format("DELETE", string.format("/invoices/bench-%d/items/del-%d-%d", n, n, item),
      headers)
  elseif op == "get" then
    local path = string.format("/invoices/bench-%d/items/it-%d-%d", inv, inv, math.random(items))
    return wrk.format("GET", path, headers)
  elseif op == "list" then
    return wrk.format("GET", string.format("/invoices/bench-%d/items?limit=20", inv), headers)
  elseif op == "invoice" then
    return wrk.format("GET", string.format("/invoices/bench-%d", inv), headers)
  end
  error("unknown load " .. tostring(op))
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT %.1f %.2f %.2f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
