#!/usr/bin/env node
// An independent WebSocket peer (Node `ws`) for interop tests, with the same
// modes and output as ws_peer.py:
// --deflate (both modes) turns permessage-deflate on, compressing every
// message; "json:<n>" sends n bytes of JSON-like text.
//   server [--cert F --key F] [--protocols a,b]: echo server on 127.0.0.1,
//     port picked by the OS, prints "PORT <n>" and "CLOSED <code> <reason>";
//     "close:CODE:REASON" closes, "drop" drops TCP.
//   client URL [messages...] [--ca F] [--protocols a,b] [--close-code N]
//     [--close-reason S]: prints one JSON line per echo, then "CLOSED ...".
'use strict';
const fs = require('fs');
const https = require('https');
const WebSocket = require('ws');

function parseArgs(argv) {
  const opts = { messages: [], closeCode: 1000, closeReason: '' };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--cert') opts.cert = argv[++i];
    else if (a === '--key') opts.key = argv[++i];
    else if (a === '--ca') opts.ca = argv[++i];
    else if (a === '--protocols') opts.protocols = argv[++i].split(',');
    else if (a === '--close-code') opts.closeCode = Number(argv[++i]);
    else if (a === '--close-reason') opts.closeReason = argv[++i];
    else if (a === '--deflate') opts.deflate = true;
    else rest.push(a);
  }
  opts.mode = rest[0];
  opts.url = rest[1];
  opts.messages = rest.slice(2);
  return opts;
}

function message(arg) {
  if (arg.startsWith('bin:')) return Buffer.from(arg.slice(4), 'hex');
  if (arg.startsWith('json:')) {
    const n = Number(arg.slice(5));
    let s = '';
    for (let i = 0; s.length < n; i++) s += `{"id":${i},"x":${(i * 0.37).toFixed(2)},"y":${(i * 1.3).toFixed(2)},"state":"running"},`;
    return s.slice(0, n);
  }
  if (arg.startsWith('big:')) {
    const n = Number(arg.slice(4));
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = i % 251;
    return b;
  }
  return arg;
}

function server(opts) {
  const handleProtocols = opts.protocols
    ? (offered) => opts.protocols.find((p) => offered.has(p)) || false
    : undefined;
  // --deflate: accept permessage-deflate and compress every message.
  const perMessageDeflate = opts.deflate ? { threshold: 0 } : false;
  let wss;
  const onListening = (port) => console.log(`PORT ${port}`);
  if (opts.cert) {
    const httpsServer = https.createServer({ cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) });
    wss = new WebSocket.Server({ server: httpsServer, handleProtocols, maxPayload: 64 << 20, perMessageDeflate });
    httpsServer.listen(0, '127.0.0.1', () => onListening(httpsServer.address().port));
  } else {
    wss = new WebSocket.Server({ host: '127.0.0.1', port: 0, handleProtocols, maxPayload: 64 << 20, perMessageDeflate });
    wss.on('listening', () => onListening(wss.address().port));
  }
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const text = data.toString('utf8');
        if (text.startsWith('close:')) {
          const [, code, ...reason] = text.split(':');
          ws.close(Number(code), reason.join(':'));
          return;
        }
        if (text === 'drop') {
          ws.terminate();
          return;
        }
        ws.send(text);
      } else {
        ws.send(data, { binary: true });
      }
    });
    ws.on('close', (code, reason) => console.log(`CLOSED ${code} ${reason.toString()}`));
    ws.on('error', (e) => console.log(`ERROR ${e.message}`));
  });
}

function client(opts) {
  const ws = new WebSocket(opts.url, opts.protocols || [], {
    ca: opts.ca ? fs.readFileSync(opts.ca) : undefined,
    headers: { 'X-Test': 'node' },
    maxPayload: 64 << 20,
    // --deflate: offer permessage-deflate and compress every message.
    perMessageDeflate: opts.deflate ? { threshold: 0 } : false,
  });
  const sent = opts.messages.map(message);
  let next = 0;
  const sendNext = () => {
    if (next < sent.length) ws.send(sent[next]);
    else ws.close(opts.closeCode, opts.closeReason);
  };
  ws.on('open', () => {
    console.log(JSON.stringify({ protocol: ws.protocol, extensions: ws.extensions }));
    sendNext();
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      const same = Buffer.isBuffer(sent[next]) && Buffer.compare(data, sent[next]) === 0;
      console.log(JSON.stringify({ type: 'binary', len: data.length, same }));
    } else {
      const text = data.toString('utf8');
      console.log(JSON.stringify({ type: 'text', len: Buffer.byteLength(text), text }));
    }
    next++;
    sendNext();
  });
  ws.on('close', (code, reason) => {
    console.log(`CLOSED ${code} ${reason.toString()}`);
    process.exit(0);
  });
  ws.on('error', (e) => {
    console.log(`ERROR ${e.message}`);
    process.exit(1);
  });
}

const opts = parseArgs(process.argv.slice(2));
if (opts.mode === 'server') server(opts);
else if (opts.mode === 'client') client(opts);
else {
  console.error('usage: ws_peer.js server|client ...');
  process.exit(2);
}
