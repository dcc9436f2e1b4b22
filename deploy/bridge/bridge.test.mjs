// Tests for the bridge against a fake bootstrap speaking the Runtime API.
// Run: node --test deploy/bridge/
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

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

test('relays the event, the request headers and the result', async (t) => {
  const { bridge } = newBridge({ FAKE_EXTRA: 'passed' });
  t.after(() => bridge.stop());
  const event = { Records: [{ cf: { request: { uri: '/a', headers: {} } } }] };
  const before = Date.now();
  const got = await bridge.invoke(event, ctx('req-1', 3000));
  assert.deepEqual(got.event, event);
  assert.equal(got.requestId, 'req-1');
  assert.equal(got.arn, 'arn:aws:lambda:us-east-1:123456789012:function:check-auth:7');
  assert.equal(got.env.FAKE_EXTRA, 'passed');
  const deadline = Number(got.deadlineMs);
  assert.ok(Number.isInteger(deadline), `deadline ${got.deadlineMs} is not an integer`);
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

test('a function error is thrown with its type and message', async (t) => {
  const { bridge, logs } = newBridge();
  t.after(() => bridge.stop());
  await assert.rejects(bridge.invoke({ action: 'error' }, ctx('e1')), { name: 'Fake.Boom', message: 'boom' });
  assert.ok(logs.some((l) => l.msg === 'function error' && l.errorType === 'Fake.Boom'));
  // The process survives a function error.
  const ok = await bridge.invoke({ n: 1 }, ctx('e2'));
  assert.deepEqual(ok.event, { n: 1 });
});

test('a result that is not JSON is an error', async (t) => {
  const { bridge } = newBridge();
  t.after(() => bridge.stop());
  await assert.rejects(bridge.invoke({ action: 'notjson' }, ctx('j1')), { name: 'Runtime.InvalidResponse' });
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
  const second = await bridge.invoke({ n: 2 }, ctx('x2'));
  assert.notEqual(second.pid, first.pid);
});

test('init failures are thrown as Runtime.InitError or the posted error, and logged', async (t) => {
  const tests = [
    { name: 'exit before polling', env: { FAKE_INIT: 'exit' }, want: { name: 'Runtime.InitError', message: /exited with code 2 during init/ } },
    { name: 'posted init error', env: { FAKE_INIT: 'error' }, want: { name: 'Fake.InitFailed', message: 'config: clientId: is required' } },
  ];
  for (const tt of tests) {
    await t.test(tt.name, async () => {
      const { bridge, logs } = newBridge(tt.env);
      try {
        await assert.rejects(bridge.invoke({ n: 1 }, ctx('i1')), tt.want);
        assert.ok(logs.some((l) => l.msg === 'bootstrap failed at init'), JSON.stringify(logs));
        // Each event tries again rather than caching the failure.
        await assert.rejects(bridge.invoke({ n: 2 }, ctx('i2')), tt.want);
      } finally {
        await bridge.stop();
      }
    });
  }
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

test('nothing from the event reaches the logs', async (t) => {
  const { bridge, logs } = newBridge();
  t.after(() => bridge.stop());
  const secret = 'eyJhbGciOiJSUzI1NiJ9.secret-token';
  await assert.rejects(bridge.invoke({ action: 'error', token: secret }, ctx('s1')));
  await assert.rejects(bridge.invoke({ action: 'crash', token: secret }, ctx('s2')));
  assert.ok(!JSON.stringify(logs).includes('secret-token'));
});
