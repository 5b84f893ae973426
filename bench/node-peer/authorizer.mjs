// The Node peer: the Lambda authorizer users copy today, built on aws-jwt-verify, answering an
// HTTP API (payload 2.0) authorizer with simple responses. Kept to what such a snippet does, so
// the benchmark compares our Rust authorizer with the real alternative rather than a strawman.
//
// Configuration, as for our authorizer: JWT_ISSUER, JWT_AUDIENCE (comma list), JWKS_URI (optional;
// aws-jwt-verify defaults it to <issuer>/.well-known/jwks.json).
import { request as httpRequest } from "node:http";
import { JwtVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import { SimpleFetcher } from "aws-jwt-verify/https";

// aws-jwt-verify fetches keys with node:https only, and the benchmark serves them over plain HTTP
// on 127.0.0.1 (as it does for the Rust authorizer, which allows http on loopback only). This
// fetcher uses node:http for loopback http:// URIs and the library's own fetcher for everything
// else, so the verification code path is the library's, unchanged.
class LoopbackHttpFetcher {
  #https = new SimpleFetcher();

  fetch(uri, requestOptions, data) {
    const url = new URL(uri);
    if (url.protocol !== "http:" || !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
      return this.#https.fetch(uri, requestOptions, data);
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: "GET", timeout: 3000 }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`JWKS fetch: status ${res.statusCode}`));
          return;
        }
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          resolve(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
        });
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error("JWKS fetch: timeout")));
      req.on("error", reject);
      req.end(data);
    });
  }
}

const issuer = process.env.JWT_ISSUER;
const audience = (process.env.JWT_AUDIENCE ?? "")
  .split(",")
  .map((a) => a.trim())
  .filter(Boolean);
if (!issuer || audience.length === 0) {
  throw new Error("JWT_ISSUER and JWT_AUDIENCE must be set");
}

export const verifier = JwtVerifier.create(
  {
    issuer,
    audience,
    ...(process.env.JWKS_URI ? { jwksUri: process.env.JWKS_URI } : {}),
  },
  { jwksCache: new SimpleJwksCache({ fetcher: new LoopbackHttpFetcher() }) },
);

// Fetch the keys during init, as aws-jwt-verify's README recommends for Lambda. A failure here is
// not fatal: verify() fetches on first use.
try {
  await verifier.hydrate();
} catch {
  // keys will be fetched by the first verify
}

// HTTP API requires context values to be strings, numbers or booleans: same flattening as ours.
function flatten(claims) {
  const context = {};
  for (const [name, value] of Object.entries(claims)) {
    context[name] = value !== null && typeof value === "object" ? JSON.stringify(value) : value;
  }
  return context;
}

function bearer(event) {
  const header =
    event?.identitySource?.[0] ??
    Object.entries(event?.headers ?? {}).find(([k]) => k.toLowerCase() === "authorization")?.[1];
  const match = typeof header === "string" ? /^Bearer ([^\s]+)$/i.exec(header.trim()) : null;
  return match?.[1];
}

export async function handler(event) {
  const token = bearer(event);
  if (!token) return { isAuthorized: false, context: {} };
  try {
    const payload = await verifier.verify(token);
    return { isAuthorized: true, context: flatten(payload) };
  } catch {
    return { isAuthorized: false, context: {} };
  }
}
