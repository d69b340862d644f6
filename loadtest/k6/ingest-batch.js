// k6: ingest batches (POST /v1/events/batch, templates.batchSize events each), closed loop with
// keep-alive — the harness's "ingest batch" figure. Events/s = http_reqs/s × batch size.
//   k6 run -e PROFILE=quick -e INGEST_URL=http://127.0.0.1:8080 -e INGEST_KEY=dev-ingest-key loadtest/k6/ingest-batch.js
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { settings, INGEST_URL, ingestHeaders, makeEvent } from './lib.js';

const accepted = new Counter('events_accepted');
const size = settings.templates.batchSize;

export const options = {
  scenarios: {
    ingest_batch: { executor: 'constant-vus', vus: settings.ingest.batchConnections, duration: `${settings.ingest.durationSeconds}s` },
  },
  thresholds: { http_req_failed: ['rate<0.001'] },
  summaryTrendStats: ['p(50)', 'p(95)', 'p(99)', 'max'],
};

export default function () {
  const events = Array.from({ length: size }, (_, i) => makeEvent(i));
  const res = http.post(`${INGEST_URL}/v1/events/batch`, JSON.stringify({ sent_at: Date.now(), events }), { headers: ingestHeaders });
  if (check(res, { 'accepted (202)': (r) => r.status === 202 })) accepted.add(res.json('accepted'));
}
