import { createHash } from 'node:crypto';

/**
 * The one Lua script of the shared rate limit: leases up to N units of an (application, API
 * version) limit to one gateway instance at a time, so the instance serves the next N requests
 * from memory instead of a Redis round trip each (`/work/shared/notes/gateway-hot-path.md`: one
 * EVALSHA per request was the largest policy cost; leases came within ≈ 13 µs of no limit).
 *
 * Fixed windows: a minute counter for `requestsPerMinute` and, when the plan has one, a 1 s
 * counter for `burst`. Both count units *leased*, never units served, so a lease that is never
 * spent still counts (the limit errs towards refusing, never towards accepting).
 */
export const LEASE_SCRIPT = `--[[
  Leases up to ARGV[2] units of one rate limit from fixed-window counters shared by every
  gateway instance. Atomic: nothing else runs between the reads and the INCRBYs.

  Input:
    KEYS[1] minute window counter: units leased in this 60 s window, by every instance
    KEYS[2] burst window counter: units leased in this 1 s window (unused when ARGV[4] is 0)

    ARGV[1] limit, units per minute window (plan.requestsPerMinute)
    ARGV[2] wanted, units (the lease size asked for)
    ARGV[3] TTL of KEYS[1], ms (until the window ends, plus slack)
    ARGV[4] burst, units per 1 s window (plan.burst), 0 for none

  Output: { granted, minuteUsed, burstCapped }
    granted      units leased now: min(wanted, what both windows have left); 0 writes nothing
    minuteUsed   units leased in this minute window after this call, by every instance
    burstCapped  1 when the burst window, not the minute window, bounded the lease
]]
local limit = tonumber(ARGV[1])
local wanted = tonumber(ARGV[2])
local burst = tonumber(ARGV[4])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local available = limit - used
local burstCapped = 0
if burst > 0 then
  local burstLeft = burst - tonumber(redis.call('GET', KEYS[2]) or '0')
  if burstLeft < available then
    available = burstLeft
    burstCapped = 1
  end
end
local granted = math.min(wanted, available)
if granted <= 0 then
  return { 0, used, burstCapped }
end
if redis.call('INCRBY', KEYS[1], granted) == granted then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if burst > 0 and redis.call('INCRBY', KEYS[2], granted) == granted then
  redis.call('PEXPIRE', KEYS[2], 2000)
end
return { granted, used + granted, burstCapped }
`;

/** SHA-1 of the script, for EVALSHA. */
export const LEASE_SCRIPT_SHA = createHash('sha1').update(LEASE_SCRIPT).digest('hex');
