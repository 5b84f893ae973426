// The Node peer as a process, the way Lambda runs it.
//
// With AWS_LAMBDA_RUNTIME_API set: a minimal Lambda Runtime API client (fetch the next event, call
// the handler, post the answer), standing in for the managed nodejs20.x bootstrap, which cannot be
// installed here. The managed runtime does the same loop plus its own init (logging patch, context
// object), so figures measured with this loop are a lower bound for the managed runtime.
//
// Without it (one-shot mode): builds the verifier, hydrates the JWKS, verifies BENCH_TOKEN and writes
// the answer to stdout as one JSON line, then exits.
import { request, Agent } from "node:http";

let authorizer;
const api = process.env.AWS_LAMBDA_RUNTIME_API;

if (!api) {
  authorizer = await import("./authorizer.mjs");
  const answer = await authorizer.handler({
    version: "2.0",
    type: "REQUEST",
    identitySource: [`Bearer ${process.env.BENCH_TOKEN ?? ""}`],
    headers: {},
  });
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  // BENCH_HOLD: stay alive until stdin closes, so the benchmark can read this process's peak RSS.
  if (process.env.BENCH_HOLD) {
    process.stdin.resume();
    await new Promise((resolve) => process.stdin.on("end", resolve));
  }
  process.exit(0);
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const base = `http://${api}/2018-06-01/runtime`;

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body !== undefined) req.setHeader("content-type", "application/json");
    req.end(body);
  });
}

function errorBody(error) {
  return JSON.stringify({ errorType: error?.name ?? "Error", errorMessage: String(error?.message ?? error) });
}

try {
  authorizer = await import("./authorizer.mjs");
} catch (error) {
  await call("POST", "/init/error", errorBody(error));
  process.exit(1);
}

for (;;) {
  const next = await call("GET", "/invocation/next");
  const id = next.headers["lambda-runtime-aws-request-id"];
  try {
    const answer = await authorizer.handler(JSON.parse(next.body));
    await call("POST", `/invocation/${id}/response`, JSON.stringify(answer));
  } catch (error) {
    await call("POST", `/invocation/${id}/error`, errorBody(error));
  }
}
