-- Takes or renews a shard lease: succeeds if the lease is free or already ours.
-- KEYS: 1 lease   ARGV: 1 owner id, 2 ttl_ms   Returns 1 if held, 0 if not.
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
