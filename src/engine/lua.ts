/**
 * The engine's atomic state changes, as Redis scripts. Each one checks the
 * step's ticket (one live ticket per step) and state, changes it, bumps the
 * job's sequence number and appends the event to the stream in one step, so
 * a state change and its record can never be separated by a crash.
 *
 * Every change also marks the job's stored view as behind (KEYS[3]), in
 * the same step: the recorder that writes the view at this sequence number
 * unmarks it (view-sync.ts), so a view left behind is always found again.
 *
 * KEYS[1] = the job's state hash, KEYS[2] = the event stream, KEYS[3] = the
 * set of stale stored views. ARGV[#ARGV] = the job id (added by JobStateStore).
 */

import { DETAIL_FIELDS, JOB_FIELD as J, STEP_FIELD as S } from './job-hash.ts';

const APPEND_EVENT = `
local view_marked = false
local function bump_seq()
  local seq = redis.call('HINCRBY', KEYS[1], '${J.seq}', 1)
  -- NX: the score says since when the stored view has been behind; once a script is enough.
  if not view_marked then
    local now = redis.call('TIME')
    redis.call('ZADD', KEYS[3], 'NX', now[1] * 1000 + math.floor(now[2] / 1000), ARGV[#ARGV])
    view_marked = true
  end
  return seq
end
-- The event as Node wrote it, with its sequence number (and the steps it released, already JSON) put in front:
-- Node's JSON stays byte for byte (cjson would round numbers to 14 digits and turn [] into {}), and nothing is
-- decoded. An event already holding such a key (none the engine sends) is decoded and re-encoded instead.
local function with_seq(event_json, seq, released_json)
  local releasing = released_json ~= nil and released_json ~= '[]' and released_json ~= '{}'
  if string.find(event_json, '"seq":', 1, true) or (releasing and string.find(event_json, '"released":', 1, true)) then
    local ev = cjson.decode(event_json)
    ev.seq = seq
    if releasing then ev.released = cjson.decode(released_json) end
    return cjson.encode(ev)
  end
  local head = '{"seq":' .. seq
  if releasing then head = head .. ',"released":' .. released_json end
  if event_json == '{}' then return head .. '}' end
  return head .. ',' .. string.sub(event_json, 2)
end
local function append_event(event_json, released_json, maxlen)
  local seq = bump_seq()
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'e', with_seq(event_json, seq, released_json))
  -- _evid: the reconciler waits until the recorder has stored the trail up to this entry.
  redis.call('HSET', KEYS[1], '${J.eventSeq}', seq, '${J.eventId}', id)
  return seq
end
-- One HSET for all the fields (in chunks: unpack has a limit on how many values it returns).
local function set_fields(fields_json)
  local flat = {}
  for f, v in pairs(cjson.decode(fields_json)) do
    flat[#flat + 1] = f
    flat[#flat + 1] = v
    if #flat >= 1000 then
      redis.call('HSET', KEYS[1], unpack(flat))
      flat = {}
    end
  end
  if #flat > 0 then redis.call('HSET', KEYS[1], unpack(flat)) end
end
`;

/** ARGV: fields, event, released(json array), maxlen. Does nothing if the job exists. */
export const INIT_JOB = `${APPEND_EVENT}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
set_fields(ARGV[1])
append_event(ARGV[2], ARGV[3], ARGV[4])
return 1
`;

/**
 * ARGV: stepId, ticket, phase, event, now, maxlen, runner (the claiming process, kept on the step).
 * Returns { ok | resumed | held | stale | gone, ...the step's detail fields, the job's rollback purpose }:
 * ok (started), resumed (already started: redelivery, poll or retry), held
 * (job halted: step goes back to pending). The details come back with the
 * claim to save the worker a round trip.
 */
export const CLAIM_STEP = `${APPEND_EVENT}
local s = ARGV[1]
local function with_details(status)
  redis.call('HSET', KEYS[1], '${S.runner}:' .. s, ARGV[7])
  return { status, unpack(redis.call('HMGET', KEYS[1], ${DETAIL_FIELDS.map((name) => `'${S[name]}:' .. s`).join(', ')}, '${J.rollbackPurpose}')) }
end
local now = redis.call('HMGET', KEYS[1], '${S.state}:' .. s, '${S.ticket}:' .. s, '${J.mode}', '${J.failedBlocking}')
local state, mode = now[1], now[3]
if not state then return { 'gone' } end
if now[2] ~= ARGV[2] then return { 'stale' } end
if ARGV[3] == 'run' then
  if state == 'running' then return with_details('resumed') end
  if state ~= 'ready' then return { 'stale' } end
  if mode ~= 'forward' or tonumber(now[4]) > 0 then
    redis.call('HSET', KEYS[1], '${S.state}:' .. s, 'pending')
    bump_seq()
    return { 'held' }
  end
  redis.call('HSET', KEYS[1], '${S.state}:' .. s, 'running', '${S.startedAt}:' .. s, ARGV[5])
else
  if state ~= 'compensating' or mode ~= 'rollback' then return { 'stale' } end
  if redis.call('HEXISTS', KEYS[1], '${S.compensationStartedAt}:' .. s) == 1 then return with_details('resumed') end
  redis.call('HSET', KEYS[1], '${S.compensationStartedAt}:' .. s, ARGV[5])
end
append_event(ARGV[4], nil, ARGV[6])
return with_details('ok')
`;

