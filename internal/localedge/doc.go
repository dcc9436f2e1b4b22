// Package localedge plays Amazon CloudFront on a laptop for the suite's
// Lambda@Edge functions.
//
// A [Server] matches each HTTP request to a [Behavior] by CloudFront's path
// pattern rules, shapes it into the request event CloudFront would send
// (lowercase header map, each Cookie line its own entry, raw querystring,
// clientIp, config with distributionDomainName, distributionId, eventType and
// requestId), runs the behavior's [Function], checks the result against
// CloudFront's validation rules, and then writes the generated response or
// sends the returned request to the [Origin]: a folder served like a private
// S3 bucket behind origin access control, or an upstream URL.
//
// Functions run in-process (any Go func of the right shape) or as the shipped
// bootstrap binaries behind a loopback Lambda Runtime API ([Remote] over
// package runtimeapi), so a mistake that CloudFront would reject shows up
// locally with the same status code.
//
// config.distributionDomainName is always the distribution's own domain,
// [Config.DomainName] (AWS's sample d111111abcdef8.cloudfront.net unless set),
// never the Host the viewer sent, as in CloudFront. A function that needs the
// public host must read the Host header of a viewer-request event or list its
// hosts in its own config.
//
// # What an event carries
//
// A viewer-request event carries the viewer's request: every header
// CloudFront shows a function (the disallowed ones never are), the viewer's
// Host, all cookies and the query string.
//
// An origin-request event carries only what the behavior's cache policy and
// origin request policy forward, which a [Behavior] models with three fields:
//
//   - forwardHeaders: viewer header names, case-insensitive; "*" is all of
//     them except Host. Naming "host" forwards the viewer's Host, which only a
//     URL origin accepts.
//   - forwardCookies: "all", "none" or a list of names (case-sensitive). A
//     list is rebuilt as one Cookie entry holding the named cookies in the
//     viewer's order; "all" keeps the entries as sent.
//   - forwardQuery: whether the querystring reaches the event and the origin;
//     true when left out, false empties it.
//
// On top of that it always carries what CloudFront sends every origin: Host
// set to the origin's domain (localedge-origin.s3.us-east-1.amazonaws.com for
// a folder, the URL's host and port for an upstream), Via, X-Forwarded-For
// (the viewer's own value with the client IP appended), User-Agent "Amazon
// CloudFront" unless the viewer's is forwarded, Content-Length or
// Transfer-Encoding when the request has a body, and the origin object. An
// origin-request behavior with no policy fields therefore forwards no viewer
// header and no cookie, only the query string. A behavior without a function
// is filtered the same way on its way to the origin. The policy fields are a
// config error on a viewer-request behavior, whose origin request is left
// as the function returns it. Accept-Encoding normalization and the
// CloudFront-Viewer-* headers are not modelled: forward Accept-Encoding by
// name if a function needs it.
//
// # CloudFront Functions
//
// A behavior's viewerRequestFunction and viewerResponseFunction name
// entries of the config's cloudfrontFunctions: a JavaScript file (the very
// file the deploy template holds inline, deploy/functions/viewer-request.js
// for the demo configs) and optionally a KeyValueStore file in CloudFront's
// import format. The edge runs that code with package cfjs (goja), never a
// Go model of it: the cloudfront-js-2.0 event (lowercase headers, cookies
// taken out of Cookie, the query string as name/value pairs, multiValue for
// duplicates), generated responses, crypto, the cloudfront module's kvs(),
// async handlers, CloudFront's rule for applying a changed multiValue, and
// its refusals: code over 10 KB or outside the documented language subset
// is a config error; a result CloudFront refuses (Host, Via, CDN-Loop or
// the method changed, a disallowed header added, a status outside 200–599,
// a body with a 204, a generated response over 40 KB) is 502
// FunctionValidationError; a throw or a run past its CPU budget is 503
// FunctionExecutionError. A viewer-request function runs before the cache;
// what it returns is what the cache, the origin-request function and the
// origin see. A viewer-response function runs after the response headers
// policy, and not for an origin's answer of 400 or more, a custom error
// page or an answer a viewer-request function generated. CloudFront Functions
// and Lambda@Edge at the same viewer event are a config error, as in
// CloudFront. A config that still names the retired copyHostTo is refused
// with a message naming the replacement.
//
// # Response headers policies and custom error responses
//
// A behavior's responseHeadersPolicy (custom headers with their Override,
// security headers, removed headers) is applied to every answer the
// behavior sends, from the origin or the cache, generated by either kind of
// function, CloudFront's own error pages and custom error pages, after the
// cache, so a Cache-Control added for browsers does not change what the
// cache keeps (AWS: "CloudFront adds these headers to every response that
// it returns to viewers"; "regardless of whether it serves the object from
// the cache or has to retrieve the object from the origin").
//
// The config's customErrorResponses replace an answer with that status by
// the page at responsePagePath, fetched with GET through the behavior its
// path matches (cache and origin-request function included, no
// viewer-request function, none of the viewer's headers or cookies), with
// responseCode; the page is what the cache keeps, for errorCachingMinTTL
// (10 s when left out) or the error's longer max-age. An answer a
// CloudFront Function generated keeps its own body (AWS: "your viewer will
// not see a custom error page"), and so does CloudFront's 503 for a limit
// exceeded; a Lambda@Edge answer does not: AWS documents
// no exemption, and AWS's sample cloudfront-authorization-at-edge avoided
// answering 403 from Lambda@Edge while its distribution mapped 403 to a
// page, then dropped the mapping and granted s3:ListBucket instead (its
// pull request 26), the template's design. When the page cannot be had, the
// viewer gets the page origin's answer. defaultRootObject is applied to "/"
// after the viewer-request function.
//
// # The folder origin
//
// The folder is read like a private S3 bucket behind origin access
// control: GET and HEAD only; no index documents (S3's REST endpoint has
// none, so "/docs/" is the key "docs/", no object, unless a viewer-request
// function rewrites it); a missing key is 403 AccessDenied, or 404
// NoSuchKey with origin.listBucket (a bucket policy granting
// s3:ListBucket, which also lists the bucket for "/"); and the key is the
// URI path decoded as S3 decodes a REST object path, "+" as a space before
// the percent escapes, so "/a+b" reads "a b" and "/a%2Bb" reads "a+b". A
// check that judges "/a+b" while S3 serves "a b" shows up locally.
//
// # Status codes for function failures
//
// An invalid function result (bad status, a changed read-only header, an
// added disallowed header, an oversized generated response, undecodable
// JSON) gives 502, as CloudFront's LambdaValidationError does. A function
// error and a timeout both give 503: CloudFront's documentation lists
// "HTTP 503 status code (function execution error)" and "(Lambda limit
// exceeded)" for a timed-out function
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-503-service-unavailable.html).
// The suite's PLATFORM notes say 500 for a function error; the official page
// wins, as those notes ask.
//
// # The cache
//
// A behavior with a cache policy ([CachePolicy]: key headers, cookies and
// query, min/default/max TTL) caches GET answers as CloudFront does: keyed
// on the path, the query when the policy says so, and the named headers and
// cookies (never the viewer's Host); kept for the answer's s-maxage, max-age
// or Expires clamped to the policy's TTLs, for the default TTL when it says
// nothing, and not at all for no-store, no-cache or private with a zero
// minimum TTL. 200, 203, 410 and redirects are cached (307 and 308 only with
// Cache-Control); errors as CloudFront caches them: 404, 414 and 5xx for the
// error-caching minimum TTL (or a longer max-age), 400, 403, 405, 412 and 415
// only when the answer has a max-age, others never. At an origin-request behavior the
// cache comes first, so a hit never runs the function, and a generated
// response is cached like the origin's: the suite's carry no-store. At a
// viewer-request behavior the function runs on every request and the cache
// sees the request it returns. A hit says "X-Cache: Hit from cloudfront"
// and Age, and logs the decision "hit". Without a policy nothing is cached,
// as with CloudFront's managed CachingDisabled.
//
// # What it does not do
//
// It has no origin-response or viewer-response Lambda@Edge triggers, does
// not act on changes a function makes to the origin object, models neither
// CORS nor Server-Timing in response headers policies, cannot reproduce
// CloudFront Functions' undisclosed compute limit (see package cfjs), and
// cannot keep the case of header names as the viewer sent them (Go's HTTP
// server canonicalizes them; the event's key is the canonical form).
package localedge
