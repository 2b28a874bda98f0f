// sockjs-node 0.3.24 as the anchor of examples/bench_sockjs.rs: a `/broadcast`
// prefix where every message goes to every open connection, like devserve's
// SockJS test server. Prints its address on the first line, then serves until
// it is ended (SIGTERM) by the benchmark.
//
//   NODE_PATH=node_modules node examples/support/sockjs_node_server.js [PORT]
'use strict';

const http = require('http');
const sockjs = require('sockjs');

const open = new Set();
const broadcast = sockjs.createServer({ log: () => {} });
broadcast.on('connection', (conn) => {
  open.add(conn);
  conn.on('data', (message) => {
    for (const other of open) other.write(message);
  });
  conn.on('close', () => open.delete(conn));
});

const server = http.createServer();
broadcast.installHandlers(server, { prefix: '/broadcast' });
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  const { address, port } = server.address();
  const { version } = require('sockjs/package.json');
  console.log(`sockjs-node ${version} on http://${address}:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
