// edgeauth bridge: runs a Go Lambda binary (./bootstrap, built with
// aws-lambda-go) under the Node.js runtime that Lambda@Edge requires.
//
// Lambda@Edge has no custom runtimes, so this handler keeps ./bootstrap
// running as a child process and relays each event to it as length-prefixed
// frames over the child's stdin and stdout (the wire format is documented in
// bridge.go, the Go end, beside this file). The child is started with
// EDGEAUTH_BRIDGE=stdio-1, which makes it serve frames instead of polling the
// Lambda Runtime API, and without AWS_LAMBDA_RUNTIME_API, so it can never
// take events from Lambda's own API.
//
// The child is started as soon as this module is imported, during Lambda's
// init phase, when a bootstrap sits beside it (as in the zip): the module
// waits, at most INIT_WAIT_MS, for it to report ready, so the first event
// does not pay its start.
//
// Handler: index.handler. Node.js 20 and 22, no dependencies.
//
// What it handles:
//   - the binary failing at init (exit before its ready frame, or an init
//     error frame): the invocation throws a Runtime.InitError (or the
//     reported error), logged; the next event tries a fresh process;
//   - the binary crashing between or during events: the invocation in flight
//     throws Runtime.ExitError and the next event starts a fresh process;
//   - a function error (an error frame): thrown as an Error whose name is
//     the errorType and whose message is the errorMessage;
//   - the deadline: context.getRemainingTimeInMillis() bounds the wait; on
//     timeout the binary is killed (it may still be busy) and a
//     Runtime.Timeout is thrown;
//   - overlapping calls (Lambda sends one event at a time, but a caller may
//     not): queued and sent one at a time, each answer checked against the
//     sequence number of the event in flight.
//
// Nothing from the event or the result is logged: they carry tokens and
// cookies.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MODE_ENV = 'EDGEAUTH_BRIDGE';
const MODE = 'stdio-1';

// Frame kinds (bridge.go).
const KIND_INVOKE = 0x69; // 'i'
const KIND_READY = 0x72; // 'r'
const KIND_RESULT = 0x6f; // 'o'
const KIND_ERROR = 0x65; // 'e'
const KIND_PANIC = 0x70; // 'p': an error, and the process exits next
const KIND_INIT_ERROR = 0x78; // 'x'

// Stop waiting a little before Lambda's own deadline, so the error says what
// happened instead of Lambda's generic "Task timed out".
const DEADLINE_MARGIN_MS = 20;

// Largest event or result: Lambda's 6 MB payload limit (Lambda@Edge's own
// caps are lower), plus room for a frame's header.
const MAX_PAYLOAD = 6 * 1024 * 1024;
const MAX_FRAME = MAX_PAYLOAD + 4 * 65536;

// Longest the module waits at import for the binary to be ready. It is
// usually a few milliseconds; past this, events wait for it instead.
const INIT_WAIT_MS = 3000;

function defaultLog(level, msg, fields) {
  // One JSON line per record, like the Go side's slog JSON handler.
  console.error(JSON.stringify({ level, msg, source: 'edgeauth-bridge', ...fields }));
}

function runtimeError(name, message) {
  const err = new Error(message);
  err.name = name;
  return err;
}

// parseFunctionError reads an error frame's JSON ({errorMessage, errorType}
// as aws-lambda-go reports it); anything else becomes a generic error
// without echoing the body.
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

// shortString keeps a context string within a frame's 2-byte length field.
function shortString(v) {
  return typeof v === 'string' ? v.slice(0, 4096) : '';
}

