"""The Lua scripts of the Redis store; Redis runs each one alone, so each is atomic.

`APPEND` is the whole of an append: dedupe check, `seq` from the shared counter, XADD under
the ID `<seq>-0`, length trimming, and the dedupe key with its expiry. `PURGE_STEP` trims the
oldest entries received before a cutoff, a bounded number at a time. `REPAIR` moves a counter
that fell behind the stream (keys deleted by hand, a partial restore) back to the stream's top.
"""

# KEYS: counter, stream, dedupe; ARGV: payload, received_us, maxlen, nonce, ttl_ms.
# Returns {seq, nonce}: the nonce of the append that stored it (ours, or an earlier one's).
# Redis runs a script alone, so GET-then-SET below is as atomic as SET NX.
APPEND = """
local held = redis.call('GET', KEYS[3])
if held then
  local sep = string.find(held, ':', 1, true)
  return {tonumber(string.sub(held, 1, sep - 1)), string.sub(held, sep + 1)}
end
local seq = redis.call('INCR', KEYS[1])
local maxlen = tonumber(ARGV[3])
if maxlen > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, seq .. '-0', 'p', ARGV[1], 't', ARGV[2])
else
  redis.call('XADD', KEYS[2], seq .. '-0', 'p', ARGV[1], 't', ARGV[2])
end
redis.call('SET', KEYS[3], seq .. ':' .. ARGV[4], 'PX', ARGV[5])
return {seq, ARGV[4]}
"""

# KEYS: stream; ARGV: cutoff_us, chunk. Trims the oldest run of entries received before the
# cutoff (a stream only loses a prefix); returns how many went.
PURGE_STEP = """
local rows = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', tonumber(ARGV[2]))
local cutoff = tonumber(ARGV[1])
local keep = nil
for i, row in ipairs(rows) do
  local fields = row[2]
  local at = nil
  for j = 1, #fields, 2 do
    if fields[j] == 't' then at = tonumber(fields[j + 1]) end
  end
  if at == nil or at >= cutoff then keep = row[1]; break end
end
if keep == nil then
  if #rows == 0 then return 0 end
  local last = rows[#rows][1]
  local dash = string.find(last, '-', 1, true)
  keep = (tonumber(string.sub(last, 1, dash - 1)) + 1) .. '-0'
end
return redis.call('XTRIM', KEYS[1], 'MINID', keep)
"""

# KEYS: counter, stream. A counter behind the stream (keys deleted by hand, a partial restore)
# would make every XADD fail; move it to the stream's top. Returns the head.
REPAIR = """
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
if #top > 0 then
  local id = top[1][1]
  local last = tonumber(string.sub(id, 1, string.find(id, '-', 1, true) - 1))
  if last > head then
    redis.call('SET', KEYS[1], last)
    return last
  end
end
return head
"""
