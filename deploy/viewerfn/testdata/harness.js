// Runs a generated viewer function under Node for the Go tests: one JSON
// event per stdin line ({"event": ..., "now": ms} or, for a benchmark,
// {"event": ..., "now": ms, "bench": n}), one JSON line back ({"result":
// ...}, {"error": "..."} or {"ns": n}). CloudFront's runtime is not Node:
// this catches engine differences the local engine (goja) would hide. The
// code runs in a fresh vm context holding only what cloudfront-js-2.0
// offers; `import x from 'crypto'|'cloudfront'` become constants.
'use strict';
const fs = require('fs');
const vm = require('vm');
const readline = require('readline');

const code = fs.readFileSync(process.argv[2], 'utf8');
const kv = {};
if (process.argv[3]) {
  for (const e of JSON.parse(fs.readFileSync(process.argv[3], 'utf8')).data) kv[e.key] = e.value;
}
const modules = {
  crypto: require('crypto'),
  cloudfront: {
    kvs: () => ({
      get: async (k) => {
        if (!Object.prototype.hasOwnProperty.call(kv, k)) throw new Error('key does not exist');
        return kv[k];
      },
    }),
  },
};
const src = code.replace(/^import (\w+) from '(\w+)';$/gm, (m, name, mod) => `const ${name} = __require('${mod}');`);
const ctx = vm.createContext({ __require: (m) => modules[m], Buffer, atob, btoa, TextEncoder, TextDecoder, console, __now: 0 });
vm.runInContext('"use strict";\n' + src + '\nDate.now = function () { return __now; };\nglobalThis.__handler = handler;', ctx);

const rl = readline.createInterface({ input: process.stdin });
const queue = [];
let busy = false;
rl.on('line', (line) => {
  queue.push(line);
  if (!busy) next();
});

async function next() {
  busy = true;
  while (queue.length) {
    const line = queue.shift();
    let out;
    try {
      const msg = JSON.parse(line);
      ctx.__now = msg.now;
      if (msg.bench) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < msg.bench; i++) await ctx.__handler(JSON.parse(JSON.stringify(msg.event)));
        out = { ns: Number(process.hrtime.bigint() - t0) };
      } else {
        out = { result: await ctx.__handler(msg.event) };
      }
    } catch (e) {
      out = { error: String(e && e.stack ? e.stack : e) };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  busy = false;
}
