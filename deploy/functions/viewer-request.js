// The viewer-request CloudFront Function of deploy/template.yaml
// (cloudfront-js-2.0). The template holds this file inline and the local
// edge runs this file; go test ./deploy fails when the two differ
// (go test ./deploy -run TestViewerRequestFunctionInline -args -update
// copies the file into the template).
//
// 1. X-Edgeauth-Viewer-Host: the viewer's Host, for the origin-request
//    functions, whose Host is the bucket's. It replaces every value the
//    viewer sent in that header: a changed multiValue is what CloudFront
//    applies, where a changed value alone would leave a second forged
//    header in place.
// 2. Directory index: a URI ending in "/" asks for the index.html under it.
//    S3's REST endpoint, which origin access control uses, has no index
//    documents. A URI without a trailing slash is left alone (see
//    deploy/README.md, "Directory index").
// ES 5.1 only, the core of every CloudFront Functions runtime.
function handler(event) {
  var request = event.request;
  var host = request.headers.host;
  if (host && host.value) {
    request.headers['x-edgeauth-viewer-host'] = { value: host.value, multiValue: [{ value: host.value }] };
  } else {
    delete request.headers['x-edgeauth-viewer-host'];
  }
  var uri = request.uri;
  if (uri.charAt(uri.length - 1) === '/') {
    request.uri = uri + 'index.html';
  }
  return request;
}
