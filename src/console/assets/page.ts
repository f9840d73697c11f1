// The console's page. Links are relative (console/...), so the page works under any PATH_PREFIX.
// Plain HTML with labelled controls and landmarks; console.js fills it in.

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Switchboard console</title>
<link rel="stylesheet" href="console/console.css">
<script src="console/console.js" defer></script>
</head>
<body>
<header class="top">
  <h1>Switchboard console</h1>
  <span id="who"></span>
  <label id="app-pick-label" hidden>App <select id="app-pick"></select></label>
  <button id="sign-out" type="button" hidden>Sign out</button>
</header>
<main>
<section id="signin" hidden aria-labelledby="signin-h">
  <h2 id="signin-h">Sign in</h2>
  <form id="signin-form">
    <label>App id <input name="appId" autocomplete="username" spellcheck="false"></label>
    <label>App secret <input name="secret" type="password" autocomplete="current-password"></label>
    <details><summary>Operator token instead</summary>
      <label>Token (CONSOLE_TOKEN) <input name="token" type="password" autocomplete="off"></label>
    </details>
    <button type="submit">Sign in</button>
    <p id="signin-error" class="error" role="alert"></p>
  </form>
  <p class="hint">The app id and secret are the ones your backend uses for the REST API. The secret is only checked, never shown.</p>
</section>
<div id="dash" hidden>
  <section class="overview" aria-label="Overview">
    <dl>
      <div><dt>Connections</dt><dd id="connections">–</dd></div>
      <div><dt>Channels</dt><dd id="channel-count">–</dd></div>
      <div><dt>Nodes</dt><dd id="nodes">–</dd></div>
      <div><dt>Feed</dt><dd id="feed-status">connecting…</dd></div>
    </dl>
  </section>
  <div class="columns">
    <div>
      <section aria-labelledby="channels-h">
        <h2 id="channels-h">Occupied channels</h2>
        <table id="channels">
          <thead><tr><th scope="col">Channel</th><th scope="col">Subscriptions</th><th scope="col">Users</th></tr></thead>
          <tbody></tbody>
        </table>
        <p id="channels-note" class="hint">No occupied channels.</p>
      </section>
      <section id="members" hidden aria-labelledby="members-h">
        <h2 id="members-h">Members of <span id="members-channel"></span></h2>
        <ul id="members-list"></ul>
      </section>
      <section aria-labelledby="send-h">
        <h2 id="send-h">Send an event</h2>
        <form id="send-form">
          <label>Channel <input name="channel" required spellcheck="false" placeholder="my-channel"></label>
          <label>Event <input name="name" required spellcheck="false" placeholder="my-event"></label>
          <label>Data (JSON) <textarea name="data" rows="3" spellcheck="false">{"message": "hello"}</textarea></label>
          <button type="submit">Send</button>
          <p id="send-result" role="status"></p>
        </form>
      </section>
    </div>
    <section aria-labelledby="events-h" class="events">
      <h2 id="events-h">Events</h2>
      <div class="toolbar">
        <label>Channel <input id="f-channel" type="search" spellcheck="false"></label>
        <label>Event <input id="f-event" type="search" spellcheck="false"></label>
        <button id="pause" type="button" aria-pressed="false">Pause</button>
        <button id="clear" type="button">Clear</button>
      </div>
      <p id="notice" role="status"></p>
      <ol id="log"></ol>
    </section>
  </div>
</div>
</main>
</body>
</html>
`;
