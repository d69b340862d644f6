// Shared by the k6 scripts: the scenario settings of loadtest/scenarios.json (the same file the
// Node harness reads) and a small generator of valid posted events (design §3). k6 cannot load
// the TypeScript demo generator, so the mix here is simpler: invitations, opens, sign-ups with
// an invite, purchases and exposures, each with a unique event_id.
const scenarios = JSON.parse(open('../scenarios.json'));

export const PROFILE = __ENV.PROFILE || 'full';
export const settings = scenarios.profiles[PROFILE];
export const targets = scenarios.targets;
if (!settings) throw new Error(`PROFILE must be one of ${Object.keys(scenarios.profiles).join(', ')}`);

export const INGEST_URL = __ENV.INGEST_URL || 'http://127.0.0.1:8080';
export const API_URL = __ENV.API_URL || 'http://127.0.0.1:8081';
export const INGEST_KEY = __ENV.INGEST_KEY || 'dev-ingest-key';
export const READ_KEY = __ENV.READ_KEY || 'dev-read-key';
export const ADMIN_KEY = __ENV.ADMIN_KEY || 'dev-admin-key';

const CHANNELS = ['email', 'sms', 'whatsapp', 'link', 'other'];
const RUN = `k6${Date.now().toString(36)}`;

/** The i-th event of this VU's iteration: a fixed cycle of types, ids unique per run/VU/iteration. */
export function makeEvent(i) {
  const id = `${RUN}.${__VU}.${__ITER}.${i}`;
  const user = `${RUN}-u${__VU}-${__ITER % 500}`;
  const invite = `${RUN}.i.${__VU}.${__ITER}.${i - (i % 5)}`;
  const now = Date.now();
  switch (i % 5) {
    case 0:
      return { event_id: id, type: 'invite_sent', occurred_at: now, user_id: user, device_id: `d-${user}`, properties: { invite_id: invite, channel: CHANNELS[(__ITER + i) % 5] } };
    case 1:
      return { event_id: id, type: 'invite_opened', occurred_at: now, user_id: `${invite}-guest`, properties: { invite_id: invite } };
    case 2:
      return { event_id: id, type: 'signup', occurred_at: now, user_id: `${invite}-new`, device_id: `d-${invite}`, properties: { invite_id: invite } };
    case 3:
      return { event_id: id, type: 'purchase', occurred_at: new Date(now).toISOString(), user_id: `${invite}-new`, properties: { order_id: `o-${id}`, amount: 9.99, currency: 'USD' } };
    default:
      return { event_id: id, type: 'experiment_exposure', occurred_at: now, user_id: user, properties: { experiment_id: 'invite_flow', variant: __ITER % 2 ? 'b' : 'control' } };
  }
}

export const ingestHeaders = { 'content-type': 'application/json', authorization: `Bearer ${INGEST_KEY}` };
export const readHeaders = { authorization: `Bearer ${READ_KEY}` };
