// Lua scripts for the Redis-family adapters (redis, redis-cluster, upstash). Every state transition
// runs as one script so its result (occupied, member_added, ...) is decided atomically for the
// whole cluster, no matter how many nodes race on the same channel. Every key a script touches is
// passed in KEYS (keys.ts builds them), so Redis Cluster routes and checks them; no script walks
// an unbounded set: lists are read a page per call.
//
// Key layout. App keys share the hash tag {appId} so one app's scripts stay in one cluster slot:
//   B = <prefix>{<appId>}:
//   B conns        hash  socketId → nodeId          (connection quota)
//   B cidx         zset  occupied channels, all at score 0 (the app's channel index, read in name order
//                        with ZRANGEBYLEX; an index before this one was a set named "chans")
//   B s:<channel>  hash  socketId → userId ("" when not presence): the subscription count
//   B m:<channel>  hash  userId → sockets of that user in the channel
//   B i:<channel>  hash  userId → user_info JSON of the user's first socket
//   B o:<channel>  zset  userId → join sequence (members in join order, read in pages by score)
//   B v:<channel>  string sequence of the channel's last member transition or subscriber count change
//                        (core/presence.ts, core/count-order.ts), µs of Redis's clock; a day, or
//                        10 minutes once the channel is vacated
//   B x:<channel>  string marker: the channel was announced vacated (kept 10 minutes, or until a live
//                        join occupies it again). After Redis lost its data, a node that re-registers
//                        a subscription reads it: a vacated announced while the nodes were still
//                        re-registering was wrong, and the occupied that corrects it is news.
//   B cm:<channel> string marker: a cache_miss webhook was sent for the channel; removed when an event
//                        is cached or the channel is vacated (protocol §3.8, cluster-wide)
//   B u:<userId>   set   signed-in sockets of a user (watchlist online/offline)
//   B c:<channel>  string last cached event (cache channels), with a PX expiry
//   B p:<key>      string idempotency key of a REST publish: "pending" while one is being made (short PX),
//                        "done" once delivered (PX the idempotency window)
//   B n:<nodeId>   set   everything the node recorded: "c|sock", "s|sock|channel", "u|sock|userId",
//                        so any surviving node can undo a dead node's state
// Node keys share the hash tag {nodes}:
//   G = <prefix>{nodes}:
//   G nodes        zset  nodeId → last heartbeat (ms, Redis clock, so node clocks may drift)
//   G na:<nodeId>  set   app ids the node wrote state for
//   G swept:<id>   string marker: another node released this node's state
//   G epoch        string random id set by the first node; changes when Redis lost its data
//
// A channel's keys travel as one group of eight, in this order (keys.ts channelKeys):
//   s, m, i, o, v, x, chans, cm

interface Script {
  name: string;
  lua: string;
}

/** Shared helpers of the app scripts. */
const APP_PRELUDE = `
local function redis_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
-- The channel's next sequence, of a member transition or of a subscriber count: never below the last
-- one, even if the key expired or the clock stepped back. One clock for both, so a count is ordered
-- against every other count of the channel however nodes race. Written with %.0f: Lua's tostring
-- would round a 16-digit number.
local function channel_seq(vkey)
  local v = math.max(tonumber(redis.call('GET', vkey) or '0') + 1, redis_us())
  redis.call('SET', vkey, string.format('%.0f', v), 'PX', 86400000)
  return v
end
-- The order of a count read without changing it: the last change's, which it reflects.
local function current_seq(vkey)
  return tonumber(redis.call('GET', vkey) or '0')
end
-- The eight keys of a channel starting at KEYS[at].
local function chan(at)
  return {s = KEYS[at], m = KEYS[at + 1], i = KEYS[at + 2], o = KEYS[at + 3], v = KEYS[at + 4],
    x = KEYS[at + 5], chans = KEYS[at + 6], cm = KEYS[at + 7]}
end
local function sub_leave(nkey, k, sock, ch)
  local user = redis.call('HGET', k.s, sock)
  if not user then return nil end
  redis.call('HDEL', k.s, sock)
  redis.call('SREM', nkey, 's|' .. sock .. '|' .. ch)
  local removed = 0
  local seq = 0
  if user ~= '' then
    if redis.call('HINCRBY', k.m, user, -1) <= 0 then
      redis.call('HDEL', k.m, user)
      redis.call('HDEL', k.i, user)
      redis.call('ZREM', k.o, user)
      removed = 1
      seq = channel_seq(k.v)
    end
  end
  -- A member transition's sequence orders the count too; otherwise the count takes its own.
  local cseq = seq
  if cseq == 0 then cseq = channel_seq(k.v) end
  local n = redis.call('HLEN', k.s)
  local vacated = 0
  if n == 0 then
    vacated = 1
    redis.call('ZREM', k.chans, ch)
    redis.call('SET', k.x, '1', 'PX', 600000)
    redis.call('DEL', k.cm)
    -- Every channel now has a sequence key: kept 10 minutes once vacated, not a day, so short-lived
    -- channels leave nothing behind; the clock (redis_us) keeps the next one higher anyway.
    redis.call('PEXPIRE', k.v, 600000)
  end
  return {vacated, removed, n, user, seq, cseq}
end
local function user_out(nkey, ukey, sock, user)
  if redis.call('SREM', ukey, sock) == 0 then return 0 end
  redis.call('SREM', nkey, 'u|' .. sock .. '|' .. user)
  if redis.call('SCARD', ukey) == 0 then return 1 end
  return 0
end
local function conn_out(nkey, ckey, sock)
  redis.call('HDEL', ckey, sock)
  redis.call('SREM', nkey, 'c|' .. sock)
end
`;

