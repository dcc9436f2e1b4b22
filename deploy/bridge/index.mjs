// edgeauth bridge: runs a Go Lambda binary (./bootstrap, built with
// aws-lambda-go) under the Node.js runtime that Lambda@Edge requires.
//
// Lambda@Edge has no custom runtimes, so this handler plays the Lambda
// Runtime API on loopback: it starts ./bootstrap with AWS_LAMBDA_RUNTIME_API
// pointing at a tiny HTTP server on 127.0.0.1, hands it each event through
// the long-polled /next endpoint and returns whatever the Go code posts back.
//
// Handler: index.handler. Node.js 20 and 22, no dependencies.
//
// What it handles:
//   - the binary failing at init (exit before its first /next, or a POST to
//     /init/error): the invocation throws a Runtime.InitError, logged;
//   - the binary crashing between or during events: the invocation in flight
//     throws Runtime.ExitError and the next event starts a fresh process;
//   - a function error (POST /{id}/error): thrown as an Error whose name is
//     the errorType and whose message is the errorMessage;
//   - the deadline: context.getRemainingTimeInMillis() bounds the wait; on
//     timeout the binary is killed (it may still be busy) and a
//     Runtime.Timeout is thrown.
//
// Nothing from the event or the result is logged: they carry tokens and
// cookies.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const API = '/2018-06-01/runtime';
const NEXT = `${API}/invocation/next`;
const INIT_ERROR = `${API}/init/error`;
// /2018-06-01/runtime/invocation/{id}/response and /{id}/error.
const RESULT_RE = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;

// Stop waiting a little before Lambda's own deadline, so the error says what
// happened instead of Lambda's generic "Task timed out".
const DEADLINE_MARGIN_MS = 20;

// Largest result body accepted: Lambda@Edge's own cap on an origin-trigger
// response is 1 MB, so anything much larger is a bug, not a page.
const MAX_BODY_BYTES = 6 * 1024 * 1024;

function defaultLog(level, msg, fields) {
  // One JSON line per record, like the Go side's slog JSON handler.
  console.error(JSON.stringify({ level, msg, source: 'edgeauth-bridge', ...fields }));
}

