// A stand-in for a Go bootstrap: speaks the bridge's frame protocol
// (bridge.go) on stdin/stdout the way deploy/bridge's Serve does, with
// behaviour chosen by the event's "action" and, at init, by FAKE_INIT. Used
// by bridge.test.mjs only.
const startedAt = Date.now();
const out = (kind, seq, body) => {
  const b = Buffer.from(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body));
  const withSeq = seq !== undefined;
  const f = Buffer.alloc(5 + (withSeq ? 4 : 0) + b.length);
  f.writeUInt32BE(f.length - 4, 0);
  f[4] = kind.charCodeAt(0);
  if (withSeq) f.writeUInt32BE(seq, 5);
  b.copy(f, withSeq ? 9 : 5);
  process.stdout.write(f);
};

if (process.env.FAKE_INIT === 'exit') process.exit(2);
if (process.env.FAKE_INIT === 'error') {
  out('x', undefined, { errorType: 'Fake.InitFailed', errorMessage: 'config: clientId: is required' });
  process.exit(1);
}
if (process.env.FAKE_INIT === 'hang') {
  setInterval(() => {}, 1000);
} else {
  out('r');
}

function decode(b) {
  let o = 0;
  const kind = String.fromCharCode(b[o]);
  const seq = b.readUInt32BE(o + 1);
  const deadlineMs = b.readDoubleBE(o + 5);
  o += 13;
  const strs = [];
  for (let i = 0; i < 3; i++) {
    const l = b.readUInt16BE(o);
    strs.push(b.toString('utf8', o + 2, o + 2 + l));
    o += 2 + l;
  }
  return { kind, seq, deadlineMs, requestId: strs[0], arn: strs[1], traceId: strs[2], event: JSON.parse(b.toString('utf8', o)) };
}

function answer(inv) {
  const { event, seq } = inv;
  switch (event.action) {
    case 'error':
      out('e', seq, { errorType: 'Fake.Boom', errorMessage: 'boom' });
      return;
    case 'crash':
      process.exit(3);
      return;
    case 'hang':
      setInterval(() => {}, 1000);
      return;
    case 'notjson':
      out('o', seq, '{not json');
      return;
    case 'wrongseq':
      out('o', seq + 1, { n: 1 });
      return;
    case 'badframe':
      process.stdout.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
      return;
    case 'panic':
      // An error frame, then the exit, as Serve does after a panic.
      out('p', seq, { errorType: 'string', errorMessage: 'boom' });
      process.stdout.write('', () => process.exit(2));
      return;
    default: {
      const reply = {
        event,
        pid: process.pid,
        startedAt,
        requestId: inv.requestId,
        deadlineMs: inv.deadlineMs,
        arn: inv.arn,
        traceId: inv.traceId,
        env: {
          FAKE_EXTRA: process.env.FAKE_EXTRA ?? null,
          EDGEAUTH_BRIDGE: process.env.EDGEAUTH_BRIDGE ?? null,
          AWS_LAMBDA_RUNTIME_API: process.env.AWS_LAMBDA_RUNTIME_API ?? null,
        },
      };
      const send = () => {
        // Split the answer in two writes, so the bridge must join chunks.
        const body = Buffer.from(JSON.stringify(reply));
        const f = Buffer.alloc(9 + body.length);
        f.writeUInt32BE(f.length - 4, 0);
        f[4] = 'o'.charCodeAt(0);
        f.writeUInt32BE(seq, 5);
        body.copy(f, 9);
        if (event.split) {
          process.stdout.write(f.subarray(0, 3));
          setTimeout(() => process.stdout.write(f.subarray(3)), 5);
        } else {
          process.stdout.write(f);
        }
        if (event.action === 'exit-after') process.stdout.write('', () => process.exit(0));
      };
      if (event.delayMs) setTimeout(send, event.delayMs);
      else send();
    }
  }
}

let buf = Buffer.alloc(0);
let busy = false;
process.stdin.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
    const n = buf.readUInt32BE(0);
    const frame = buf.subarray(4, 4 + n);
    buf = buf.subarray(4 + n);
    if (busy) {
      // The bridge sends one event at a time; a second one is its bug.
      process.stderr.write('fake bootstrap: got an event while busy\n');
      process.exit(8);
    }
    const inv = decode(frame);
    if (inv.event.delayMs) {
      busy = true;
      setTimeout(() => {
        busy = false;
      }, inv.event.delayMs);
    }
    answer(inv);
  }
});
process.stdin.on('end', () => process.exit(0));