const app = (name: string, body: string): Script => ({ name, lua: APP_PRELUDE + body });
const plain = (name: string, lua: string): Script => ({ name, lua });

export const SCRIPTS = {
  // KEYS: conns, n:node. ARGV: node, socket, maxConnections → 1 admitted, 0 over quota
  addConnection: plain("sbAddConn", `
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return 1 end
local max = tonumber(ARGV[3])
if max >= 0 and redis.call('HLEN', KEYS[1]) >= max then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[2], 'c|' .. ARGV[2])
return 1`),
  // KEYS: conns, n:node. ARGV: socket
  removeConnection: app("sbRemoveConn", `conn_out(KEYS[2], KEYS[1], ARGV[1])
return 1`),
  // KEYS: n:node, then the channel's eight keys. ARGV: socket, channel, presence "1"/"0", userId,
  // userInfo JSON, maxMembers, restore "1"/"0"
  // → {ok, occupied, memberAdded, subscriptionCount, member sequence (0 when no member was added),
  //    1 when a restore finds the channel announced vacated since Redis lost its data, count sequence}
  join: app("sbJoin", `
local k = chan(2)
local sock, ch = ARGV[1], ARGV[2]
local presence = ARGV[3] == '1'
local user = ''
if presence then user = ARGV[4] end
if presence and redis.call('HEXISTS', k.m, user) == 0 then
  local max = tonumber(ARGV[6])
  if max >= 0 and redis.call('HLEN', k.m) >= max then return {0, 0, 0, redis.call('HLEN', k.s)} end
end
local occupied = 0
if redis.call('HLEN', k.s) == 0 then occupied = 1 end
if redis.call('HSETNX', k.s, sock, user) == 0 then return {1, 0, 0, redis.call('HLEN', k.s), 0, 0, current_seq(k.v)} end
redis.call('ZADD', k.chans, 0, ch)
redis.call('SADD', KEYS[1], 's|' .. sock .. '|' .. ch)
local added = 0
local mseq = 0
if presence and redis.call('HINCRBY', k.m, user, 1) == 1 then
  added = 1
  mseq = channel_seq(k.v)
  redis.call('HSET', k.i, user, ARGV[5])
  local last = redis.call('ZRANGE', k.o, -1, -1, 'WITHSCORES')
  local seq = 1
  if last[2] then seq = tonumber(last[2]) + 1 end
  redis.call('ZADD', k.o, seq, user)
end
local cseq = mseq
if cseq == 0 then cseq = channel_seq(k.v) end
local vacatedSince = 0
if ARGV[7] == '1' then vacatedSince = redis.call('EXISTS', k.x) elseif occupied == 1 then redis.call('DEL', k.x) end
return {1, occupied, added, redis.call('HLEN', k.s), mseq, vacatedSince, cseq}`),
  // KEYS: n:node, then the channel's eight keys. ARGV: socket, channel
  // → {vacated, memberRemoved, subscriptionCount, userId, member sequence, count sequence}
  leave: app("sbLeave", `
local k = chan(2)
local r = sub_leave(KEYS[1], k, ARGV[1], ARGV[2])
if r then return r end
return {0, 0, redis.call('HLEN', k.s), '', 0, current_seq(k.v)}`),
  // KEYS: u:user, n:node. ARGV: socket, userId → 1 when the user went offline → online
  signIn: plain("sbSignIn", `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], 'u|' .. ARGV[1] .. '|' .. ARGV[2])
if redis.call('SCARD', KEYS[1]) == 1 then return 1 end
return 0`),
  // KEYS: u:user, n:node. ARGV: socket, userId → 1 when that was the user's last socket
  signOut: app("sbSignOut", `return user_out(KEYS[2], KEYS[1], ARGV[1], ARGV[2])`),
  // Undoes recorded items of one node: a dead node's (a sweep), a node's own stale ones (a resync),
  // or a closing socket's (all of its channels, its sign-in and its connection in one round trip).
  // KEYS: n:node, then per item its keys: "c|sock" → conns; "s|sock|channel" → the channel's eight;
  // "u|sock|user" → u:user. ARGV: "report" "1"/"0", item... Only an item still in n:node is
  // undone (its SREM decides), so concurrent sweepers never announce the same member_removed twice;
  // with "report", a subscription not held (a sweep got it first) still answers its channel's count.
  // → {items left in n:node, {{"s", channel, vacated, memberRemoved, count, userId, seq, count seq} | {"u", userId}}...}
  release: app("sbRelease", `
local nkey = KEYS[1]
local report = ARGV[1] == '1'
local at = 2
local out = {}
for i = 2, #ARGV do
  local item = ARGV[i]
  local kind = string.sub(item, 1, 1)
  local rest = string.sub(item, 3)
  local bar = string.find(rest, '|', 1, true)
  -- Taken out of the node's set first, so an item whose state is already gone cannot stay behind.
  local held = redis.call('SREM', nkey, item) == 1
  if kind == 'c' then
    if held then conn_out(nkey, KEYS[at], rest) end
    at = at + 1
  elseif kind == 's' and bar then
    local k = chan(at)
    local ch = string.sub(rest, bar + 1)
    local r = nil
    if held then r = sub_leave(nkey, k, string.sub(rest, 1, bar - 1), ch) end
    if r then
      table.insert(out, {'s', ch, r[1], r[2], r[3], r[4], r[5], r[6]})
    elseif report then
      table.insert(out, {'s', ch, 0, 0, redis.call('HLEN', k.s), '', 0, current_seq(k.v)})
    end
    at = at + 8
  elseif kind == 'u' and bar then
    local user = string.sub(rest, bar + 1)
    if held and user_out(nkey, KEYS[at], string.sub(rest, 1, bar - 1), user) == 1 then table.insert(out, {'u', user}) end
    at = at + 1
  end
end
return {redis.call('SCARD', nkey), out}`),
  // KEYS: n:node. ARGV: cursor, count → {next cursor ("0" at the end), item...}
  itemsPage: plain("sbItems", `
local r = redis.call('SSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local out = {r[1]}
for _, item in ipairs(r[2]) do table.insert(out, item) end
return out`),
  // KEYS: s, m of the channel → {subscriptions, users}
  channelStats: plain("sbChanStats", `return {redis.call('HLEN', KEYS[1]), redis.call('HLEN', KEYS[2])}`),
  // KEYS: chans. ARGV: lower bound (a ZRANGEBYLEX bound: "[name" from, "(name" after), upper
  // bound ("+" for none), count → {channels within the bounds, channel...} in name order
  channelsPage: plain("sbChannels", `
local out = {redis.call('ZLEXCOUNT', KEYS[1], ARGV[1], ARGV[2])}
for _, ch in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, ARGV[3])) do table.insert(out, ch) end
return out`),
  // KEYS: s, m of each channel in turn → {subscriptions, users, ...}
  channelCounts: plain("sbChanCounts", `
local out = {}
for i = 1, #KEYS, 2 do
  table.insert(out, redis.call('HLEN', KEYS[i]))
  table.insert(out, redis.call('HLEN', KEYS[i + 1]))
end
return out`),
  // KEYS: o, i, v of the channel. ARGV: score after which to start ("-inf" first), count
  // → {sequence, last score of the page ("" when it is the last page), userId, userInfo JSON, ...} in
  // join order. The sequence of the first page is the snapshot's: a member that joins or leaves while
  // the pages are read carries a later sequence, so core/presence.ts orders it after the snapshot.
  membersPage: app("sbMembers", `
local min = ARGV[1]
if min ~= '-inf' then min = '(' .. min end
local count = tonumber(ARGV[2])
local page = redis.call('ZRANGEBYSCORE', KEYS[1], min, '+inf', 'WITHSCORES', 'LIMIT', 0, count)
local seq = tonumber(redis.call('GET', KEYS[3]) or '0')
if seq == 0 then seq = redis_us() - 1 end
local ids = {}
for i = 1, #page, 2 do table.insert(ids, page[i]) end
local last = ''
if #ids == count then last = page[#page] end
local out = {string.format('%.0f', seq), last}
if #ids == 0 then return out end
local infos = redis.call('HMGET', KEYS[2], unpack(ids))
for i, id in ipairs(ids) do
  table.insert(out, id)
  table.insert(out, infos[i] or 'null')
end
return out`),
  // KEYS: u:<userId>... → {1 or 0, ...} per user
  onlineUsers: plain("sbOnline", `
local out = {}
for i = 1, #KEYS do
  if redis.call('SCARD', KEYS[i]) > 0 then table.insert(out, 1) else table.insert(out, 0) end
end
return out`),
  // KEYS: c, cm of the channel. ARGV: JSON {event, data}, ttl ms. Caching an event ends the
  // channel's cache_miss suppression.
  cacheSet: plain("sbCacheSet", `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
return 1`),
  // KEYS: c of the channel → {JSON, pttl} or {}
  cacheGet: plain("sbCacheGet", `
local v = redis.call('GET', KEYS[1])
if not v then return {} end
return {v, redis.call('PTTL', KEYS[1])}`),
  // KEYS: cm, s of the channel. ARGV: bound ms → 1 when this caller sends the cache_miss webhook:
  // no other node did since the channel was occupied or an event was cached. A vacant channel (its
  // subscriber left meanwhile) claims nothing: its next subscriber decides.
  cacheMiss: plain("sbCacheMiss", `
if redis.call('HLEN', KEYS[2]) == 0 then return 0 end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0`),

  // KEYS: rl:<bucket>. ARGV: points, limit → {allowed 1/0, used, ms left in the window}. One fixed
  // one-second window per bucket for the whole cluster, timed by Redis (PEXPIRE on first use).
  rateConsume: plain("sbRate", `
local points = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local left = redis.call('PTTL', KEYS[1])
if left < 0 then left = 1000 end
if used + points > tonumber(ARGV[2]) then return {0, used, left} end
used = redis.call('INCRBY', KEYS[1], points)
if used == points then redis.call('PEXPIRE', KEYS[1], 1000) end
return {1, used, left}`),

  // KEYS: nodes, swept:node. ARGV: node → 1 when the node must resynchronise: it was not registered
  // (first start, or Redis lost its data) or another node swept its state while it was too slow to beat.
  heartbeat: plain("sbHeartbeat", `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fresh = redis.call('ZADD', KEYS[1], ms, ARGV[1])
local swept = redis.call('DEL', KEYS[2])
if fresh + swept > 0 then return 1 end
return 0`),
  // KEYS: epoch. ARGV: candidate → the data epoch: a new value means Redis lost its data
  epoch: plain("sbEpoch", `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`),
  // KEYS: na:node. ARGV: appId
  addNodeApp: plain("sbNodeApp", `return redis.call('SADD', KEYS[1], ARGV[1])`),
  // KEYS: na:node → app ids (a node serves few apps: one read)
  nodeApps: plain("sbNodeApps", `return redis.call('SMEMBERS', KEYS[1])`),
  // KEYS: nodes. ARGV: timeout ms → nodes whose last heartbeat is older than the timeout
  deadNodes: plain("sbDeadNodes", `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[1]))`),
  // KEYS: nodes, na:node, swept:node, epoch. ARGV: node, timeout ms (-1: unconditionally) → forgets
  // a node once its state is released. If it sent a heartbeat meanwhile it was only slow: leave it a
  // marker so that its next heartbeat tells it to re-register the state that was just released.
  forgetNode: plain("sbForgetNode", `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local timeout = tonumber(ARGV[2])
if score and timeout >= 0 then
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if tonumber(score) > ms - timeout then
    redis.call('SET', KEYS[3], '1', 'PX', timeout * 100)
    return 0
  end
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
-- The last node out leaves no keys behind; the next start begins a new epoch.
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[4]) end
return 1`),
  // KEYS: p:<key>. ARGV: pending ms → "claimed" (now pending), or what it holds ("pending", "done")
  idempotencyClaim: plain("sbIdemClaim", `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], 'pending', 'PX', ARGV[1])
return 'claimed'`),
  // KEYS: p:<key>. ARGV: "1" delivered / "0" failed, window ms. A failed publish releases only its
  // own pending claim, never a "done" another request recorded meanwhile.
  idempotencySettle: plain("sbIdemSettle", `
if ARGV[1] == '1' then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
elseif redis.call('GET', KEYS[1]) == 'pending' then
  redis.call('DEL', KEYS[1])
end
return 1`),
} satisfies Record<string, Script>;

export type ScriptName = keyof typeof SCRIPTS;
