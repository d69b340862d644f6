// k6: mixed read load at a fixed arrival rate (api.ratePerSecond): 45% viral coefficient over
// api.coefficientDays at api.granularity, 45% experiment assignment, 10% cohorts. The p99
// thresholds are the targets of scenarios.json (issue 7). setup() defines the experiment;
// when the experiments routes do not exist yet, the assignment share is skipped.
//   k6 run -e PROFILE=quick -e API_URL=http://127.0.0.1:8081 -e READ_KEY=dev-read-key -e ADMIN_KEY=dev-admin-key loadtest/k6/mixed-read.js
import http from 'k6/http';
import { check } from 'k6';
import { settings, targets, API_URL, ADMIN_KEY, readHeaders } from './lib.js';

const a = settings.api;
const EXPERIMENT = __ENV.EXPERIMENT_ID || 'k6-invite-flow';

export const options = {
  scenarios: {
    mixed_read: {
      executor: 'constant-arrival-rate',
      rate: a.ratePerSecond,
      timeUnit: '1s',
      duration: `${a.durationSeconds}s`,
      preAllocatedVUs: a.connections,
      maxVUs: a.connections * 4,
    },
  },
  thresholds: {
    'http_req_duration{route:coefficient}': [`p(99)<${targets.coefficientP99Ms}`],
    'http_req_duration{route:assignment}': [`p(99)<${targets.assignmentP99Ms}`],
    http_req_failed: ['rate<0.001'],
  },
  summaryTrendStats: ['p(50)', 'p(95)', 'p(99)', 'max'],
};

export function setup() {
  const res = http.put(
    `${API_URL}/v1/experiments/${EXPERIMENT}`,
    JSON.stringify({ variants: [{ name: 'control', weight: 50 }, { name: 'b', weight: 50 }], control: 'control', goal: { kind: 'conversion', event: 'invite_accepted' } }),
    { headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` } },
  );
  return { assignment: res.status >= 200 && res.status < 300 };
}

export default function (data) {
  const to = new Date(Math.floor(Date.now() / 3600000) * 3600000);
  const from = new Date(to.getTime() - a.coefficientDays * 86400000);
  const r = Math.random();
  let res;
  if (r < 0.45 || (!data.assignment && r < 0.9)) {
    res = http.get(`${API_URL}/v1/viral/coefficient?from=${from.toISOString()}&to=${to.toISOString()}&granularity=${a.granularity}`, { headers: readHeaders, tags: { route: 'coefficient' } });
  } else if (r < 0.9) {
    res = http.get(`${API_URL}/v1/experiments/${EXPERIMENT}/assignment?user_id=u${Math.floor(Math.random() * a.assignmentUsers)}`, { headers: readHeaders, tags: { route: 'assignment' } });
  } else {
    res = http.get(`${API_URL}/v1/viral/cohorts?from=${from.toISOString()}&to=${to.toISOString()}&granularity=day`, { headers: readHeaders, tags: { route: 'cohorts' } });
  }
  check(res, { 'status 200': (x) => x.status === 200 });
}
