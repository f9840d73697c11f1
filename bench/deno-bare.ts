// A bare Deno.serve + Deno.upgradeWebSocket server that answers a Pusher handshake and nothing
// else: its RSS per idle connection is what Deno itself holds per WebSocket, to compare with
// Switchboard on Deno under the same connect scenario (bench/README.md, "Deno's memory").
//   node_modules/.bin/deno run -A bench/deno-bare.ts [--no-handlers]
//   node_modules/.bin/bun bench/run.ts --external 127.0.0.1:<port> --pid <pid> --scenarios connect
// It prints "listening on 127.0.0.1:<port>" like the server, and serves GET /usage (heap figures).
const noHandlers = Deno.args.includes("--no-handlers");
let count = 0;
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`listening on 127.0.0.1:${port} (pid ${(Deno as unknown as { pid: number }).pid})`),
}, (request) => {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return Response.json({ memory: Deno.memoryUsage() });
  }
  const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
  const established = `{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"${++count}.1\\",\\"activity_timeout\\":120}"}`;
  // --no-handlers: the frame is sent from a shared listener, so no closure is kept per socket.
  if (noHandlers) socket.addEventListener("open", sendEstablished);
  else {
    socket.onopen = () => socket.send(established);
    socket.onmessage = () => {};
    socket.onclose = () => {};
  }
  return response;
});
function sendEstablished(this: WebSocket) {
  this.send(`{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"${++count}.2\\",\\"activity_timeout\\":120}"}`);
}
