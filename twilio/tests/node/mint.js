// Mints Access Tokens with the real twilio-node `jwt.AccessToken`, for
// twilio/tests/node_crosscheck.rs. Reads a JSON array of cases on stdin and
// writes a JSON array of token strings (or {"error": message}) on stdout.
// Each case fixes the clock: twilio-node and jsonwebtoken both read
// Date.now(), so it is replaced before each token is signed.
"use strict";

const AccessToken = require("twilio").jwt.AccessToken;

const GRANTS = {
  voice: AccessToken.VoiceGrant,
  video: AccessToken.VideoGrant,
  chat: AccessToken.ChatGrant,
  data_sync: AccessToken.SyncGrant,
  task_router: AccessToken.TaskRouterGrant,
  player: AccessToken.PlaybackGrant,
};

function mint(c) {
  Date.now = () => c.nowMillis;
  const token = new AccessToken(c.accountSid, c.keySid, c.secret, c.options);
  for (const g of c.grants) {
    token.addGrant(new GRANTS[g.kind](g.options));
  }
  return token.toJwt(c.algorithm);
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((c) => {
    try {
      return mint(c);
    } catch (e) {
      return { error: String(e.message) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
