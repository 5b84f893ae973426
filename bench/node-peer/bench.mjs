// Side-by-side benchmark: our Rust authorizer against the Node peer users run today (aws-jwt-verify
// in a Lambda authorizer, HTTP API payload 2.0, simple responses), on this machine, loopback only.
//
// Measured:
//  (a) warm verify in process: aws-jwt-verify's verify() and the whole Node handler (event -> answer);
//  (b) process start to first allow: spawn the process under a Lambda Runtime API stand-in (below),
//      queue one event, time spawn -> answer posted. Init includes building the verifier/client and
//      fetching the JWKS from a loopback server;
//  (c) peak RSS: VmHWM from /proc/<pid>/status after the first allow and after the warm series;
//  plus warm invoke round trip through the same Runtime API stand-in (event queued -> answer posted),
//  the same harness for both processes.
//
// Run: npm ci && node bench.mjs   (options: --runs N --verifies N --invokes N; AUTHORIZER_BIN=path)
import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { generateKeyPairSync, sign, randomUUID } from "node:crypto";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { once } from "node:events";
import os from "node:os";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > 100_000) throw new Error(`--${name}: 1..100000`);
  return value;
}
const RUNS = option("runs", 20);
const VERIFIES = option("verifies", 5000);
const INVOKES = option("invokes", 2000);
const WARMUP = 1000;
const INVOKE_TIMEOUT_MS = 10_000;
const AUDIENCE = "https://shows.example.com";
const RUST_BIN = process.env.AUTHORIZER_BIN ?? here("../../target/release/authorizer");

// ---------- keys, tokens, loopback JWKS server ----------
const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

function rsaKey(kid) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" } };
}

function mint(key, claims) {
  const input = `${b64url({ alg: "RS256", typ: "JWT", kid: key.kid })}.${b64url(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), key.privateKey).toString("base64url")}`;
}

const key = rsaKey("bench-key-1");
const jwksBody = JSON.stringify({ keys: [key.jwk] });
let jwksHits = 0;
const idp = createServer((req, res) => {
  if (req.url === "/.well-known/jwks.json") {
    jwksHits += 1;
    res.writeHead(200, { "content-type": "application/json" }).end(jwksBody);
  } else if (req.url === "/.well-known/openid-configuration") {
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ issuer, jwks_uri: jwksUri }));
  } else {
    res.writeHead(404).end();
  }
});
idp.listen(0, "127.0.0.1");
await once(idp, "listening");
const issuer = `http://127.0.0.1:${idp.address().port}/`;
const jwksUri = `${issuer}.well-known/jwks.json`;

const now = Math.floor(Date.now() / 1000);
const claims = {
  iss: issuer,
  sub: "auth0|65f1c2d3e4a5b6c7d8e9f0a1",
  aud: [AUDIENCE, `${issuer}userinfo`],
  iat: now,
  exp: now + 3600,
  azp: "Zx7Qm2Lp9Rt4Vw6Yb8Nc1Kd3Fg5Hj0Sa",
  scope: "openid profile read:shows",
  permissions: ["read:shows"],
};
const token = mint(key, claims);
// Same kid and claims, signed by a key the IdP never published: both authorizers must deny it.
const forged = mint({ ...rsaKey("bench-key-1"), kid: "bench-key-1" }, claims);

// A real HTTP API payload 2.0 authorizer event (the repo's sample) carrying our token.
const template = JSON.parse(readFileSync(here("../../events/authorizer-http-v2.json"), "utf8"));
const eventWith = (t) => ({
  ...template,
  identitySource: [`Bearer ${t}`, template.identitySource[1]],
  headers: { ...template.headers, authorization: `Bearer ${t}` },
});
const event = eventWith(token);
const forgedEvent = eventWith(forged);

// ---------- statistics ----------
function stats(values) {
  const s = [...values].sort((x, y) => x - y);
  const at = (p) => s[Math.round(p * (s.length - 1))];
  const mean = s.reduce((sum, x) => sum + x, 0) / s.length;
  return { median: at(0.5), mean, p90: at(0.9), p99: at(0.99), min: s[0], max: s[s.length - 1], n: s.length };
}
const fmt = (x, d = 1) => x.toFixed(d).padStart(8);
const line = (label, st, unit, d = 1) =>
  console.log(
    `${label.padEnd(40)} median ${fmt(st.median, d)} ${unit.padEnd(3)} mean ${fmt(st.mean, d)}  p90 ${fmt(st.p90, d)}  p99 ${fmt(st.p99, d)}  max ${fmt(st.max, d)}  n=${st.n}`,
  );

// ---------- Lambda Runtime API stand-in (one per process) ----------
class RuntimeApi {
  #queue = [];
  #waiting = [];
  #pending = new Map();
  initError = null;

