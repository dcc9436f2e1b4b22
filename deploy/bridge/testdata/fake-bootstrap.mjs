// A stand-in for a Go bootstrap: speaks the Lambda Runtime API the way
// aws-lambda-go does, with behaviour chosen by the event's "action" and, at
// init, by FAKE_INIT. Used by bridge.test.mjs only.
import http from 'node:http';

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const agent = new http.Agent({ keepAlive: true });

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const [host, port] = api.split(':');
    const req = http.request({ host, port, method, path: `/2018-06-01/runtime${path}`, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (body !== undefined) req.end(JSON.stringify(body));
    else req.end();
  });
}

if (process.env.FAKE_INIT === 'exit') process.exit(2);
if (process.env.FAKE_INIT === 'error') {
  await call('POST', '/init/error', { errorType: 'Fake.InitFailed', errorMessage: 'config: clientId: is required' });
  process.exit(1);
}

for (;;) {
  const next = await call('GET', '/invocation/next');
  const id = next.headers['lambda-runtime-aws-request-id'];
  const event = JSON.parse(next.body);
  switch (event.action) {
    case 'error':
      await call('POST', `/invocation/${id}/error`, { errorType: 'Fake.Boom', errorMessage: 'boom' });
      break;
    case 'crash':
      process.exit(3);
      break;
    case 'hang':
      setInterval(() => {}, 1000);
      await new Promise(() => {});
      break;
    case 'notjson': {
      const [host, port] = api.split(':');
      await new Promise((resolve) => {
        const req = http.request({ host, port, method: 'POST', path: `/2018-06-01/runtime/invocation/${id}/response`, agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.end('{not json');
      });
      break;
    }
    default: {
      const reply = {
        event,
        pid: process.pid,
        requestId: id,
        deadlineMs: next.headers['lambda-runtime-deadline-ms'],
        arn: next.headers['lambda-runtime-invoked-function-arn'],
        traceId: next.headers['lambda-runtime-trace-id'],
        env: { FAKE_EXTRA: process.env.FAKE_EXTRA ?? null },
      };
      const r = await call('POST', `/invocation/${id}/response`, reply);
      if (r.status !== 202) process.exit(9);
      if (event.action === 'exit-after') process.exit(0);
    }
  }
}