function runtimeError(name, message) {
  const err = new Error(message);
  err.name = name;
  return err;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// parseFunctionError reads the JSON aws-lambda-go posts to /error
// ({errorMessage, errorType, stackTrace}); anything else becomes a generic
// error without echoing the body.
function parseFunctionError(body, fallbackType) {
  try {
    const v = JSON.parse(body.toString('utf8'));
    if (v && typeof v === 'object') {
      return runtimeError(
        typeof v.errorType === 'string' && v.errorType !== '' ? v.errorType : fallbackType,
        typeof v.errorMessage === 'string' ? v.errorMessage : 'function error',
      );
    }
  } catch {
    // fall through
  }
  return runtimeError(fallbackType, 'function error (unreadable error body)');
}

/**
 * createBridge returns a bridge to one Go binary. Call invoke(event, context)
 * per event and stop() to kill the binary and close the Runtime API server.
 *
 * options.bootstrap  path of the binary (default: ./bootstrap beside this file)
 * options.args       arguments for it (tests only)
 * options.env        extra environment for it (merged over process.env)
 * options.log        function(level, msg, fields) (default: JSON to stderr)
 */
export function createBridge(options = {}) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bootstrap = options.bootstrap ?? path.join(here, 'bootstrap');
  const args = options.args ?? [];
  const log = options.log ?? defaultLog;

  let child = null; // the current process, or null
  let stopped = false;

  // One state object per child process, so late callbacks of a dead process
  // never touch its successor's state.
  function newProc() {
    return {
      proc: null,
      server: null, // its Runtime API
      polled: false, // it reached /next at least once: init is done
      initError: null, // Error posted to /init/error
      waiter: null, // the pending GET /next response
    };
  }

  const queue = []; // invocations not yet handed to the binary
  const inflight = new Map(); // request id -> invocation

  function deliver() {
    if (!child || !child.waiter || queue.length === 0) return;
    const inv = queue.shift();
    const res = child.waiter;
    child.waiter = null;
    const body = JSON.stringify(inv.event ?? null);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'Lambda-Runtime-Aws-Request-Id': inv.id,
      'Lambda-Runtime-Deadline-Ms': String(inv.deadline),
      'Lambda-Runtime-Invoked-Function-Arn': inv.arn,
      'Lambda-Runtime-Trace-Id': inv.traceId,
    });
    res.end(body);
    inv.delivered = true;
  }

  function settle(id, fn) {
    const inv = inflight.get(id);
    if (!inv) return false;
    inflight.delete(id);
    clearTimeout(inv.timer);
    const qi = queue.indexOf(inv);
    if (qi >= 0) queue.splice(qi, 1);
    fn(inv);
    return true;
  }

  function reply(res, status, obj) {
    const body = JSON.stringify(obj);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function onRequest(req, res, owner) {
    try {
      if (req.method === 'GET' && req.url === NEXT) {
        owner.polled = true;
        owner.waiter = res;
        res.on('close', () => {
          if (owner.waiter === res) owner.waiter = null;
        });
        deliver();
        return;
      }
      if (req.method === 'POST' && req.url === INIT_ERROR) {
        const body = await readBody(req);
        owner.initError = parseFunctionError(body, 'Runtime.InitError');
        reply(res, 202, { status: 'OK' });
        return;
      }
      const m = req.method === 'POST' ? RESULT_RE.exec(req.url) : null;
      if (m) {
        const id = decodeURIComponent(m[1]);
        const body = await readBody(req);
        const ok = settle(id, (inv) => {
          if (m[2] === 'response') {
            let value;
            try {
              value = body.length === 0 ? null : JSON.parse(body.toString('utf8'));
            } catch {
              inv.reject(runtimeError('Runtime.InvalidResponse', 'bootstrap posted a response that is not JSON'));
              return;
            }
            inv.resolve(value);
          } else {
            const err = parseFunctionError(body, req.headers['lambda-runtime-function-error-type'] || 'Function.Error');
            log('error', 'function error', { requestId: id, errorType: err.name });
            inv.reject(err);
          }
        });
        if (!ok) {
          reply(res, 400, { errorMessage: 'unknown or finished request id', errorType: 'InvalidRequestID' });
          return;
        }
        reply(res, 202, { status: 'OK' });
        return;
      }
      reply(res, 404, { errorMessage: 'not found', errorType: 'NotFound' });
    } catch (err) {
      if (!res.headersSent) reply(res, 500, { errorMessage: 'bridge error', errorType: 'BridgeError' });
      log('error', 'runtime api', { error: String(err && err.message) });
    }
  }

  // listen starts a Runtime API server for one process. Each process gets
  // its own server, so a request is always attributed to the process that
  // sent it, even while a killed one is still winding down.
  function listen(state) {
    const server = http.createServer((req, res) => onRequest(req, res, state));
    // The long poll and idle keep-alive connections must never be cut by
    // Node's timeouts: Lambda may freeze the sandbox between events.
    server.keepAliveTimeout = 0;
    server.headersTimeout = 0;
    server.requestTimeout = 0;
    server.timeout = 0;
    state.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server.address().port));
    });
  }

  // failAll rejects the invocations given to one process (all when owner is
  // undefined), so a killed process's late exit never fails its successor's.
  function failAll(err, owner) {
    for (const [id, inv] of [...inflight]) {
      if (owner === undefined || inv.owner === owner) settle(id, (i) => i.reject(err));
    }
  }

  // startChild starts a process with its own Runtime API; it becomes the
  // current one at once, so events queue for it while it initialises.
  function startChild() {
    const started = process.hrtime.bigint();
    const state = newProc();
    child = state;
    let gone = false;
    const onGone = (why) => {
      if (gone) return;
      gone = true;
      if (child === state) child = null;
      state.server.closeAllConnections();
      state.server.close();
      if (stopped) return;
      let err;
      if (state.initError) {
        err = state.initError;
      } else if (!state.polled) {
        err = runtimeError('Runtime.InitError', `bootstrap ${why} during init`);
      } else {
        err = runtimeError('Runtime.ExitError', `bootstrap ${why}`);
      }
      log('error', state.polled ? 'bootstrap exited' : 'bootstrap failed at init', {
        reason: why,
        errorType: err.name,
        afterMs: Number(process.hrtime.bigint() - started) / 1e6,
      });
      // Events it never received go to a fresh process: a process that
      // exits between events (noticed only once the next event is queued)
      // must not fail that event. After an init failure they fail instead,
      // so a broken binary is not restarted in a loop.
      const waiting = [...inflight.values()].filter((inv) => inv.owner === state && !inv.delivered);
      if (state.polled && waiting.length > 0) {
        const next = child ?? startChild();
        for (const inv of waiting) inv.owner = next;
      }
      failAll(err, state);
    };
    state.ready = listen(state).then(
      (port) => {
        if (state.killed) {
          onGone('was stopped before it started');
          return;
        }
        const proc = spawn(bootstrap, args, {
          cwd: path.dirname(bootstrap),
          env: { ...process.env, ...options.env, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}` },
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        state.proc = proc;
        proc.on('error', (err) => onGone(`could not start (${err.code || err.message})`));
        proc.on('exit', (code, signal) => onGone(signal ? `was killed by ${signal}` : `exited with code ${code}`));
      },
      (err) => onGone(`had no Runtime API (${err.code || err.message})`),
    );
    return state;
  }

  function kill(state) {
    if (!state) return;
    if (child === state) child = null;
    state.killed = true;
    try {
      state.proc?.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  async function invoke(event, context = {}) {
    if (stopped) throw runtimeError('Runtime.Stopped', 'bridge stopped');
    if (!child) startChild();
    const remaining =
      typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 30000;
    const now = Date.now();
    const inv = {
      id: context.awsRequestId || randomUUID(),
      deadline: Math.floor(now + remaining),
      arn: context.invokedFunctionArn || '',
      traceId: process.env._X_AMZN_TRACE_ID || '',
      event,
      delivered: false,
    };
    const owner = child;
    inv.owner = owner;
    return new Promise((resolve, reject) => {
      inv.resolve = resolve;
      inv.reject = reject;
      const wait = Math.max(remaining - DEADLINE_MARGIN_MS, 1);
      inv.timer = setTimeout(() => {
        settle(inv.id, () => {
          log('error', 'invocation timed out', { requestId: inv.id, waitedMs: wait, delivered: inv.delivered });
          reject(runtimeError('Runtime.Timeout', `bootstrap did not answer within ${wait} ms`));
        });
        // The binary may be stuck in this event; a fresh one takes the next.
        kill(owner);
      }, wait);
      inflight.set(inv.id, inv);
      queue.push(inv);
      deliver();
    });
  }

  async function stop() {
    stopped = true;
    const last = child;
    kill(last);
    failAll(runtimeError('Runtime.Stopped', 'bridge stopped'));
    if (last) {
      await last.ready;
      last.server.closeAllConnections();
      await new Promise((resolve) => last.server.close(() => resolve()));
    }
  }

  return { invoke, stop };
}

let defaultBridge = null;

/**
 * handler is the Lambda entry point (index.handler): it relays the event to
 * ./bootstrap, started on the first event and again after it exits.
 */
export async function handler(event, context) {
  defaultBridge ??= createBridge();
  return defaultBridge.invoke(event, context);
}
