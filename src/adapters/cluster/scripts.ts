// Lua scripts for the Redis-family adapters (redis, redis-cluster, upstash). Every state transition
// runs as one script so its result (occupied, member_added, ...) is decided atomically for the
// whole cluster, no matter how many nodes race on the same channel.
//
// Key layout. App keys share the hash tag {appId} so one app's scripts stay in one cluster slot:
//   B = <prefix>{<appId>}:
//   B conns        hash  socketId → nodeId          (connection quota)
//   B chans        set   occupied channels
//   B s:<channel>  hash  socketId → userId ("" when not presence): the subscription count
//   B m:<channel>  hash  userId → sockets of that user in the channel
//   B i:<channel>  hash  userId → user_info JSON of the user's first socket
//   B o:<channel>  zset  userId → join sequence (members in join order)
//   B v:<channel>  string sequence of the last member transition (core/presence.ts), µs of Redis's clock
//   B u:<userId>   set   signed-in sockets of a user (watchlist online/offline)
//   B c:<channel>  string last cached event (cache channels), with a PX expiry
//   B x:<channel>  string marker: the channel was announced vacated (kept 10 minutes, or until a live
//                        join occupies it again). After Redis lost its data, a node that re-registers
//                        a subscription reads it: a vacated announced while the nodes were still
//                        re-registering was wrong, and the occupied that corrects it is news.
//   B p:<key>      string idempotency key of a REST publish: "pending" while one is being made (short PX),
//                        "done" once delivered (PX the idempotency window); passed as KEYS[1]
//   B n:<nodeId>   set   everything the node recorded: "c|sock", "s|sock|channel", "u|sock|userId",
//                        so any surviving node can undo a dead node's state
// Node keys share the hash tag {nodes}:
//   G = <prefix>{nodes}:
//   G nodes        zset  nodeId → last heartbeat (ms, Redis clock, so node clocks may drift)
//   G na:<nodeId>  set   app ids the node wrote state for
//   G swept:<id>   string marker: another node released this node's state
//   G epoch        string random id set by the first node; changes when Redis lost its data

export interface Script {
  name: string;
  lua: string;
}

/** Shared helpers for app scripts; ARGV[1] is always B. */
const APP_PRELUDE = `
local B = ARGV[1]
local function redis_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
-- The channel's next member sequence: never below the last one, even if the key expired or the clock
-- stepped back. Written with %.0f: Lua's tostring would round a 16-digit number.
local function member_seq(ch)
  local k = B .. 'v:' .. ch
  local v = math.max(tonumber(redis.call('GET', k) or '0') + 1, redis_us())
  redis.call('SET', k, string.format('%.0f', v), 'PX', 86400000)
  return v
end
local function sub_leave(node, sock, ch)
  local s = B .. 's:' .. ch
  local user = redis.call('HGET', s, sock)
  if not user then return nil end
  redis.call('HDEL', s, sock)
  redis.call('SREM', B .. 'n:' .. node, 's|' .. sock .. '|' .. ch)
  local removed = 0
  local seq = 0
  if user ~= '' then
    local m = B .. 'm:' .. ch
    if redis.call('HINCRBY', m, user, -1) <= 0 then
      redis.call('HDEL', m, user)
      redis.call('HDEL', B .. 'i:' .. ch, user)
      redis.call('ZREM', B .. 'o:' .. ch, user)
      removed = 1
      seq = member_seq(ch)
    end
  end
  local n = redis.call('HLEN', s)
  local vacated = 0
  if n == 0 then
    vacated = 1
    redis.call('SREM', B .. 'chans', ch)
    redis.call('SET', B .. 'x:' .. ch, '1', 'PX', 600000)
  end
  return {vacated, removed, n, user, seq}
end
local function user_out(node, sock, user)
  local k = B .. 'u:' .. user
  if redis.call('SREM', k, sock) == 0 then return 0 end
  redis.call('SREM', B .. 'n:' .. node, 'u|' .. sock .. '|' .. user)
  if redis.call('SCARD', k) == 0 then return 1 end
  return 0
end
local function conn_out(node, sock)
  redis.call('HDEL', B .. 'conns', sock)
  redis.call('SREM', B .. 'n:' .. node, 'c|' .. sock)
end
`;

