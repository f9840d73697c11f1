// The console's script, served as console/console.js (the page's CSP allows no inline script).
// Plain browser JavaScript, no build step and no framework: it must run from the single binary.
// Text from events is only ever set with textContent, never as HTML. Written without template
// literals so this file can hold it in one.

export const CONSOLE_JS = String.raw`"use strict";
(function () {
  var MAX_ROWS = 1000, MAX_HELD = 1000;
  var $ = function (id) { return document.getElementById(id); };
  var me = null, appId = null, source = null, paused = false, held = [], heldDropped = 0;
  var membersOf = null, drops = { slow: 0, cluster: 0 };
  var BAD = { connection_refused: 1, subscription_refused: 1, signin_refused: 1, rate_limited: 1 };
  var GOOD = { connection_opened: 1, subscribed: 1, channel_occupied: 1, member_added: 1 };

  function api(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { "x-switchboard-console": "1" } };
    if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) { return { status: res.status, json: json }; });
    });
  }
  function appQuery(sep) { return me && me.kind === "operator" ? sep + "app=" + encodeURIComponent(appId) : ""; }

  function show(signedIn) {
    $("signin").hidden = signedIn; $("dash").hidden = !signedIn; $("sign-out").hidden = !signedIn;
    $("app-pick-label").hidden = !(signedIn && me && me.kind === "operator");
  }

  function start() {
    api("GET", "console/api/session").then(function (r) {
      if (r.status !== 200) { me = null; show(false); return; }
      me = r.json;
      $("who").textContent = me.kind === "operator" ? "Operator" : "App " + me.appId;
      if (me.kind === "app") { appId = me.appId; show(true); connect(); return; }
      api("GET", "console/api/apps").then(function (a) {
        var pick = $("app-pick"); pick.textContent = "";
        (a.json.apps || []).forEach(function (id) { var o = document.createElement("option"); o.value = id; o.textContent = id; pick.appendChild(o); });
        appId = pick.value || null; show(true); if (appId) connect();
      });
    });
  }

  function connect() {
    if (source) source.close();
    clearLog(); membersOf = null; $("members").hidden = true;
    $("feed-status").textContent = "connecting…";
    source = new EventSource("console/api/stream" + appQuery("?"));
    source.addEventListener("hello", function () { $("feed-status").textContent = "live"; });
    source.addEventListener("state", function (m) { renderState(JSON.parse(m.data)); });
    source.addEventListener("events", function (m) { JSON.parse(m.data).forEach(arrived); });
    source.addEventListener("dropped", function (m) {
      var d = JSON.parse(m.data); drops.slow += d.slow; drops.cluster += d.cluster; renderNotice();
    });
    source.onerror = function () {
      $("feed-status").textContent = "reconnecting…";
      if (source.readyState === 2) api("GET", "console/api/session").then(function (r) { if (r.status === 401) { me = null; show(false); } else setTimeout(connect, 2000); });
    };
  }

  function renderState(s) {
    $("connections").textContent = s.connections;
    $("channel-count").textContent = s.totalChannels;
    $("nodes").textContent = s.nodes;
    var body = $("channels").tBodies[0]; body.textContent = "";
    s.channels.forEach(function (c) {
      var tr = body.insertRow(); tr.dataset.channel = c.name;
      var name = tr.insertCell();
      if (c.name.indexOf("presence-") === 0) {
        var b = document.createElement("button"); b.type = "button"; b.textContent = c.name;
        b.title = "Show the members"; b.onclick = function () { loadMembers(c.name); }; name.appendChild(b);
      } else name.textContent = c.name;
      tr.insertCell().textContent = c.subscriptionCount;
      tr.insertCell().textContent = c.name.indexOf("presence-") === 0 ? c.userCount : "";
    });
    $("channels-note").textContent = s.totalChannels === 0 ? "No occupied channels." :
      s.totalChannels > s.channels.length ? "Showing " + s.channels.length + " of " + s.totalChannels + " channels." : "";
  }

  function loadMembers(channel) {
    membersOf = channel;
    api("GET", "console/api/members?channel=" + encodeURIComponent(channel) + appQuery("&")).then(function (r) {
      if (membersOf !== channel) return;
      $("members").hidden = false; $("members-channel").textContent = channel;
      var list = $("members-list"); list.textContent = "";
      (r.json.members || []).forEach(function (m) {
        var li = document.createElement("li"); li.textContent = m.id + (m.info !== undefined && m.info !== null ? "  " + JSON.stringify(m.info) : "");
        list.appendChild(li);
      });
      if (r.status !== 200) list.textContent = r.json.error || "Could not load the members";
    });
  }

  function arrived(e) {
    if ((e.kind === "member_added" || e.kind === "member_removed") && e.channel === membersOf) loadMembers(membersOf);
    if (paused) {
      if (held.length < MAX_HELD) held.push(e); else heldDropped++;
      renderNotice(); return;
    }
    addRow(e);
  }

  function two(n, w) { n = String(n); while (n.length < (w || 2)) n = "0" + n; return n; }
  function clock(t) { var d = new Date(t); return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) + "." + two(d.getMilliseconds(), 3); }
  function span(cls, text) { var s = document.createElement("span"); s.className = cls; s.textContent = text; return s; }

  function addRow(e) {
    var li = document.createElement("li");
    li.className = BAD[e.kind] || (e.kind === "webhook_delivery" && e.details.indexOf("sent") !== 0) ? "bad" : GOOD[e.kind] ? "good" : "";
    li.dataset.kind = e.kind; li.dataset.channel = e.channel || ""; li.dataset.event = e.event || ""; li.dataset.node = e.node;
    var time = document.createElement("time"); time.dateTime = new Date(e.time).toISOString(); time.textContent = clock(e.time);
    var where = [e.channel, e.event, e.userId ? "user " + e.userId : "", e.socketId ? "socket " + e.socketId : ""].filter(Boolean).join(" · ");
    li.appendChild(time); li.appendChild(span("kind", e.kind.replace(/_/g, " "))); li.appendChild(span("where", where));
    li.appendChild(span("details", (e.details ? e.details + "  " : "") + "node " + e.node));
    li.hidden = !matches(li);
    var log = $("log"); log.insertBefore(li, log.firstChild);
    while (log.childNodes.length > MAX_ROWS) log.removeChild(log.lastChild);
  }

  function matches(li) {
    var c = $("f-channel").value.trim().toLowerCase(), n = $("f-event").value.trim().toLowerCase();
    return (!c || li.dataset.channel.toLowerCase().indexOf(c) >= 0) && (!n || li.dataset.event.toLowerCase().indexOf(n) >= 0);
  }
  function refilter() { Array.prototype.forEach.call($("log").children, function (li) { li.hidden = !matches(li); }); }

  function renderNotice() {
    var parts = [];
    if (paused) parts.push("Paused: " + held.length + " new event" + (held.length === 1 ? "" : "s") + " held" + (heldDropped ? ", " + heldDropped + " dropped" : "") + ".");
    if (drops.slow) parts.push(drops.slow + " events dropped: this browser read them too slowly.");
    if (drops.cluster) parts.push(drops.cluster + " events dropped by other nodes (over their forwarding limit).");
    $("notice").textContent = parts.join(" ");
  }

  function clearLog() { $("log").textContent = ""; held = []; heldDropped = 0; drops = { slow: 0, cluster: 0 }; renderNotice(); }

  $("signin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target, token = f.token.value;
    var body = token ? { token: token } : { appId: f.appId.value, secret: f.secret.value };
    $("signin-error").textContent = "";
    api("POST", "console/api/session", body).then(function (r) {
      f.secret.value = ""; f.token.value = "";
      if (r.status === 200) start(); else $("signin-error").textContent = r.json.error || ("Sign-in failed (" + r.status + ")");
    });
  });
  $("sign-out").addEventListener("click", function () {
    if (source) source.close(); source = null;
    api("DELETE", "console/api/session").then(function () { me = null; $("who").textContent = ""; show(false); });
  });
  $("app-pick").addEventListener("change", function (ev) { appId = ev.target.value; connect(); });
  $("f-channel").addEventListener("input", refilter);
  $("f-event").addEventListener("input", refilter);
  $("pause").addEventListener("click", function () {
    paused = !paused; this.setAttribute("aria-pressed", String(paused)); this.textContent = paused ? "Resume" : "Pause";
    if (!paused) { var h = held; held = []; heldDropped = 0; h.forEach(addRow); }
    renderNotice();
  });
  $("clear").addEventListener("click", clearLog);
  $("send-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target, out = $("send-result");
    try { JSON.parse(f.data.value); } catch (err) { out.textContent = "Data is not valid JSON: " + err.message; return; }
    var channels = f.channel.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    out.textContent = "Sending…";
    api("POST", "console/api/events" + appQuery("?"), { name: f.name.value.trim(), channels: channels, data: f.data.value }).then(function (r) {
      out.textContent = r.status === 200 ? "Sent " + f.name.value.trim() + " to " + channels.join(", ") + "." : "Refused (" + r.status + "): " + (r.json.error || "");
    });
  });
  start();
})();
`;
