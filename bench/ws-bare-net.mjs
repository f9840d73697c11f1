// bench/ws-bare.mjs without node:http: the upgrade request is parsed from the connection's first
// read on a net.Server and handed to ws's handleUpgrade. Run it like ws-bare.mjs; the difference
// between the two is what node:http costs per handshake (bench/README.md, "Cold and warm
// processes"). It assumes a well-behaved client: the whole request in one read, nothing but upgrades.
import { createServer } from "node:net";
import { WebSocketServer } from "ws";
let count = 0;
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
function onData(chunk) {
  const socket = this;
  socket.off("data", onData);
  const s = chunk.toString("latin1");
  const end = s.indexOf("\r\n\r\n");
  const lines = s.slice(0, end).split("\r\n");
  const [method, url] = lines[0].split(" ");
  const headers = {};
  for (let i = 1; i < lines.length; i++) { const c = lines[i].indexOf(":"); headers[lines[i].slice(0, c).toLowerCase()] = lines[i].slice(c + 1).trim(); }
  const head = chunk.subarray(end + 4);
  socket.pause();
  wss.handleUpgrade({ method, url, headers, socket }, socket, head, (ws) => {
    ws.on("message", () => {});
    ws.on("error", () => {});
    ws.send(`{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"${++count}.1\\",\\"activity_timeout\\":120}"}`);
  });
}
const srv = createServer((socket) => { socket.setNoDelay(true); socket.on("data", onData); socket.on("error", () => {}); });
srv.listen(0, "127.0.0.1", () => console.log(`listening on 127.0.0.1:${srv.address().port} (pid ${process.pid})`));
