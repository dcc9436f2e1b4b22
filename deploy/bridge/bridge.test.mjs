// Tests for the bridge against a fake bootstrap speaking the frame protocol.
// Run: node --test deploy/bridge/
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { createBridge } from './index.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fake = path.join(here, 'testdata', 'fake-bootstrap.mjs');

function newBridge(env = {}) {
  const logs = [];
  const bridge = createBridge({
    bootstrap: process.execPath,
    args: [fake],
    env,
    log: (level, msg, fields) => logs.push({ level, msg, ...fields }),
  });
  return { bridge, logs };
}

function ctx(id, remaining = 5000) {
  return {
    awsRequestId: id,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:check-auth:7',
    getRemainingTimeInMillis: () => remaining,
  };
}

test('relays the event, the invocation context and the result', async (t) => {
  const { bridge } = newBridge({ FAKE_EXTRA: 'passed', AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' });
  t.after(() => bridge.stop());
  const event = { Records: [{ cf: { request: { uri: '/a', headers: {} } } }], text: 'ünïcödé ✓' };
  const before = Date.now();
  const got = await bridge.invoke(event, ctx('req-1', 3000));
  assert.deepEqual(got.event, event);
  assert.equal(got.requestId, 'req-1');
  assert.equal(got.arn, 'arn:aws:lambda:us-east-1:123456789012:function:check-auth:7');
  assert.equal(got.env.FAKE_EXTRA, 'passed');
  assert.equal(got.env.EDGEAUTH_BRIDGE, 'stdio-1');
  // The child must never see Lambda's own Runtime API.
  assert.equal(got.env.AWS_LAMBDA_RUNTIME_API, null);
  const deadline = got.deadlineMs;
  assert.ok(Number.isInteger(deadline), `deadline ${deadline} is not an integer`);
  assert.ok(deadline >= before + 2990 && deadline <= Date.now() + 3000, `deadline ${deadline} not ~3s ahead`);
});

test('reuses one process across events', async (t) => {
  const { bridge } = newBridge();
  t.after(() => bridge.stop());
  const a = await bridge.invoke({ n: 1 }, ctx('a'));
  const b = await bridge.invoke({ n: 2 }, ctx('b'));
  assert.equal(a.pid, b.pid);
  assert.deepEqual(b.event, { n: 2 });
});

test('a result split across reads is joined', async (t) => {
  const { bridge } = newBridge();
  t.after(() => bridge.stop());
  const got = await bridge.invoke({ split: true, big: 'x'.repeat(200000) }, ctx('s'));
  assert.equal(got.event.big.length, 200000);
});

test('start() resolves once the process is ready', async (t) => {
  const { bridge } = newBridge();
  t.after(() => bridge.stop());
  assert.equal(await bridge.start(), true);
  const first = await bridge.invoke({ n: 1 }, ctx('r1'));
  assert.equal(await bridge.start(), true, 'start again is a no-op');
  assert.equal((await bridge.invoke({ n: 2 }, ctx('r2'))).pid, first.pid);
});

test('overlapping calls are sent one at a time and never mixed up', async (t) => {
  const { bridge } = newBridge();
  t.after(() => bridge.stop());
  const calls = [];
  for (let i = 0; i < 25; i++) {
    calls.push(bridge.invoke({ n: i, delayMs: (i * 7) % 5 }, ctx(`c-${i}`)));
  }
  const got = await Promise.all(calls);
  got.forEach((g, i) => {
    assert.equal(g.event.n, i);
    assert.equal(g.requestId, `c-${i}`);
  });
  assert.equal(new Set(got.map((g) => g.pid)).size, 1);
});

test('overlapping calls around a timeout: the stuck event fails, the others pass on a fresh process', async (t) => {
  const { bridge } = newBridge();
  t.after(() => bridge.stop());
  const first = bridge.invoke({ n: 0 }, ctx('o0'));
  const stuck = bridge.invoke({ action: 'hang' }, ctx('o1', 200));
  const after = [bridge.invoke({ n: 2 }, ctx('o2')), bridge.invoke({ n: 3 }, ctx('o3'))];
  const a = await first;
  await assert.rejects(stuck, { name: 'Runtime.Timeout' });
  const [b, c] = await Promise.all(after);
  assert.deepEqual([b.event.n, c.event.n, b.requestId, c.requestId], [2, 3, 'o2', 'o3']);
  assert.notEqual(b.pid, a.pid);
});

test('a function error is thrown with its type and message', async (t) => {
  const { bridge, logs } = newBridge();
  t.after(() => bridge.stop());
  await assert.rejects(bridge.invoke({ action: 'error' }, ctx('e1')), { name: 'Fake.Boom', message: 'boom' });
  assert.ok(logs.some((l) => l.msg === 'function error' && l.errorType === 'Fake.Boom'));
  // The process survives a function error.
  const ok = await bridge.invoke({ n: 1 }, ctx('e2'));
  assert.deepEqual(ok.event, { n: 1 });
});

test('a panic is thrown as reported, and the next event gets a fresh process', async (t) => {
  const { bridge } = newBridge();
  t.after(() => bridge.stop());
  const first = await bridge.invoke({ n: 0 }, ctx('p0'));
  await assert.rejects(bridge.invoke({ action: 'panic' }, ctx('p1')), { name: 'string', message: 'boom' });
  const next = await bridge.invoke({ n: 2 }, ctx('p2'));
  assert.notEqual(next.pid, first.pid);
});

test('answers that break the protocol fail the event and replace the process', async (t) => {
  for (const action of ['notjson', 'wrongseq', 'badframe']) {
    await t.test(action, async () => {
      const { bridge } = newBridge();
      try {
        const first = await bridge.invoke({ n: 0 }, ctx(`${action}-0`));
        await assert.rejects(bridge.invoke({ action }, ctx(`${action}-1`)), { name: 'Runtime.InvalidResponse' });
        const next = await bridge.invoke({ n: 2 }, ctx(`${action}-2`));
        assert.deepEqual(next.event, { n: 2 });
        if (action !== 'notjson') assert.notEqual(next.pid, first.pid);
      } finally {
        await bridge.stop();
      }
    });
  }
});

test('a crash fails the event and the next event restarts the process', async (t) => {
  const { bridge, logs } = newBridge();
  t.after(() => bridge.stop());
  const first = await bridge.invoke({ n: 0 }, ctx('c0'));
  await assert.rejects(bridge.invoke({ action: 'crash' }, ctx('c1')), {
    name: 'Runtime.ExitError',
    message: /exited with code 3/,
  });
  const after = await bridge.invoke({ n: 2 }, ctx('c2'));
  assert.notEqual(after.pid, first.pid);
  assert.ok(logs.some((l) => l.msg === 'bootstrap exited'));
});

test('a process that exits between events is restarted on the next event', async (t) => {
  const { bridge } = newBridge();
  t.after(() => bridge.stop());
  const first = await bridge.invoke({ action: 'exit-after' }, ctx('x1'));
  // Events come apart in time: the exit is noticed before the next one.
  await new Promise((r) => setTimeout(r, 200));
  const second = await bridge.invoke({ n: 2 }, ctx('x2'));
  assert.notEqual(second.pid, first.pid);
});

test('init failures are thrown as Runtime.InitError or the reported error, and logged', async (t) => {
  const tests = [
    { name: 'exit before ready', env: { FAKE_INIT: 'exit' }, want: { name: 'Runtime.InitError', message: /exited with code 2 during init/ } },
    { name: 'init error frame', env: { FAKE_INIT: 'error' }, want: { name: 'Fake.InitFailed', message: 'config: clientId: is required' } },
  ];
  for (const tt of tests) {
    await t.test(tt.name, async () => {
      const { bridge, logs } = newBridge(tt.env);
      try {
        assert.equal(await bridge.start(), false, 'start() reports the failure');
        await assert.rejects(bridge.invoke({ n: 1 }, ctx('i1')), tt.want);
        assert.ok(logs.some((l) => l.msg === 'bootstrap failed at init'), JSON.stringify(logs));
        // Each event tries again rather than caching the failure.
        await assert.rejects(bridge.invoke({ n: 2 }, ctx('i2')), tt.want);
        // Overlapping events all fail, none loops.
        const both = [bridge.invoke({ n: 3 }, ctx('i3')), bridge.invoke({ n: 4 }, ctx('i4'))];
        for (const p of both) await assert.rejects(p, tt.want);
      } finally {
        await bridge.stop();
      }
    });
  }
});

test('an init that never ends is cut by the deadline', async (t) => {
  const { bridge, logs } = newBridge({ FAKE_INIT: 'hang' });
  t.after(() => bridge.stop());
  assert.equal(await bridge.start(50), undefined, 'start() gives up after its wait');
  await assert.rejects(bridge.invoke({ n: 1 }, ctx('h1', 150)), { name: 'Runtime.Timeout' });
  assert.ok(logs.some((l) => l.msg === 'invocation timed out' && l.delivered === false));
});

test('a missing bootstrap is an init error', async (t) => {
  const bridge = createBridge({ bootstrap: path.join(here, 'testdata', 'no-such-bootstrap'), log: () => {} });
  t.after(() => bridge.stop());
  await assert.rejects(bridge.invoke({}, ctx('m1')), { name: 'Runtime.InitError', message: /ENOENT/ });
});

test('the deadline bounds the wait, and the stuck process is replaced', async (t) => {
  const { bridge, logs } = newBridge();
  t.after(() => bridge.stop());
  const first = await bridge.invoke({ n: 0 }, ctx('d0'));
  await assert.rejects(bridge.invoke({ action: 'hang' }, ctx('d1', 150)), { name: 'Runtime.Timeout' });
  assert.ok(logs.some((l) => l.msg === 'invocation timed out' && l.requestId === 'd1'));
  const next = await bridge.invoke({ n: 2 }, ctx('d2'));
  assert.notEqual(next.pid, first.pid);
  assert.deepEqual(next.event, { n: 2 });
});

test('stop fails what is waiting', async () => {
  const { bridge } = newBridge();
  const pending = assert.rejects(bridge.invoke({ action: 'hang' }, ctx('st')), { name: 'Runtime.Stopped' });
  const queued = assert.rejects(bridge.invoke({ n: 1 }, ctx('st1')), { name: 'Runtime.Stopped' });
  await new Promise((r) => setTimeout(r, 100));
  await bridge.stop();
  await pending;
  await queued;
  await assert.rejects(bridge.invoke({}, ctx('st2')), { name: 'Runtime.Stopped' });
});

test('nothing from the event reaches the logs', async (t) => {
  const { bridge, logs } = newBridge();
  t.after(() => bridge.stop());
  const secret = 'eyJhbGciOiJSUzI1NiJ9.secret-token';
  await assert.rejects(bridge.invoke({ action: 'error', token: secret }, ctx('s1')));
  await assert.rejects(bridge.invoke({ action: 'crash', token: secret }, ctx('s2')));
  await assert.rejects(bridge.invoke({ action: 'notjson', token: secret }, ctx('s3')));
  await assert.rejects(bridge.invoke({ action: 'wrongseq', token: secret }, ctx('s4')));
  assert.ok(!JSON.stringify(logs).includes('secret-token'));
});

// As in the zip: index.mjs with an executable bootstrap beside it, imported
// the way Lambda imports the handler.
test('the packaged module starts the bootstrap at import, before the first event', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edgeauth-bridge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(path.join(here, 'index.mjs'), path.join(dir, 'index.mjs'));
  copyFileSync(fake, path.join(dir, 'fake-bootstrap.mjs'));
  writeFileSync(
    path.join(dir, 'bootstrap'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(dir, 'fake-bootstrap.mjs'))}\n`,
  );
  chmodSync(path.join(dir, 'bootstrap'), 0o755);
  const mod = await import(pathToFileURL(path.join(dir, 'index.mjs')).href);
  const importedAt = Date.now();
  // Ready by the end of the import: the first event finds the process
  // waiting, with its start (in its own reply) before this point.
  const got = await mod.handler({ n: 1 }, ctx('pkg-1'));
  assert.deepEqual(got.event, { n: 1 });
  assert.ok(got.startedAt <= importedAt, `bootstrap started at ${got.startedAt}, after the import ended at ${importedAt}`);
  const again = await mod.handler({ n: 2 }, ctx('pkg-2'));
  assert.equal(again.pid, got.pid);
  // The process ends with this file's: it gets the end of its stdin.
});