// invokeFrame encodes one event as an invoke frame: one allocation, the
// event's JSON written straight into it.
function invokeFrame(inv, json) {
  const idLen = Buffer.byteLength(inv.id);
  const arnLen = Buffer.byteLength(inv.arn);
  const traceLen = Buffer.byteLength(inv.traceId);
  const eventLen = Buffer.byteLength(json);
  if (eventLen > MAX_PAYLOAD) throw new Error('event over 6 MB');
  const n = 1 + 4 + 8 + 6 + idLen + arnLen + traceLen + eventLen;
  const b = Buffer.allocUnsafe(4 + n);
  b.writeUInt32BE(n, 0);
  b[4] = KIND_INVOKE;
  b.writeUInt32BE(inv.seq, 5);
  b.writeDoubleBE(inv.deadline, 9);
  let o = 17;
  b.writeUInt16BE(idLen, o);
  o += 2 + b.write(inv.id, o + 2, 'utf8');
  b.writeUInt16BE(arnLen, o);
  o += 2 + b.write(inv.arn, o + 2, 'utf8');
  b.writeUInt16BE(traceLen, o);
  o += 2 + b.write(inv.traceId, o + 2, 'utf8');
  b.write(json, o, 'utf8');
  return b;
}

/**
 * createBridge returns a bridge to one Go binary: start() starts it (and
 * resolves once it is ready or has failed), invoke(event, context) relays
 * one event, stop() kills the binary.
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

  let child = null; // the current process's state, or null
  let stopped = false;
  let nextSeq = 1;
  const queue = []; // invocations not yet sent

  // deliver sends the next queued event when the current process is ready
  // and idle.
  function deliver() {
    if (!child || !child.ready || child.exiting || child.inflight || queue.length === 0) return;
    const inv = queue.shift();
    let frame;
    try {
      frame = invokeFrame(inv, inv.json);
    } catch (err) {
      settle(inv, () => inv.reject(runtimeError('Runtime.InvalidEvent', `event could not be framed: ${err.message}`)));
      deliver();
      return;
    }
    inv.json = null;
    inv.owner = child;
    inv.delivered = true;
    child.inflight = inv;
    child.proc.stdin.write(frame);
  }

  function settle(inv, fn) {
    if (inv.settled) return false;
    inv.settled = true;
    clearTimeout(inv.timer);
    const qi = queue.indexOf(inv);
    if (qi >= 0) queue.splice(qi, 1);
    if (inv.owner && inv.owner.inflight === inv) inv.owner.inflight = null;
    fn();
    return true;
  }

  // protocolError ends a process that broke the frame protocol: its
  // invocation in flight fails with what went wrong.
  function protocolError(state, what) {
    log('error', 'bootstrap broke the bridge protocol', { problem: what });
    const inv = state.inflight;
    if (inv) settle(inv, () => inv.reject(runtimeError('Runtime.InvalidResponse', `bootstrap ${what}`)));
    kill(state);
  }

  function onFrame(state, buf, start, end) {
    const kind = buf[start];
    if (kind === KIND_READY) {
      if (state.ready) return protocolError(state, 'reported ready twice');
      state.ready = true;
      state.readyAt = process.hrtime.bigint();
      state.resolveReady(true);
      deliver();
      return;
    }
    if (kind === KIND_INIT_ERROR) {
      state.initError = parseFunctionError(buf.subarray(start + 1, end), 'Runtime.InitError');
      return;
    }
    if ((kind !== KIND_RESULT && kind !== KIND_ERROR && kind !== KIND_PANIC) || end - start < 5) {
      return protocolError(state, `sent an unknown frame (kind ${kind})`);
    }
    const seq = buf.readUInt32BE(start + 1);
    const inv = state.inflight;
    if (!inv || inv.seq !== seq) {
      return protocolError(state, 'answered an event it was not given');
    }
    const body = buf.subarray(start + 5, end);
    // After a panic the process exits: the next event waits for a fresh one.
    if (kind === KIND_PANIC) state.exiting = true;
    settle(inv, () => {
      if (kind === KIND_RESULT) {
        let value;
        try {
          value = body.length === 0 ? null : JSON.parse(body.toString('utf8'));
        } catch {
          inv.reject(runtimeError('Runtime.InvalidResponse', 'bootstrap sent a result that is not JSON'));
          return;
        }
        inv.resolve(value);
      } else {
        const err = parseFunctionError(body, 'Function.Error');
        log('error', 'function error', { requestId: inv.id, errorType: err.name });
        inv.reject(err);
      }
    });
    deliver();
  }

  // onData splits the child's stdout into frames. A frame split across
  // chunks is joined once, when it is whole.
  function onData(state, chunk) {
    if (state.killed) return; // a late answer from a process being replaced
    if (state.have > 0) {
      state.chunks.push(chunk);
      state.have += chunk.length;
      if (state.have < state.need) return;
      chunk = Buffer.concat(state.chunks, state.have);
      state.chunks = [];
      state.have = 0;
    }
    let off = 0;
    while (chunk.length - off >= 4) {
      const n = chunk.readUInt32BE(off);
      if (n < 1 || n > MAX_FRAME) return protocolError(state, `sent a frame of ${n} bytes`);
      if (chunk.length - off - 4 < n) break;
      onFrame(state, chunk, off + 4, off + 4 + n);
      if (state.gone || state.killed) return;
      off += 4 + n;
    }
    if (off < chunk.length) {
      const rest = chunk.subarray(off);
      state.chunks = [rest];
      state.have = rest.length;
      state.need = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : 4;
    }
  }

  // startChild starts a process; it becomes the current one at once, so
  // events queue for it while it initialises.
  function startChild() {
    const state = {
      proc: null,
      started: process.hrtime.bigint(),
      ready: false,
      readyAt: 0n,
      initError: null, // Error from an init error frame
      inflight: null, // the invocation sent to it
      killed: false,
      exiting: false, // it said it exits next
      gone: false,
      chunks: [],
      have: 0,
      need: 0,
    };
    state.whenReady = new Promise((resolve) => {
      state.resolveReady = resolve;
    });
    child = state;
    const env = { ...process.env, ...options.env, [MODE_ENV]: MODE };
    delete env.AWS_LAMBDA_RUNTIME_API;
    let proc;
    try {
      proc = spawn(bootstrap, args, { cwd: path.dirname(bootstrap), env, stdio: ['pipe', 'pipe', 'inherit'] });
    } catch (err) {
      queueMicrotask(() => onGone(state, `could not start (${err.code || err.message})`));
      return state;
    }
    state.proc = proc;
    // The pipes and the process must not keep Node alive by themselves:
    // an event waiting for an answer has its deadline timer for that.
    proc.unref();
    proc.stdout.unref?.();
    proc.stdin.unref?.();
    proc.stdout.on('data', (c) => onData(state, c));
    // A write to a process that just died fails with EPIPE; its exit is
    // what reports it.
    proc.stdin.on('error', () => {});
    proc.on('error', (err) => onGone(state, `could not start (${err.code || err.message})`));
    // 'close' comes after the last of stdout, so a frame written just
    // before an exit (a panic's error) is read first.
    proc.on('close', (code, signal) => onGone(state, signal ? `was killed by ${signal}` : `exited with code ${code}`));
    return state;
  }

  function onGone(state, why) {
    if (state.gone) return;
    state.gone = true;
    state.resolveReady(false);
    if (child === state) child = null;
    if (stopped) return;
    let err;
    if (state.initError) {
      err = state.initError;
    } else if (!state.ready) {
      err = runtimeError('Runtime.InitError', `bootstrap ${why} during init`);
    } else {
      err = runtimeError('Runtime.ExitError', `bootstrap ${why}`);
    }
    if (!state.killed) {
      log('error', state.ready ? 'bootstrap exited' : 'bootstrap failed at init', {
        reason: why,
        errorType: err.name,
        afterMs: Number(process.hrtime.bigint() - state.started) / 1e6,
      });
    }
    const inv = state.inflight;
    if (inv) settle(inv, () => inv.reject(err));
    if (queue.length === 0) return;
    if (state.ready || state.killed) {
      // Events it never received go to a fresh process: a process that
      // exits between events, or one killed for a timeout, must not fail
      // the events queued behind it.
      if (!child) startChild();
      return;
    }
    // After an init failure they fail instead, so a broken binary is not
    // restarted in a loop; the next event tries again.
    for (const q of [...queue]) settle(q, () => q.reject(err));
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

  /**
   * start starts the binary unless one is running, and resolves to true once
   * it is ready, false if it failed first, or undefined after waitMs.
   */
  function start(waitMs = INIT_WAIT_MS) {
    if (stopped) return Promise.resolve(false);
    const state = child ?? startChild();
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    return Promise.race([state.whenReady, timeout]).finally(() => clearTimeout(timer));
  }

  function invoke(event, context = {}) {
    if (stopped) return Promise.reject(runtimeError('Runtime.Stopped', 'bridge stopped'));
    const remaining =
      typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 30000;
    let json;
    try {
      json = JSON.stringify(event ?? null);
    } catch (err) {
      return Promise.reject(runtimeError('Runtime.InvalidEvent', `event is not JSON: ${err.message}`));
    }
    const inv = {
      seq: nextSeq,
      // Lambda always gives a request id; globalThis.crypto loads only if
      // it is missing (importing node:crypto would cost ~2 ms at init).
      id: shortString(context.awsRequestId) || globalThis.crypto.randomUUID(),
      deadline: Math.floor(Date.now() + remaining),
      arn: shortString(context.invokedFunctionArn),
      traceId: shortString(process.env._X_AMZN_TRACE_ID),
      json,
      owner: null,
      delivered: false,
      settled: false,
    };
    nextSeq = nextSeq >= 0xffffffff ? 1 : nextSeq + 1;
    if (!child) startChild();
    const waitingFor = child;
    return new Promise((resolve, reject) => {
      inv.resolve = resolve;
      inv.reject = reject;
      const wait = Math.max(remaining - DEADLINE_MARGIN_MS, 1);
      inv.timer = setTimeout(() => {
        settle(inv, () => {
          log('error', 'invocation timed out', { requestId: inv.id, waitedMs: wait, delivered: inv.delivered });
          reject(runtimeError('Runtime.Timeout', `bootstrap did not answer within ${wait} ms`));
        });
        // The binary may be stuck in this event, or in its init; a fresh
        // one takes the next. One busy with an earlier event is left alone.
        if (inv.delivered) kill(inv.owner);
        else if (waitingFor && !waitingFor.ready && child === waitingFor) kill(waitingFor);
      }, wait);
      queue.push(inv);
      deliver();
    });
  }

  async function stop() {
    stopped = true;
    const last = child;
    kill(last);
    const err = runtimeError('Runtime.Stopped', 'bridge stopped');
    if (last?.inflight) {
      const inv = last.inflight;
      settle(inv, () => inv.reject(err));
    }
    for (const q of [...queue]) settle(q, () => q.reject(err));
    if (last?.proc && !last.gone) {
      // Waiting for the exit must keep Node alive until it comes.
      last.proc.ref();
      last.proc.stdout.ref?.();
      await new Promise((resolve) => {
        last.proc.once('close', resolve);
        if (last.gone) resolve();
      });
    }
  }

  return { invoke, start, stop };
}

const here = path.dirname(fileURLToPath(import.meta.url));
let defaultBridge = null;

// In a package (a bootstrap beside this file), start the binary now, in
// Lambda's init phase, and give it INIT_WAIT_MS to be ready. A failure is
// logged and thrown by the first event, which starts a fresh process.
if (existsSync(path.join(here, 'bootstrap'))) {
  defaultBridge = createBridge();
  await defaultBridge.start();
}

/**
 * handler is the Lambda entry point (index.handler): it relays the event to
 * ./bootstrap, started at import and again after it exits.
 */
export async function handler(event, context) {
  defaultBridge ??= createBridge();
  return defaultBridge.invoke(event, context);
}
