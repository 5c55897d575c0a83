-- GCRA for one organization, in one atomic step; the same arithmetic as governor's.
--
-- KEYS[1]  the organization's key; its value is the theoretical arrival time (TAT), in
--          microseconds since the Unix epoch by Redis's own clock, so that the replicas'
--          clocks never matter.
-- ARGV[1]  the emission interval (window / limit), microseconds.
-- ARGV[2]  the tolerance (interval * (limit - 1)), microseconds.
--
-- Returns {admitted (1 or 0), remaining, wait in microseconds, now in microseconds}.
-- A refused write changes nothing.

-- Redis before 5 refuses a write after TIME unless effects are replicated; later ones
-- always replicate effects.
if redis.replicate_commands then
    redis.replicate_commands()
end

local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now

local earliest = tat - tolerance
if now < earliest then
    return {0, 0, earliest - now, now}
end

local next_tat = math.max(tat, now) + interval
-- Numbers are formatted by hand: Redis would print these 16-digit ones in exponent form.
-- The key expires when its TAT passes, where its state equals a new organization's.
local expiry_ms = math.ceil((next_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', string.format('%.0f', expiry_ms))
local remaining = math.floor(math.min(now + tolerance + interval - next_tat, tolerance + interval) / interval)
return {1, remaining, 0, now}
