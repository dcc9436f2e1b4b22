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
// # What it does not do
//
// It has no cache, no origin-response or viewer-response triggers, does not
// act on changes a function makes to the origin object, and cannot keep the
// case of header names as the viewer sent them (Go's HTTP server
// canonicalizes them; the event's key is the canonical form).
package localedge
