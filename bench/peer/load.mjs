// The load tool: autocannon, run in its own process by bench/api_bench.py.
//
//   node load.mjs config.json      # prints one JSON object of figures on stdout
//
// config: {url, headers, bodies: [string...], connections, amount, maxSeconds, timeout (s)}:
// `amount` requests in all, unless `maxSeconds` pass first: then the run stops, and the
// requests still in flight are left to the server (the harness waits for it to go idle
// before it measures anything else; `sent` says how many requests the server was given).
// Requests take the bodies in turn across all connections (so concurrent requests ask for
// different children); "__SEQ__" in a body becomes a number unique to the request (a visit's
// notes, so no two recorded visits are identical). A response that is not HTTP 200 or whose
// body carries GraphQL "errors" counts as failed.
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const bodies = config.bodies;
let next = 0;
let sequence = 0;
let failed = 0;
let firstFailure = null;
const stamp = `${process.pid}-${Date.now()}`;

let started = 0;
let lastAnswer = 0;
let tracker;
const done = new Promise((resolve, reject) => {
  started = Date.now();
  tracker = autocannon({
  url: config.url,
  method: "POST",
  headers: { "content-type": "application/json", ...config.headers },
  connections: config.connections,
  amount: config.amount,
  timeout: config.timeout ?? 120,
  requests: [
    {
      setupRequest(request) {
        const body = bodies[next++ % bodies.length];
        return { ...request, body: body.includes("__SEQ__") ? body.replaceAll("__SEQ__", `${stamp}-${sequence++}`) : body };
      },
      onResponse(status, body) {
        lastAnswer = Date.now();
        if (status !== 200 || body.includes('"errors"')) {
          failed += 1;
          firstFailure ??= `${status} ${body.slice(0, 500)}`;
        }
      },
    },
  ],
  }, (error, result) => (error ? reject(error) : resolve(result)));
});
const deadline = setTimeout(() => tracker.stop(), (config.maxSeconds ?? 3600) * 1000);
const result = await done;
clearTimeout(deadline);
// autocannon notices the end on its next one-second tick; the rate runs to the last answer.
const seconds = Math.max(lastAnswer - started, 1) / 1000;

const latency = result.latency;
console.log(
  JSON.stringify({
    requests: result.requests.total,
    sent: result.requests.sent,
    cut: result.requests.total < config.amount,
    seconds,
    rps: result.requests.total / seconds,
    p50: latency.p50,
    p90: latency.p90,
    p99: latency.p99,
    mean: latency.average,
    max: latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    failed,
    firstFailure,
  }),
);
