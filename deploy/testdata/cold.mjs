// One cold start, for BenchmarkColdStart: node cold.mjs <module> <event
// file> imports the handler module as Lambda's Node.js runtime does, hands
// it the event once and prints the answer, then exits. The benchmark times
// it from the process's start to that line.
import { readFileSync } from 'node:fs';

const mod = await import(new URL(process.argv[2], import.meta.url));
const event = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const context = {
  awsRequestId: 'cold-start',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:edgeauth-check-auth:1',
  getRemainingTimeInMillis: () => 5000,
};
let line;
try {
  line = JSON.stringify({ result: await mod.handler(event, context) });
} catch (e) {
  line = JSON.stringify({ error: { name: e.name, message: e.message } });
}
process.stdout.write(line + '\n', () => process.exit(0));