/**
 * ARGV: stepId, ticket, phase, outcome state, event, detail fields, maxlen, then what the finishing worker
 * carries on itself: its queue job (the carrier; empty for none), the started events of the step's dependents by
 * step id (JSON: each event a JSON string without its time), the runner (host-pid), and how many of the steps
 * released to run it starts now (those it has step slots for); last, the event's time (ms).
 * Every step released to run is carried: marked carried in the event, so the dispatcher leaves it alone, and
 * keeping the carrier's id, so that job hands back only its own steps if it comes back. The first ones, as many
 * as it starts now, are claimed here, as CLAIM_STEP would: they start in the same change that released them, with
 * no round trip of their own; the others wait in the carrier's process for a slot.
 * Returns the released steps as JSON, or 'stale'; with steps claimed, { released JSON, then per claimed step its
 * detail fields and the job's rollback purpose }.
 */
export const FINISH_STEP = `${APPEND_EVENT}
local s = ARGV[1]
local now = redis.call('HMGET', KEYS[1], '${S.ticket}:' .. s, '${S.state}:' .. s, '${J.mode}', '${J.failedBlocking}', '${S.dependents}:' .. s)
if now[1] ~= ARGV[2] then return 'stale' end
local state = now[2]
local outcome = ARGV[4]
local released = {}
if ARGV[3] == 'run' then
  if state ~= 'running' then return 'stale' end
  redis.call('HSET', KEYS[1], '${S.state}:' .. s, outcome)
  if outcome == 'failed' and redis.call('HGET', KEYS[1], '${S.criticality}:' .. s) == 'blocking' then
    redis.call('HINCRBY', KEYS[1], '${J.failedBlocking}', 1)
  end
  if outcome == 'succeeded' then
    local halted = now[3] ~= 'forward' or tonumber(now[4]) > 0
    for _, d in ipairs(cjson.decode(now[5])) do
      local r = redis.call('HINCRBY', KEYS[1], '${S.remaining}:' .. d, -1)
      if r <= 0 and not halted and redis.call('HGET', KEYS[1], '${S.state}:' .. d) == 'pending' then
        local t = redis.call('HINCRBY', KEYS[1], '${S.ticket}:' .. d, 1)
        redis.call('HSET', KEYS[1], '${S.state}:' .. d, 'ready')
        table.insert(released, { stepId = d, ticket = t, phase = 'run' })
      end
    end
  end
else
  if state ~= 'compensating' then return 'stale' end
  redis.call('HSET', KEYS[1], '${S.state}:' .. s, outcome)
  redis.call('HDEL', KEYS[1], '${S.compensationStartedAt}:' .. s)
  if outcome == 'compensated' then
    for _, u in ipairs(cjson.decode(redis.call('HGET', KEYS[1], '${S.unlocks}:' .. s) or '[]')) do
      local c = redis.call('HINCRBY', KEYS[1], '${S.compensationWaits}:' .. u, -1)
      if c <= 0 and redis.call('HGET', KEYS[1], '${S.state}:' .. u) == 'compensating' then
        local t = redis.call('HINCRBY', KEYS[1], '${S.ticket}:' .. u, 1)
        table.insert(released, { stepId = u, ticket = t, phase = 'compensate' })
      end
    end
  end
end
local carried = {}
local started = ARGV[8] ~= '' and cjson.decode(ARGV[9]) or {}
for _, r in ipairs(released) do
  if r.phase == 'run' and started[r.stepId] ~= nil then
    r.carried = true
    redis.call('HSET', KEYS[1], '${S.carrier}:' .. r.stepId, ARGV[8])
    if #carried < tonumber(ARGV[11]) then table.insert(carried, r.stepId) end
  end
end
set_fields(ARGV[6])
-- Encoded once: for the event and for the reply.
local released_json = cjson.encode(released)
append_event(ARGV[5], released_json, ARGV[7])
if #carried == 0 then return released_json end
local reply = { released_json }
-- Never before the event that released them (ARGV[12]: its time), whatever the clocks of Node and Redis say.
local time = redis.call('TIME')
local at = math.max(tonumber(ARGV[12]), time[1] * 1000 + math.floor(time[2] / 1000))
for _, d in ipairs(carried) do
  redis.call('HSET', KEYS[1], '${S.state}:' .. d, 'running', '${S.startedAt}:' .. d, at, '${S.runner}:' .. d, ARGV[10])
  -- The started event comes without its time (a JSON object as a string), which is put in front here.
  append_event(string.format('{"at":%d,', at) .. string.sub(started[d], 2), nil, ARGV[7])
  for _, v in ipairs(redis.call('HMGET', KEYS[1], ${DETAIL_FIELDS.map((name) => `'${S[name]}:' .. d`).join(', ')}, '${J.rollbackPurpose}')) do
    reply[#reply + 1] = v
  end
end
return reply
`;

/** ARGV: expected seq, fields, event (with its released steps), maxlen. 1 if applied, 0 if the job moved. */
export const APPLY_TRANSITION = `${APPEND_EVENT}
if redis.call('HGET', KEYS[1], '${J.seq}') ~= ARGV[1] then return 0 end
set_fields(ARGV[2])
append_event(ARGV[3], nil, ARGV[4])
return 1
`;
