// Drives the bridge (index.mjs, copied beside this file with a bootstrap,
// as in a zip) for the Go tests and benchmarks: one JSON request per stdin
// line, one JSON reply per stdout line, marked with a "@@drive " prefix.
// Importing index.mjs starts the bootstrap, as Lambda's init phase does.
//
//   {"op":"invoke","event":…,"id":"…","arn":"…","remainingMs":N}
//        -> {"result":…,"json":"…"} | {"error":{"name","message"}}   one event through index.handler;
//           json is the result as Node's Lambda runtime would send it on (JSON.stringify)
//   {"op":"invokeMany","events":[…]}  -> {"replies":[…]}  all at once, without waiting in between
//   {"op":"fresh","env":{…},"event":…,"remainingMs":N} -> as invoke, through a new bridge with env, stopped after
//   {"op":"normalize","json":"…"}     -> {"json":"…"}  JSON.stringify(JSON.parse(json)): what Node makes of Go's bytes
//   {"op":"bench","n":N,"event":…}    -> {"ns":total}  N warm events through index.handler
//   {"op":"floor","n":N,"event":…}    -> {"ns":total}  N bare round trips of the event's bytes to ./floor
//   {"op":"json","n":N,"event":…}     -> {"ns":total}  N times JSON.stringify(event) and JSON.parse of it
//   {"op":"cold","n":N,"event":…}     -> {"ns":total}  N fresh bridges, first event each (spawn included)
import { spawn } from 'node:child_process';
import readline from 'node:readline';

import { createBridge, handler } from './index.mjs';

function ctx(id, arn, remainingMs) {
  return {
    awsRequestId: id,
    invokedFunctionArn: arn ?? '',
    getRemainingTimeInMillis: () => remainingMs ?? 5000,
  };
}

const out = (v) => process.stdout.write('@@drive ' + JSON.stringify(v) + '\n');
let seq = 0;

async function reply(p) {
  try {
    const result = await p;
    return { result, json: JSON.stringify(result) };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

// floor ping-pongs the event's bytes with ./floor, a Go process that writes
// every frame back: the least a Node-to-Go round trip costs.
async function floor(n, bytes) {
  const child = spawn('./floor', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const frame = Buffer.allocUnsafe(4 + bytes.length);
  frame.writeUInt32BE(bytes.length, 0);
  bytes.copy(frame, 4);
  let have = 0;
  let done = null;
  child.stdout.on('data', (c) => {
    have += c.length;
    if (have >= frame.length) {
      have = 0;
      done();
    }
  });
  const once = () =>
    new Promise((resolve) => {
      done = resolve;
      child.stdin.write(frame);
    });
  for (let i = 0; i < 200; i++) await once(); // warm both sides
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await once();
  const ns = Number(process.hrtime.bigint() - t0);
  child.stdin.end();
  await new Promise((resolve) => child.on('close', resolve));
  return ns;
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const msg = JSON.parse(line);
  switch (msg.op) {
    case 'invoke':
      out(await reply(handler(msg.event, ctx(msg.id, msg.arn, msg.remainingMs))));
      break;
    case 'invokeMany': {
      const calls = msg.events.map((e) => reply(handler(e.event, ctx(e.id, e.arn, e.remainingMs))));
      out({ replies: await Promise.all(calls) });
      break;
    }
    case 'fresh': {
      const b = createBridge({ env: msg.env });
      out(await reply(b.invoke(msg.event, ctx(msg.id, msg.arn, msg.remainingMs))));
      await b.stop();
      break;
    }
    case 'normalize':
      out({ json: JSON.stringify(JSON.parse(msg.json)) });
      break;
    case 'bench': {
      for (let i = 0; i < 100; i++) await handler(msg.event, ctx(`warm-${seq++}`));
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < msg.n; i++) await handler(msg.event, ctx(`bench-${seq++}`));
      out({ ns: Number(process.hrtime.bigint() - t0) });
      break;
    }
    case 'floor':
      out({ ns: await floor(msg.n, Buffer.from(JSON.stringify(msg.event))) });
      break;
    case 'json': {
      let keep = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < msg.n; i++) keep += JSON.parse(JSON.stringify(msg.event)) ? 1 : 0;
      out({ ns: Number(process.hrtime.bigint() - t0), keep });
      break;
    }
    case 'cold': {
      let total = 0n;
      for (let i = 0; i < msg.n; i++) {
        const b = createBridge();
        const t0 = process.hrtime.bigint();
        await b.invoke(msg.event, ctx(`cold-${seq++}`));
        total += process.hrtime.bigint() - t0;
        await b.stop();
      }
      out({ ns: Number(total) });
      break;
    }
    default:
      out({ error: { name: 'Driver', message: `unknown op ${msg.op}` } });
  }
}
process.exit(0);
