// The in-process alternative to the bridge, for measuring it (see
// main.go): a Lambda handler module (index.handler) that runs check-auth
// compiled to WebAssembly inside Node.js. At import, as Lambda's init
// phase, it loads Go's wasm_exec.js, instantiates edgeauth.wasm and builds
// the handler from config.json, all from beside this file; each event is
// then JSON.stringify, one call into the module, and JSON.parse of the
// result, with no process boundary.

import { readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// wasm_exec.js gives Go a stub file system (no files, writes only); its
// writes go to stderr here, one synchronous write each, as the bridge's
// bootstrap logs.
if (globalThis.fs) throw new Error('globalThis.fs is taken');
createRequire(import.meta.url)(path.join(here, 'wasm_exec.js'));
globalThis.fs.writeSync = (fd, buf) => writeSync(2, buf);

const go = new globalThis.Go();
go.env = { TMPDIR: '/tmp', AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME ?? '' };
const { instance } = await WebAssembly.instantiate(readFileSync(path.join(here, 'edgeauth.wasm')), go.importObject);
go.run(instance); // runs main until it blocks, having set globalThis.edgeauthWasm
const wasm = globalThis.edgeauthWasm;
const initError = wasm.init(readFileSync(path.join(here, 'config.json'), 'utf8'));

function runtimeError(name, message) {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** handler is the Lambda entry point (index.handler). */
export async function handler(event, context = {}) {
  if (initError) throw runtimeError('Runtime.InitError', initError);
  const remaining =
    typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 30000;
  const out = wasm.handle(JSON.stringify(event), context.awsRequestId ?? '', context.invokedFunctionArn ?? '', remaining);
  if (typeof out !== 'string') throw runtimeError('Function.Error', out.error);
  return JSON.parse(out);
}

/** goBench runs a loop inside the module (main.go's bench) and returns its ns. */
export function goBench(name, n, arg) {
  const r = wasm.goBench(name, n, arg);
  if (typeof r === 'string') throw new Error(`goBench ${name}: ${r}`);
  return r;
}