  async start() {
    this.server = createServer((req, res) => this.#route(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    return `127.0.0.1:${this.server.address().port}`;
  }

  #route(req, res) {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      const m = /^\/2018-06-01\/runtime\/(?:invocation\/([^/]+)\/(response|error)|(init)\/error|invocation\/(next))$/.exec(
        req.url,
      );
      if (m?.[4] && req.method === "GET") {
        this.#waiting.push(res);
        this.#dispatch();
      } else if (m?.[2] && req.method === "POST") {
        const settle = this.#pending.get(m[1]);
        this.#pending.delete(m[1]);
        res.writeHead(202).end();
        settle?.({ kind: m[2], at: process.hrtime.bigint(), body: body ? JSON.parse(body) : null });
      } else if (m?.[3] && req.method === "POST") {
        this.initError = body;
        res.writeHead(202).end();
        for (const settle of this.#pending.values()) settle({ kind: "init-error", body });
      } else {
        res.writeHead(404).end();
      }
    });
  }

  #dispatch() {
    while (this.#queue.length && this.#waiting.length) {
      const { id, payload } = this.#queue.shift();
      this.#waiting.shift().writeHead(200, {
        "content-type": "application/json",
        "lambda-runtime-aws-request-id": id,
        "lambda-runtime-deadline-ms": String(Date.now() + 30_000),
        "lambda-runtime-invoked-function-arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
        "lambda-runtime-trace-id": "Root=1-00000000-000000000000000000000000;Sampled=0",
      }).end(payload);
    }
  }

  // Resolves with { kind: "response" | "error" | "init-error", at, body }.
  invoke(ev) {
    const id = randomUUID();
    const answer = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("invocation timed out")), INVOKE_TIMEOUT_MS);
      this.#pending.set(id, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
    this.#queue.push({ id, payload: JSON.stringify(ev) });
    this.#dispatch();
    return answer;
  }

  close() {
    for (const res of this.#waiting) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
  }
}

function vmHwmKiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

const lambdaEnv = (api, name) => ({
  PATH: process.env.PATH,
  AWS_LAMBDA_RUNTIME_API: api,
  AWS_LAMBDA_FUNCTION_NAME: name,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
  AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
  AWS_LAMBDA_LOG_FORMAT: "JSON",
  AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
  AWS_LAMBDA_LOG_STREAM_NAME: "2026/01/01/[$LATEST]bench",
  AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
  AWS_REGION: "us-east-1",
  TZ: ":UTC",
  JWT_ISSUER: issuer,
  JWT_AUDIENCE: AUDIENCE,
  JWKS_URI: jwksUri,
});

const contenders = [
  {
    name: "node",
    label: "Node 20 + aws-jwt-verify",
    command: process.execPath,
    args: [here("./authorizer-process.mjs")],
    env: {},
  },
];
if (existsSync(RUST_BIN)) {
  contenders.push({
    name: "rust",
    label: "Rust authorizer (release)",
    command: RUST_BIN,
    args: [],
    // What a deployed function logs by default: one JSON decision line per invocation. The Node
    // peer logs nothing, so this is to the Rust side's disadvantage.
    env: { AWS_LAMBDA_LOG_LEVEL: "INFO" },
  });
} else {
  console.log(`Rust binary not found at ${RUST_BIN}: build it with \`cargo build --release -p authorizer\``);
}

