-- The sliding window, one decision per call (shared/ratelimit/backends.py sends it with EVALSHA,
-- EVAL when the store does not know it yet).
-- KEYS[1] the window: the admitted requests' times (the store's clock, ms) as 13-digit records,
-- oldest first, in one string value. ARGV: limit, window (ms), and optionally the ages (ms before
-- now, comma separated) of requests this instance admitted while the store was unreachable.
-- TIME, GET and (when something changes) one SET with PX: at most 3 commands per decision, where a
-- sorted set needs TIME, ZREMRANGEBYSCORE, ZCARD, ZADD, PEXPIRE and ZRANGE. A binary search finds
-- the first record inside the window; the records stay sorted because a new one is never earlier
-- than the last. A key left from the sorted-set version (WRONGTYPE) is converted on first use.
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local W = 13
local function record(t)
  local digits = tostring(t)
  return string.rep('0', W - #digits) .. digits
end
local changed = false
local stored = redis.pcall('GET', key)
if type(stored) == 'table' and stored.err then
  local old = redis.call('ZRANGEBYSCORE', key, now - window + 1, '+inf', 'WITHSCORES')
  stored, changed = '', true
  for i = 2, #old, 2 do stored = stored .. record(tonumber(old[i])) end
end
stored = stored or ''
if ARGV[3] and ARGV[3] ~= '' then
  local times = {}
  for i = 1, #stored / W do times[#times + 1] = tonumber(string.sub(stored, (i - 1) * W + 1, i * W)) end
  for age in string.gmatch(ARGV[3], '%d+') do times[#times + 1] = now - tonumber(age) end
  table.sort(times)
  local parts = {}
  for i = 1, #times do parts[i] = record(times[i]) end
  stored, changed = table.concat(parts), true
end
local n = #stored / W
local function at(i) return tonumber(string.sub(stored, (i - 1) * W + 1, i * W)) end
local lo, hi = 1, n + 1
while lo < hi do
  local mid = math.floor((lo + hi) / 2)
  if at(mid) > now - window then hi = mid else lo = mid + 1 end
end
local count = n - lo + 1
local live = string.sub(stored, (lo - 1) * W + 1)
local allowed = 0
local newest = now
if count > 0 then newest = math.max(now, at(n)) end
if count < limit then
  live = live .. record(newest)
  count, allowed, changed = count + 1, 1, true
end
if changed then
  if count > 0 then
    redis.call('SET', key, live, 'PX', newest - now + window)
  else
    redis.call('DEL', key)
  end
end
local reset = now + window
if count > 0 then
  local slot = math.max(count - limit + 1, 1)
  reset = tonumber(string.sub(live, (slot - 1) * W + 1, slot * W)) + window
end
return {allowed, math.max(limit - count, 0), reset, now}
