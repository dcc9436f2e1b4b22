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
//   {"op":"bench","n":N,"warm":W,"events":[…]} -> {"ns":total,"floorNs":total}  W untimed, then N timed events
//        through index.handler, the events in turn (more of them than the verifier caches: every Bearer token is first-seen), in
//        rounds that alternate with as many bare round trips to ./floor (the floor, measured in the same
//        interval so that the machine's load weighs on both alike); every result must pass the request on
//   {"op":"floor","n":N,"event":…}    -> {"ns":total}  N bare round trips of the event's bytes to ./floor
//   {"op":"json","n":N,"event":…}     -> {"ns":total}  N times JSON.stringify(event) and JSON.parse of it
//   {"op":"goBench","name":…,"n":N,"arg":…} -> {"ns":total}  a loop timed inside the wasm module (goBench)
import { spawn } from 'node:child_process';
import readline from 'node:readline';

// index.mjs is the bridge, or the WebAssembly module's handler
// (scripts/wasmbench), which has no createBridge and adds goBench.
import * as mod from './index.mjs';

const { handler } = mod;

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

// startFloor starts ./floor, a Go process that writes every frame back:
// once() ping-pongs the event's bytes with it, the least a Node-to-Go round
// trip costs.
function startFloor(bytes) {
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
  return {
    once: () =>
      new Promise((resolve) => {
        done = resolve;
        child.stdin.write(frame);
      }),
    stop: async () => {
      child.stdin.end();
      await new Promise((resolve) => child.on('close', resolve));
    },
  };
}

async function floor(n, bytes) {
  const f = startFloor(bytes);
  for (let i = 0; i < 200; i++) await f.once(); // warm both sides
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await f.once();
  const ns = Number(process.hrtime.bigint() - t0);
  await f.stop();
  return ns;
}

// ROUNDS is how many times bench alternates between the handler and the
// floor.
const ROUNDS = 10;

// bench times n events through handler, events[i % events.length] after
// warm untimed ones, in ROUNDS rounds, each followed by as many floor round
// trips of the first event's bytes.
async function bench(n, warm, events) {
  const f = startFloor(Buffer.from(JSON.stringify(events[0])));
  let refused = 0;
  const pass = (r) => {
    if (r === null || typeof r !== 'object' || r.status !== undefined) refused++;
  };
  let k = 0;
  for (let i = 0; i < warm; i++) {
    pass(await handler(events[k++ % events.length], ctx(`warm-${seq++}`)));
    await f.once();
  }
  let ns = 0n;
  let floorNs = 0n;
  for (let r = 0; r < ROUNDS; r++) {
    const m = Math.floor(n / ROUNDS) + (r < n % ROUNDS ? 1 : 0);
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < m; i++) pass(await handler(events[k++ % events.length], ctx(`bench-${seq++}`)));
    ns += process.hrtime.bigint() - t0;
    t0 = process.hrtime.bigint();
    for (let i = 0; i < m; i++) await f.once();
    floorNs += process.hrtime.bigint() - t0;
  }
  await f.stop();
  if (refused) return { error: { name: 'Driver', message: `${refused} events were answered, not passed on` } };
  return { ns: Number(ns), floorNs: Number(floorNs) };
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
      const b = mod.createBridge({ env: msg.env });
      out(await reply(b.invoke(msg.event, ctx(msg.id, msg.arn, msg.remainingMs))));
      await b.stop();
      break;
    }
    case 'normalize':
      out({ json: JSON.stringify(JSON.parse(msg.json)) });
      break;
    case 'bench':
      out(await bench(msg.n, msg.warm ?? 0, msg.events));
      break;
    case 'goBench':
      try {
        out({ ns: mod.goBench(msg.name, msg.n, msg.arg) });
      } catch (e) {
        out({ error: { name: e.name, message: e.message } });
      }
      break;
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
    default:
      out({ error: { name: 'Driver', message: `unknown op ${msg.op}` } });
  }
}
process.exit(0);
