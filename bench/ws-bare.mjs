// A bare node:http + ws server that answers a Pusher handshake and nothing else: what Node and
// `ws` themselves cost per handshake, cold (a fresh process) and warm, to compare with Switchboard
// on Node under the same connect scenario (bench/README.md, "Cold and warm processes").
//   node bench/ws-bare.mjs
//   node_modules/.bin/bun bench/run.ts --external 127.0.0.1:<port> --pid <pid> --scenarios connect --connections 5000
// It prints "listening on 127.0.0.1:<port>" like the server, and serves GET /usage (heap figures).
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

let count = 0;
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
const http = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ memory: process.memoryUsage() }));
});
http.on("upgrade", (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on("message", () => {});
    ws.on("error", () => {});
    ws.send(`{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"${++count}.1\\",\\"activity_timeout\\":120}"}`);
  });
});
http.listen(0, "127.0.0.1", () => console.log(`listening on 127.0.0.1:${http.address().port} (pid ${process.pid})`));
