// k6: ingest single events (POST /v1/events), closed loop with keep-alive — the harness's
// "ingest single event" figure. Settings: loadtest/scenarios.json profile $PROFILE (default full).
//   k6 run -e PROFILE=quick -e INGEST_URL=http://127.0.0.1:8080 -e INGEST_KEY=dev-ingest-key loadtest/k6/ingest-single.js
import http from 'k6/http';
import { check } from 'k6';
import { settings, INGEST_URL, ingestHeaders, makeEvent } from './lib.js';

export const options = {
  scenarios: {
    ingest_single: { executor: 'constant-vus', vus: settings.ingest.singleConnections, duration: `${settings.ingest.durationSeconds}s` },
  },
  thresholds: { http_req_failed: ['rate<0.001'] },
  summaryTrendStats: ['p(50)', 'p(95)', 'p(99)', 'max'],
};

export default function () {
  const res = http.post(`${INGEST_URL}/v1/events`, JSON.stringify(makeEvent(__ITER % 5)), { headers: ingestHeaders });
  check(res, { 'accepted (202)': (r) => r.status === 202 });
}