// One cold start: spawn under a fresh Runtime API stand-in, first allow, optional warm series.
async function coldStart(c, warmInvokes) {
  const runtime = new RuntimeApi();
  const api = await runtime.start();
  let output = "";
  const t0 = process.hrtime.bigint();
  const child = spawn(c.command, c.args, {
    env: { ...lambdaEnv(api, `bench-${c.name}`), ...c.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (d) => {
    output = (output + d).slice(-8192);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = once(child, "exit");
  try {
    const first = await runtime.invoke(event);
    const firstAllowMs = Number(first.at - t0) / 1e6;
    if (first.kind !== "response" || first.body?.isAuthorized !== true) {
      throw new Error(`${c.name}: first answer is not an allow: ${JSON.stringify(first)}\n${output}`);
    }
    const rssFirstKiB = vmHwmKiB(child.pid);
    const latenciesUs = [];
    for (let i = 0; i < warmInvokes; i += 1) {
      const t = process.hrtime.bigint();
      const a = await runtime.invoke(event);
      if (a.body?.isAuthorized !== true) throw new Error(`${c.name}: warm answer is not an allow`);
      if (i >= WARMUP / 5) latenciesUs.push(Number(a.at - t) / 1e3);
    }
    const denied = await runtime.invoke(forgedEvent);
    if (denied.kind !== "response" || denied.body?.isAuthorized !== false) {
      throw new Error(`${c.name}: a forged token was not denied: ${JSON.stringify(denied)}`);
    }
    const rssWarmKiB = vmHwmKiB(child.pid);
    return { firstAllowMs, rssFirstKiB, rssWarmKiB, latenciesUs };
  } finally {
    child.kill("SIGKILL");
    await exited;
    runtime.close();
  }
}

// One-shot Node process: spawn -> answer line on stdout (no Runtime API loop).
async function oneShot() {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [here("./authorizer-process.mjs")], {
    env: {
      PATH: process.env.PATH,
      JWT_ISSUER: issuer,
      JWT_AUDIENCE: AUDIENCE,
      JWKS_URI: jwksUri,
      BENCH_TOKEN: token,
      BENCH_HOLD: "1",
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  let rssKiB = NaN;
  const answered = new Promise((resolve) =>
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) {
        const t = process.hrtime.bigint();
        rssKiB = vmHwmKiB(child.pid);
        child.stdin.end();
        resolve(t);
      }
    }),
  );
  const t1 = await Promise.race([
    answered,
    once(child, "exit").then(() => {
      throw new Error("one-shot node exited without an answer");
    }),
  ]);
  await once(child, "exit").catch(() => {});
  if (JSON.parse(out).isAuthorized !== true) throw new Error(`one-shot answer is not an allow: ${out}`);
  return { ms: Number(t1 - t0) / 1e6, rssKiB };
}

// ---------- run ----------
console.log(
  `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model?.trim()}), node ${process.version}, ${os.platform()} ${os.release()}`,
);
console.log(`issuer ${issuer} (loopback), RS256 2048-bit key, HTTP API payload 2.0 simple responses\n`);

// (a) warm verify, in process.
process.env.JWT_ISSUER = issuer;
process.env.JWT_AUDIENCE = AUDIENCE;
process.env.JWKS_URI = jwksUri;
const { verifier, handler } = await import("./authorizer.mjs");
if ((await handler(forgedEvent)).isAuthorized !== false) throw new Error("in-process: forged token allowed");
for (let i = 0; i < WARMUP; i += 1) await verifier.verify(token);
const verifyUs = [];
for (let i = 0; i < VERIFIES; i += 1) {
  const t = process.hrtime.bigint();
  await verifier.verify(token);
  verifyUs.push(Number(process.hrtime.bigint() - t) / 1e3);
}
for (let i = 0; i < WARMUP; i += 1) await handler(event);
const handlerUs = [];
for (let i = 0; i < VERIFIES; i += 1) {
  const t = process.hrtime.bigint();
  const answer = await handler(event);
  handlerUs.push(Number(process.hrtime.bigint() - t) / 1e3);
  if (answer.isAuthorized !== true) throw new Error("in-process: valid token denied");
}
console.log("(a) warm, in process (Node)");
line("aws-jwt-verify verify() RS256", stats(verifyUs), "us");
line("Node handler, event -> answer", stats(handlerUs), "us");

// (b), (c) and warm round trips: runs interleaved so background load hits both alike.
const results = Object.fromEntries(contenders.map((c) => [c.name, []]));
for (let run = 0; run < RUNS; run += 1) {
  for (const c of contenders) results[c.name].push(await coldStart(c, run === 0 ? INVOKES + WARMUP / 5 : 100));
}
const oneShots = [];
for (let run = 0; run < RUNS; run += 1) oneShots.push(await oneShot());

for (const c of contenders) {
  const r = results[c.name];
  console.log(`\n${c.label}: ${RUNS} cold starts under the Runtime API stand-in`);
  line("(b) spawn -> first allow", stats(r.map((x) => x.firstAllowMs)), "ms");
  line("(c) peak RSS after first allow (VmHWM)", stats(r.map((x) => x.rssFirstKiB / 1024)), "MiB");
  line("(c) peak RSS after warm series (VmHWM)", stats(r.map((x) => x.rssWarmKiB / 1024)), "MiB");
  line(`warm invoke round trip (n=${INVOKES})`, stats(r[0].latenciesUs), "us");
}
console.log(`\nNode one-shot (no Runtime API loop; answer to stdout): ${RUNS} runs`);
line("spawn -> answer on stdout", stats(oneShots.map((x) => x.ms)), "ms");
line("peak RSS at answer (VmHWM)", stats(oneShots.map((x) => x.rssKiB / 1024)), "MiB");
console.log(`\nJWKS fetches served: ${jwksHits}`);

if (results.rust) {
  const med = (name, f) => stats(results[name].map(f)).median;
  const rows = [
    ["spawn -> first allow (ms, median)", (x) => x.firstAllowMs, 1],
    ["peak RSS after warm series (MiB, median)", (x) => x.rssWarmKiB / 1024, 1],
  ];
  console.log("\nSide by side (same harness)                   Rust      Node   Node/Rust");
  for (const [label, f, d] of rows) {
    const [r, n] = [med("rust", f), med("node", f)];
    console.log(`${label.padEnd(44)} ${fmt(r, d)}  ${fmt(n, d)}  ${fmt(n / r, 1)}x`);
  }
  const [r, n] = [stats(results.rust[0].latenciesUs).median, stats(results.node[0].latenciesUs).median];
  console.log(`${"warm invoke round trip (us, median)".padEnd(44)} ${fmt(r, 0)}  ${fmt(n, 0)}  ${fmt(n / r, 1)}x`);
}
idp.close();
