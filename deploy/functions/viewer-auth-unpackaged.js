// The viewer-mode function of deploy/template.yaml as the repository holds it,
// before `make package` (cloudfront-js-2.0). make package writes
// <out>/template.yaml with this block replaced by the function deploy/viewerfn
// generates from the config (it verifies the session cookie and the path
// rules, and only then uses the shared cache key). This file verifies
// nothing, so it never uses the shared key: every request gets a key made of
// its own credentials, and check-auth at origin-request decides, as with
// ViewerMode false. Deploying deploy/template.yaml itself with ViewerMode true
// is therefore safe, and shares nothing (see deploy/README.md, "Viewer mode").
//
// It also does what the other behaviors' function does (viewer-request.js):
// the viewer's Host into X-Edgeauth-Viewer-Host, and index.html for a URI
// ending in "/", since a behavior has one viewer-request function.
import crypto from 'crypto';

function handler(event) {
  var request = event.request;
  var headers = request.headers;
  var host = headers.host;
  if (host && host.value) {
    headers['x-edgeauth-viewer-host'] = { value: host.value, multiValue: [{ value: host.value }] };
  } else {
    delete headers['x-edgeauth-viewer-host'];
  }
  if (request.uri.charAt(request.uri.length - 1) === '/') {
    request.uri = request.uri + 'index.html';
  }
  // Every credential the request carries: each Authorization value and
  // every cookie (the session cookie's name depends on the config, which
  // this file does not know). Lengths keep one split from reading as another.
  var material = '';
  var add = function (s) { material += s.length + ':' + s + ';'; };
  var values = function (v) { return v.multiValue ? v.multiValue : [v]; };
  if (headers.authorization) {
    values(headers.authorization).forEach(function (v) { add('authorization'); add(v.value); });
  }
  Object.keys(request.cookies).sort().forEach(function (name) {
    values(request.cookies[name]).forEach(function (c) { add('cookie ' + name); add(c.value); });
  });
  var key = 'c-' + crypto.createHash('sha256').update(material).digest('hex');
  headers['x-edgeauth-cache-key'] = { value: key, multiValue: [{ value: key }] };
  return request;
}
