// Drives the bridge (index.mjs, copied beside this file with a bootstrap)
// for the Go tests: one JSON request per stdin line, one JSON reply per
// stdout line, marked with a "@@drive " prefix because the bootstrap shares
// stdout for its logs, as on Lambda.
//   {"op":"invoke","event":…,"id":"…","arn":"…","remainingMs":N} -> {"result":…} | {"error":{"name","message"}}
//   {"op":"bench","n":N,"event":…}  -> {"ns":total}  N warm invokes through index.handler
//   {"op":"cold","n":N,"event":…}   -> {"ns":total}  N fresh bridges, first invoke each (spawn included)
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
const rl = readline.createInterface({ input: process.stdin });
let seq = 0;

for await (const line of rl) {
  const msg = JSON.parse(line);
  switch (msg.op) {
    case 'invoke':
      try {
        out({ result: await handler(msg.event, ctx(msg.id, msg.arn, msg.remainingMs)) });
      } catch (e) {
        out({ error: { name: e.name, message: e.message } });
      }
      break;
    case 'bench': {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < msg.n; i++) await handler(msg.event, ctx(`bench-${seq++}`));
      out({ ns: Number(process.hrtime.bigint() - t0) });
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
