// A handler that does nothing but answer: BenchmarkColdStart's baseline,
// the Node.js runtime's own start.
export async function handler(event) {
  return event;
}
