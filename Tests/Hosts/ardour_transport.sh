#!/usr/bin/env bash
# Real-host test: what a latency change does while the host's transport rolls. Headless Ardour 7
# (ardour7-lua, dummy backend) puts the VST3 on a track at 48 kHz and rolls the transport
# (Session:request_roll; Session:transport_rolling() confirms it).
#
# The latency at the defaults (20 ms, or the plugin's floor for Ardour's 1024-sample blocks if
# that is more) is read first: call it D.
# 1. By default ("Latency changes while playing", id latency_while_playing, off) a change must not
#    reach the host while the transport rolls: latency_ms goes from 20 to 100 ms while rolling,
#    and for 2 s Ardour must keep seeing D on the plugin (and the track). At the stop
#    (Session:request_stop) the new latency must arrive: 4800 samples, within 5 s.
# 2. With latency_while_playing on, a change is followed while rolling: latency_ms back to 20 ms,
#    and Ardour must see D again within 3 s with the transport still rolling; it stays there after
#    the stop.
# The plugin learns whether the host plays from the VST3 process context (kPlaying); Ardour learns
# of a change through restartComponent(kLatencyChanged). Until the plugin has the parameter, part 2
# fails with a message that says so.
#
# Usage: ardour_transport.sh <PauseGuard.vst3 bundle>
set -euo pipefail

bundle=${1:?usage: ardour_transport.sh <PauseGuard.vst3 bundle>}
source "$(dirname "${BASH_SOURCE[0]}")/ardour_common.sh"
ardour_setup vst3 "$bundle"

cat >"$work/test.lua" <<'LUA'
local changed_latency = 4800 -- latency_ms = 100 ms at 48 kHz
local default_latency -- read at the defaults (20 ms, or the plugin's floor for Ardour's blocks)
local follow_label = "Latency changes while playing" -- the parameter latency_while_playing
local failures = {}
local function fail(message)
  print("ardour: FAIL: " .. message)
  failures[#failures + 1] = message
end

dofile(os.getenv("PG_COMMON_LUA"))
local s, route, proc = pg_session("transport", "PauseGuard", "VST3")

-- Waits (up to `seconds`) until the plugin and the track report `want`; returns both figures.
local function settle(want, seconds)
  for _ = 1, seconds * 10 do
    if proc:signal_latency() == want and route:signal_latency() == want then break end
    ARDOUR.LuaAPI.usleep(100000)
  end
  return proc:signal_latency(), route:signal_latency()
end

local function index_of(label) return pg_param_index(proc, label) end

-- latency_ms as a normalised VST3 value: 1..200 ms, skewed so that 20 ms sits at 0.5.
local function latency_value(ms)
  local skew = math.log(0.5) / math.log((20 - 1) / (200 - 1))
  return ((ms - 1) / (200 - 1)) ^ skew
end

local TRS = ARDOUR.TransportRequestSource.TRS_UI
local function roll()
  s:request_roll(TRS)
  for _ = 1, 50 do
    if s:transport_rolling() then return end
    ARDOUR.LuaAPI.usleep(100000)
  end
  error("the transport did not start rolling")
end
local function stop()
  s:request_stop(false, false, TRS)
  for _ = 1, 50 do
    if not s:transport_rolling() then return end
    ARDOUR.LuaAPI.usleep(100000)
  end
  error("the transport did not stop")
end

-- Watches the latencies every 100 ms for `seconds` (or until both equal `want`, if given) while
-- the transport rolls. Returns the figures seen (in order, each once), the last plugin and track
-- figures, and whether the transport rolled throughout.
local function watch(seconds, want)
  local seen, last, p, r = {}, nil, 0, 0
  local rolled = true
  for _ = 1, seconds * 10 do
    ARDOUR.LuaAPI.usleep(100000)
    p, r = proc:signal_latency(), route:signal_latency()
    rolled = rolled and s:transport_rolling()
    local key = p .. "/" .. r
    if key ~= last then seen[#seen + 1] = key; last = key end
    if want and p == want and r == want then break end
  end
  return table.concat(seen, ", "), p, r, rolled
end

local p, r
for _ = 1, 50 do -- the plugin's latency, once it has reached the track
  p, r = proc:signal_latency(), route:signal_latency()
  if p > 0 and p == r then break end
  ARDOUR.LuaAPI.usleep(100000)
end
print(string.format("ardour: stopped, latency at the defaults: plugin %d, track %d", p, r))
if p < 960 or p ~= r or p >= changed_latency then
  error(string.format("the plugin reports %d/%d at its defaults, expected one figure from 960 (20 ms) up, below %d", p, r, changed_latency))
end
default_latency = p
local latency = index_of("Latency")
if latency == nil then error("no 'Latency' parameter") end
local follow = index_of(follow_label)
if follow == nil then
  print("ardour: the plugin has no '" .. follow_label .. "' parameter (latency_while_playing)")
else
  local value = ARDOUR.LuaAPI.get_processor_param(proc, follow, true)
  print(string.format("ardour: parameter %d '%s' = %g", follow, follow_label, value))
  if value >= 0.5 then fail("'" .. follow_label .. "' is on by default") end
end

-- 1. Default: held while rolling, applied at the stop.
roll()
assert(ARDOUR.LuaAPI.set_processor_param(proc, latency, latency_value(100)), "set_processor_param failed")
local seen, rolled
seen, p, r, rolled = watch(2)
print(string.format("ardour: rolling, latency_ms 20 -> 100 ms: for 2 s plugin/track latency was %s (rolling throughout: %s)", seen, tostring(rolled)))
if not rolled then fail("the transport stopped by itself during the check") end
if p ~= default_latency or r ~= default_latency or seen ~= default_latency .. "/" .. default_latency then
  fail(string.format("the latency changed while the transport rolled (%s); it should stay %d until the stop", seen, default_latency))
end
stop()
p, r = settle(changed_latency, 5)
print(string.format("ardour: stopped: plugin latency %d, track latency %d, expected %d", p, r, changed_latency))
if p ~= changed_latency or r ~= changed_latency then
  fail(string.format("after the stop Ardour reports %d/%d, expected the new latency %d", p, r, changed_latency))
end

-- 2. latency_while_playing on: followed while rolling.
if follow == nil then
  fail("the plugin has no '" .. follow_label .. "' parameter (id latency_while_playing): cannot check that "
       .. "a latency change is followed while playing when it is on")
else
  assert(ARDOUR.LuaAPI.set_processor_param(proc, follow, 1.0), "set_processor_param failed")
  roll()
  assert(ARDOUR.LuaAPI.set_processor_param(proc, latency, latency_value(20)), "set_processor_param failed")
  seen, p, r, rolled = watch(3, default_latency)
  print(string.format("ardour: latency_while_playing on, rolling, latency_ms 100 -> 20 ms: plugin/track latency %s (rolling throughout: %s)",
                      seen, tostring(rolled)))
  if not rolled then fail("the transport stopped by itself during the check") end
  if p ~= default_latency or r ~= default_latency then
    fail(string.format("with latency_while_playing on, the latency did not follow while rolling: %d/%d, expected %d", p, r, default_latency))
  end
  stop()
  ARDOUR.LuaAPI.usleep(1000000)
  p, r = proc:signal_latency(), route:signal_latency()
  print(string.format("ardour: stopped: plugin latency %d, track latency %d, expected %d", p, r, default_latency))
  if p ~= default_latency or r ~= default_latency then fail("the latency moved at the stop") end
end

close_session()
if #failures == 0 then print("ardour transport: PASS") end
LUA

ardour_run_test "$work/test.lua" "ardour transport: PASS"
