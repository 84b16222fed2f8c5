// Lua scripts for the algorithms that must read-then-write atomically. Each is a line-by-line
// transliteration of the function of the same name in algorithms.ts (keep them in step; the differential
// test in store-behaviour.test.ts compares MemoryStore and RedisStore on random traffic).
//
// Clock: the scripts use the nowMs passed by the caller (ARGV), not Redis TIME: all hits of one call see
// the same instant, tests can move time, and the result does not depend on which Redis node runs the
// script. Replicas of the service must keep their clocks in sync (NTP); see algorithms.ts. Expirations
// are relative (PEXPIRE), so they use Redis' own clock.
//
// Both scripts touch only the keys passed in KEYS (Cluster-safe: the sliding window's two keys share a
// hash tag) and return {over (0|1), remaining, resetSeconds} as integers.

/**
 * KEYS[1] = current window counter, KEYS[2] = previous window counter.
 * ARGV = limit, hits, nowMs (integer), windowStartMs, windowLengthMs, ttlMarginMs.
 */
export const SLIDING_WINDOW_LUA = `
local limit = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local startMs = tonumber(ARGV[4])
local lenMs = tonumber(ARGV[5])
local margin = tonumber(ARGV[6])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local elapsed = math.min(lenMs, math.max(0, now - startMs))

local function wait(size)
  if limit <= 0 or size > limit then return -1 end
  if cur + size <= limit then
    return math.max(0, lenMs - elapsed - ((limit - size - cur) * lenMs) / prev)
  end
  return lenMs - elapsed + (lenMs - ((limit - size) * lenMs) / cur)
end

local est = (prev * (lenMs - elapsed)) / lenMs + cur
local over = limit == 0 or est + n > limit
local add = n
if over then add = 0 end
if add > 0 then
  redis.call('INCRBY', KEYS[1], add)
  redis.call('PEXPIRE', KEYS[1], startMs + 2 * lenMs - now + margin)
end
local remaining = math.max(0, math.floor(limit - (est + add)))
local resetMs
if over then
  local w = wait(n)
  if w < 0 then resetMs = startMs + lenMs - now else resetMs = w end
elseif cur + add > 0 then
  resetMs = lenMs - elapsed + lenMs
elseif prev > 0 then
  resetMs = lenMs - elapsed
else
  resetMs = 0
end
local reset = math.ceil(resetMs / 1000)
if over then reset = math.max(1, reset) end
return {over and 1 or 0, remaining, reset}
`;

/**
 * KEYS[1] = the bucket ("<tatMs>:<tatRemainder>", see tokenBucket in algorithms.ts).
 * ARGV = limit (> 0), hits, nowMs (integer), windowLengthMs, ttlMarginMs.
 */
export const TOKEN_BUCKET_LUA = `
local limit = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local w = tonumber(ARGV[4])
local margin = tonumber(ARGV[5])
local a = now
local r = 0
local stored = redis.call('GET', KEYS[1])
if stored then
  local sa, sr = string.match(stored, '^(%d+):(%d+)$')
  if sa then
    sa = tonumber(sa)
    if sa >= now then
      a = sa
      r = tonumber(sr)
    end
  end
end
local d = (a - now) * limit + r
local cap = w * limit
local need = n * w
local over
if n == 0 then over = d > cap else over = d + need > cap end
local dAfter = d
if not over and n > 0 then
  local total = r + need
  local q = math.floor(total / limit)
  dAfter = d + need
  redis.call('SET', KEYS[1], string.format('%.0f:%.0f', a + q, total - q * limit),
    'PX', math.ceil(dAfter / limit) + margin)
end
local remaining = math.max(0, math.floor((cap - dAfter) / w))
local reset
if not over then
  reset = math.ceil(dAfter / (limit * 1000))
elseif n > limit then
  reset = math.max(1, math.ceil(d / (limit * 1000)))
else
  reset = math.max(1, math.ceil((d + need - cap) / (limit * 1000)))
end
return {over and 1 or 0, remaining, reset}
`;

/**
 * The fixed windows of every call in one flush, in one command: for each i, `INCRBY KEYS[i] ARGV[2i-1]`
 * then `EXPIRE KEYS[i] ARGV[2i]` (envoyproxy/ratelimit's two commands, same keys). Returns one reply per
 * key: the new count, or the INCRBY's error reply (redis.pcall), so a bad key fails only its own call.
 */
export const FIXED_WINDOW_BATCH_LUA = `
local out = {}
for i = 1, #KEYS do
  local n = redis.pcall('INCRBY', KEYS[i], ARGV[2 * i - 1])
  if type(n) == 'number' then redis.call('EXPIRE', KEYS[i], ARGV[2 * i]) end
  out[i] = n
end
return out
`;