const app = (name: string, body: string): Script => ({ name, lua: APP_PRELUDE + body });
/** A script on the one key it is given (KEYS[1]), without the app prelude. */
const own = (name: string, lua: string): Script => ({ name, lua });
const nodes = (name: string, body: string): Script => ({ name, lua: `local G = ARGV[1]\n${body}` });

export const SCRIPTS = {
  // ARGV: B, node, socket, maxConnections → 1 admitted, 0 over quota
  addConnection: app("sbAddConn", `
local k = B .. 'conns'
if redis.call('HEXISTS', k, ARGV[3]) == 1 then return 1 end
local max = tonumber(ARGV[4])
if max >= 0 and redis.call('HLEN', k) >= max then return 0 end
redis.call('HSET', k, ARGV[3], ARGV[2])
redis.call('SADD', B .. 'n:' .. ARGV[2], 'c|' .. ARGV[3])
return 1`),
  // ARGV: B, node, socket
  removeConnection: app("sbRemoveConn", `conn_out(ARGV[2], ARGV[3])
return 1`),
  // ARGV: B, node, socket, channel, presence "1"/"0", userId, userInfo JSON, maxMembers, restore "1"/"0"
  // → {ok, occupied, memberAdded, subscriptionCount, member sequence (0 when no member was added),
  //    1 when a restore finds the channel announced vacated since Redis lost its data}
  join: app("sbJoin", `
local ch = ARGV[4]
local s = B .. 's:' .. ch
local presence = ARGV[5] == '1'
local user = ''
if presence then user = ARGV[6] end
local m = B .. 'm:' .. ch
if presence and redis.call('HEXISTS', m, user) == 0 then
  local max = tonumber(ARGV[8])
  if max >= 0 and redis.call('HLEN', m) >= max then return {0, 0, 0, redis.call('HLEN', s)} end
end
local occupied = 0
if redis.call('HLEN', s) == 0 then occupied = 1 end
if redis.call('HSETNX', s, ARGV[3], user) == 0 then return {1, 0, 0, redis.call('HLEN', s)} end
redis.call('SADD', B .. 'chans', ch)
redis.call('SADD', B .. 'n:' .. ARGV[2], 's|' .. ARGV[3] .. '|' .. ch)
local added = 0
local mseq = 0
if presence and redis.call('HINCRBY', m, user, 1) == 1 then
  added = 1
  mseq = member_seq(ch)
  redis.call('HSET', B .. 'i:' .. ch, user, ARGV[7])
  local o = B .. 'o:' .. ch
  local last = redis.call('ZRANGE', o, -1, -1, 'WITHSCORES')
  local seq = 1
  if last[2] then seq = tonumber(last[2]) + 1 end
  redis.call('ZADD', o, seq, user)
end
local x = B .. 'x:' .. ch
local vacatedSince = 0
if ARGV[9] == '1' then vacatedSince = redis.call('EXISTS', x) elseif occupied == 1 then redis.call('DEL', x) end
return {1, occupied, added, redis.call('HLEN', s), mseq, vacatedSince}`),
  // ARGV: B, node, socket, channel → {vacated, memberRemoved, subscriptionCount, userId, member sequence}
  leave: app("sbLeave", `
local r = sub_leave(ARGV[2], ARGV[3], ARGV[4])
if r then return r end
return {0, 0, redis.call('HLEN', B .. 's:' .. ARGV[4]), ''}`),
  // ARGV: B, node, socket, userId → 1 when the user went offline → online
  signIn: app("sbSignIn", `
local k = B .. 'u:' .. ARGV[4]
if redis.call('SADD', k, ARGV[3]) == 0 then return 0 end
redis.call('SADD', B .. 'n:' .. ARGV[2], 'u|' .. ARGV[3] .. '|' .. ARGV[4])
if redis.call('SCARD', k) == 1 then return 1 end
return 0`),
  // ARGV: B, node, socket, userId → 1 when that was the user's last socket
  signOut: app("sbSignOut", `return user_out(ARGV[2], ARGV[3], ARGV[4])`),
  // Undoes a node's recorded state. ARGV: B, node, "batch", n (SPOP up to n items) or
  // B, node, "items", item... (exactly those). SPOP hands each item to one caller only, so
  // concurrent sweepers never announce the same member_removed twice.
  // → {items left, {{"s", channel, vacated, memberRemoved, count, userId, seq} | {"u", userId}}...}
  release: app("sbRelease", `
local node = ARGV[2]
local set = B .. 'n:' .. node
local items
if ARGV[3] == 'batch' then
  items = redis.call('SPOP', set, tonumber(ARGV[4]))
else
  items = {}
  for i = 4, #ARGV do
    if redis.call('SREM', set, ARGV[i]) == 1 then table.insert(items, ARGV[i]) end
  end
end
local out = {}
for _, item in ipairs(items) do
  local kind = string.sub(item, 1, 1)
  local rest = string.sub(item, 3)
  local bar = string.find(rest, '|', 1, true)
  if kind == 'c' then
    conn_out(node, rest)
  elseif kind == 's' and bar then
    local ch = string.sub(rest, bar + 1)
    local r = sub_leave(node, string.sub(rest, 1, bar - 1), ch)
    if r then table.insert(out, {'s', ch, r[1], r[2], r[3], r[4], r[5]}) end
  elseif kind == 'u' and bar then
    local user = string.sub(rest, bar + 1)
    if user_out(node, string.sub(rest, 1, bar - 1), user) == 1 then table.insert(out, {'u', user}) end
  end
end
return {redis.call('SCARD', set), out}`),
  // ARGV: B, node → the node's recorded items
  items: app("sbItems", `return redis.call('SMEMBERS', B .. 'n:' .. ARGV[2])`),
  // ARGV: B, channel → {subscriptions, users}
  channelStats: app("sbChanStats", `
return {redis.call('HLEN', B .. 's:' .. ARGV[2]), redis.call('HLEN', B .. 'm:' .. ARGV[2])}`),
  // ARGV: B, prefix → {channel, subscriptions, users, ...}
  channels: app("sbChannels", `
local out = {}
local p = ARGV[2]
for _, ch in ipairs(redis.call('SMEMBERS', B .. 'chans')) do
  if p == '' or string.sub(ch, 1, #p) == p then
    local n = redis.call('HLEN', B .. 's:' .. ch)
    if n > 0 then
      table.insert(out, ch)
      table.insert(out, n)
      table.insert(out, redis.call('HLEN', B .. 'm:' .. ch))
    end
  end
end
return out`),
  // ARGV: B, channel → {sequence, userId, userInfo JSON, ...} in join order. Without a sequence
  // key the snapshot reflects every transition up to now.
  members: app("sbMembers", `
local ids = redis.call('ZRANGE', B .. 'o:' .. ARGV[2], 0, -1)
local seq = tonumber(redis.call('GET', B .. 'v:' .. ARGV[2]) or '0')
if seq == 0 then seq = redis_us() - 1 end
local out = {string.format('%.0f', seq)}
if #ids == 0 then return out end
local infos = redis.call('HMGET', B .. 'i:' .. ARGV[2], unpack(ids))
for i, id in ipairs(ids) do
  table.insert(out, id)
  table.insert(out, infos[i] or 'null')
end
return out`),
  // ARGV: B, userId... → the online ones
  onlineUsers: app("sbOnline", `
local out = {}
for i = 2, #ARGV do
  if redis.call('SCARD', B .. 'u:' .. ARGV[i]) > 0 then table.insert(out, ARGV[i]) end
end
return out`),
  // ARGV: B, channel, JSON {event, data}, ttl ms
  cacheSet: app("sbCacheSet", `redis.call('SET', B .. 'c:' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
return 1`),
  // ARGV: B, channel → {JSON, pttl} or {}
  cacheGet: app("sbCacheGet", `
local k = B .. 'c:' .. ARGV[2]
local v = redis.call('GET', k)
if not v then return {} end
return {v, redis.call('PTTL', k)}`),

  // ARGV: B, bucket, points, limit → {allowed 1/0, used, ms left in the window}. One fixed
  // one-second window per bucket for the whole cluster, timed by Redis (PEXPIRE on first use).
  rateConsume: app("sbRate", `
local k = B .. 'rl:' .. ARGV[2]
local points = tonumber(ARGV[3])
local used = tonumber(redis.call('GET', k) or '0')
local left = redis.call('PTTL', k)
if left < 0 then left = 1000 end
if used + points > tonumber(ARGV[4]) then return {0, used, left} end
used = redis.call('INCRBY', k, points)
if used == points then redis.call('PEXPIRE', k, 1000) end
return {1, used, left}`),

  // ARGV: G, node → 1 when the node must resynchronise: it was not registered (first start, or
  // Redis lost its data) or another node swept its state while it was too slow to beat.
  heartbeat: nodes("sbHeartbeat", `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fresh = redis.call('ZADD', G .. 'nodes', ms, ARGV[2])
local swept = redis.call('DEL', G .. 'swept:' .. ARGV[2])
if fresh + swept > 0 then return 1 end
return 0`),
  // ARGV: G, candidate → the data epoch: a new value means Redis lost its data (restart without persistence)
  epoch: nodes("sbEpoch", `
local v = redis.call('GET', G .. 'epoch')
if v then return v end
redis.call('SET', G .. 'epoch', ARGV[2])
return ARGV[2]`),
  // ARGV: G, node, appId
  addNodeApp: nodes("sbNodeApp", `return redis.call('SADD', G .. 'na:' .. ARGV[2], ARGV[3])`),
  // ARGV: G, node → app ids
  nodeApps: nodes("sbNodeApps", `return redis.call('SMEMBERS', G .. 'na:' .. ARGV[2])`),
  // ARGV: G, timeout ms → nodes whose last heartbeat is older than the timeout
  deadNodes: nodes("sbDeadNodes", `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', G .. 'nodes', '-inf', ms - tonumber(ARGV[2]))`),
  // ARGV: G, node, timeout ms (-1: unconditionally) → forgets a node once its state is released.
  // If it sent a heartbeat meanwhile it was only slow: leave it a marker so that its next
  // heartbeat tells it to re-register the state that was just released.
  forgetNode: nodes("sbForgetNode", `
local score = redis.call('ZSCORE', G .. 'nodes', ARGV[2])
local timeout = tonumber(ARGV[3])
if score and timeout >= 0 then
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if tonumber(score) > ms - timeout then
    redis.call('SET', G .. 'swept:' .. ARGV[2], '1', 'PX', timeout * 100)
    return 0
  end
end
redis.call('ZREM', G .. 'nodes', ARGV[2])
redis.call('DEL', G .. 'na:' .. ARGV[2], G .. 'swept:' .. ARGV[2])
-- The last node out leaves no keys behind; the next start begins a new epoch.
if redis.call('ZCARD', G .. 'nodes') == 0 then redis.call('DEL', G .. 'epoch') end
return 1`),
  // KEYS[1] the publish key; ARGV: pending ms → "claimed" (now pending), or what it holds ("pending", "done")
  idempotencyClaim: own("sbIdemClaim", `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], 'pending', 'PX', ARGV[1])
return 'claimed'`),
  // KEYS[1] the publish key; ARGV: "1" delivered / "0" failed, window ms. A failed publish releases
  // only its own pending claim, never a "done" another request recorded meanwhile.
  idempotencySettle: own("sbIdemSettle", `
if ARGV[1] == '1' then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
elseif redis.call('GET', KEYS[1]) == 'pending' then
  redis.call('DEL', KEYS[1])
end
return 1`),
} satisfies Record<string, Script>;

export type ScriptName = keyof typeof SCRIPTS;
