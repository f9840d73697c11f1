// The console's styles: system fonts, one column on a phone, and light/dark from the system
// setting (prefers-color-scheme) through a handful of colour variables.

export const CONSOLE_CSS = `
:root { --bg: #fff; --fg: #1b1f24; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; --accent: #0b5cad;
  --bad: #b3261e; --good: #1a7f37; --warn: #8a5a00; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --panel: #151b23; --accent: #6cb6ff;
    --bad: #ff7b72; --good: #56d364; --warn: #e3b341; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
.top h1 { font-size: 1.1rem; margin: 0 auto 0 0; }
main { padding: 1rem; max-width: 90rem; margin: 0 auto; }
h2 { font-size: 1rem; margin: 1rem 0 .5rem; }
label { display: block; margin: .4rem 0; color: var(--muted); font-size: .9rem; }
.top label, .toolbar label { display: inline-block; margin: 0; }
input, select, textarea, button { font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .35rem .5rem; }
label > input, label > textarea { display: block; width: 100%; margin-top: .15rem; }
.toolbar label > input { display: inline-block; width: 9rem; margin-left: .25rem; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
button { cursor: pointer; background: var(--panel); }
button[type=submit] { background: var(--accent); color: var(--bg); border-color: var(--accent); }
button[aria-pressed=true] { background: var(--warn); color: var(--bg); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
#signin { max-width: 24rem; margin: 2rem auto; }
.error { color: var(--bad); min-height: 1.2em; }
.hint { color: var(--muted); font-size: .85rem; }
.overview dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(8rem, 1fr)); gap: .5rem; margin: 0; }
.overview dl > div { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .5rem .75rem; }
.overview dt { color: var(--muted); font-size: .8rem; }
.overview dd { margin: 0; font-size: 1.4rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.columns { display: grid; grid-template-columns: minmax(16rem, 1fr) 2fr; gap: 1.5rem; }
@media (max-width: 50rem) { .columns { grid-template-columns: 1fr; } }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 500; font-size: .85rem; }
td button { padding: .1rem .4rem; font-size: .85rem; }
#members-list { margin: 0; padding-left: 1.2rem; }
.toolbar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
#notice { color: var(--warn); min-height: 1.2em; margin: .3rem 0; }
#log { list-style: none; margin: 0; padding: 0; font-size: .85rem; }
#log li { display: grid; grid-template-columns: 6.5rem 9.5rem 1fr; gap: .1rem .6rem; padding: .3rem .2rem; border-bottom: 1px solid var(--line); }
#log li[hidden] { display: none; }
#log time, #log .node { color: var(--muted); font-variant-numeric: tabular-nums; }
#log .kind { font-weight: 600; }
#log .where { overflow-wrap: anywhere; }
#log .details { grid-column: 2 / -1; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; overflow-wrap: anywhere; color: var(--muted); }
#log .bad .kind { color: var(--bad); }
#log .good .kind { color: var(--good); }
@media (max-width: 30rem) { #log li { grid-template-columns: 1fr; } #log .details { grid-column: 1; } }
`;
