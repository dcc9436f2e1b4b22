// Package cfjs runs CloudFront Function code (runtime cloudfront-js-2.0)
// the way CloudFront does, for the local edge: the function's own
// JavaScript, not a Go model of it, in an embedded engine
// (github.com/dop251/goja), with CloudFront's event and return shapes and
// its restrictions.
//
// # What runs
//
// [Compile] takes the code as deployed (the template's FunctionCode, or a
// file), refuses it as CloudFront would (over [MaxCodeSize], a syntax
// error, no handler), and also refuses syntax that AWS's "JavaScript
// runtime 2.0 features for CloudFront Functions" does not list (classes,
// destructuring, spread, for...of, ?., ??, shorthand and computed
// properties, default parameters, generators, async closures): goja would
// run them, CloudFront may not. [Function.Run] calls handler(event) with an
// [Event], awaits an async handler, and returns its [Result], the request
// or the response, decoded with CloudFront's types (statusCode a number,
// header values strings); a wrong type is [ErrValidation].
//
// The runtime offers what the runtime 2.0 page lists: ES 5.1 plus let and
// const, async and await, template literals, arrow functions, rest
// parameters, ** and numeric separators; Buffer (the documented methods,
// except readIntBE/LE, readUIntBE/LE and their writes, which throw "not
// modelled"), atob, btoa, TextEncoder, TextDecoder, console.log (first
// argument only, 10 KB of logs per run); `import crypto from 'crypto'` or
// require('crypto') with createHash and createHmac (md5, sha1, sha256;
// digest to hex, base64, base64url, or a Buffer); `import cf from
// 'cloudfront'` with cf.kvs() (get with format string, json or bytes,
// exists, meta) over a [KeyValueStore] file, and cf.logCustomData.
//
// # What does not
//
// eval and the Function constructors throw; there are no timers, no fs,
// process, network or environment; require knows crypto and buffer only
// (querystring throws "not modelled"); Map, Set, WeakMap, Proxy, Reflect,
// BigInt and the other globals AWS does not list are absent. Date reports
// the run's start time throughout, as on CloudFront. Each run has a fresh
// runtime: nothing survives between requests.
//
// CloudFront limits a function's run time as "compute utilization", a
// share of a maximum it does not publish; a run here stops with
// [ErrComputeBudget] once it has used Options.Budget ([DefaultBudget]
// unless set) of CPU time, read from its thread's CPU clock on Linux (wall
// time elsewhere), so a loaded machine does not fail a function that a
// quiet one runs. That catches runaway code but cannot reproduce
// CloudFront's threshold, and the 2 MB memory quota is not enforced. Prototype methods are not filtered:
// AWS's lists of them are incomplete (its own samples use
// String.prototype.charCodeAt, which they omit).
//
// # Why goja
//
// It runs in-process (a run of a small viewer-request function, fresh
// runtime included, costs about 0.25 ms here: go test -bench .
// ./internal/cfjs; starting Node costs about 40 ms, so Node would need a
// long-lived worker and a protocol to it), can be interrupted at the budget, has a parser whose tree
// the subset check walks, and lets the runtime be built from an empty
// global scope up, so what a function can reach is what this package
// gives it. Node would also offer its own modules and globals, which
// CloudFront Functions do not have.
package cfjs
