// Every dashboard panel runs against the real ClickHouse (design §9, issue 6 "Tests that must
// exist"): demo events posted through ingest, processed by the processors in-process, experiments
// defined through the api; then each panel's SQL, with the data source's macros expanded for a
// range covering the data, must return rows with the columns the panel declares. A few panels are
// also checked against numbers derived independently: the posted events, and the api (which
// reads the same tables with its own, separately written SQL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_EXPERIMENT_DEFINITIONS, generateDemo } from '../core/demo/index.ts';
import { eventually, makeTenant, testClickHouse, testConfig } from '../core/testing/services.ts';
import { raw, sql, str } from '../core/clickhouse/sql.ts';
import { migrate } from '../core/clickhouse/migrate.ts';
import { startIngest } from '../ingest/main.ts';
import { startProcessors } from '../processors/main.ts';
import { startApi } from '../api/main.ts';
import { postBatches } from '../loadtest/harness/demo-feed.ts';
import { isSqlPanel, type PromPanel, type SqlPanel } from './lib/clickhouse-panel.ts';
import { expandMacros } from './lib/expand-macros.ts';
import { DASHBOARDS } from './panels/index.ts';
import { VERDICTS } from './panels/experiments.ts';

type Row = Record<string, any>;

const tenant = makeTenant('dash');
const config = testConfig([tenant]);
const ch = testClickHouse();
const now = Date.now();
const demo = generateDemo({ seed: 23, now, days: 4, seedUsers: 250, fraudPerDay: 1 });
const MIGRATIONS = join(config.rootDir, 'sql', 'migrations');
/** A range covering the simulated history (event time) and the posting (received_at). */
const range = { from: now - 6 * 86_400_000, to: now + 3_600_000, intervalS: 3600 };
const vars = { app: tenant.appId, channel: 'all', granularity: 'day', experiment: 'invite_flow' };

let ingest: Awaited<ReturnType<typeof startIngest>>;
let processors: Awaited<ReturnType<typeof startProcessors>>;
let api: Awaited<ReturnType<typeof startApi>>;
let metricsPort: number;

const panels = Object.entries(DASHBOARDS).flatMap(([dashboard, spec]) => spec.rows.flatMap((r) => r.panels.map((panel) => ({ dashboard, panel }))));
const sqlPanels = panels.filter((p): p is { dashboard: string; panel: SqlPanel } => isSqlPanel(p.panel));

function panel(title: string): SqlPanel {
  const found = sqlPanels.find((p) => p.panel.title === title);
  if (!found) throw new Error(`no panel ${title}`);
  return found.panel;
}

/** The panel's statement as Grafana would send it, run on ClickHouse. */
function run(p: SqlPanel, overrides: Partial<typeof vars> = {}): Promise<Row[]> {
  return ch.query<Row>(raw(expandMacros(p.sql, { ...range, vars: { ...vars, ...overrides } })));
}

/** Rows once the processors (and the experiments results job) have written them. */
function rowsOf(p: SqlPanel, overrides: Partial<typeof vars> = {}): Promise<Row[]> {
  return eventually(async () => {
    const rows = await run(p, overrides);
    return rows.length > 0 ? rows : undefined;
  }, 90_000, `rows of "${p.title}"`);
}

async function apiGet(path: string): Promise<any> {
  const res = await fetch(api.url + path, { headers: { authorization: `Bearer ${tenant.readKey}` } });
  expect(res.status, path).toBe(200);
  return res.json();
}

/** ClickHouse DateTime text of the (UTC) test server → epoch ms. */
const epoch = (dateTime: string) => Date.parse(dateTime.replace(' ', 'T') + 'Z');
const iso = (ms: number) => new Date(ms).toISOString();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The K-factor and cohort window tables come from the 03xx migrations, written alongside this
 * suite: wait for those files rather than skip their panels, then apply them.
 */
async function windowTablesMigrated(): Promise<void> {
  await eventually(
    async () => {
      const texts = readdirSync(MIGRATIONS)
        .filter((f) => /^03\d\d_[a-z0-9_]+\.sql$/.test(f))
        .map((f) => readFileSync(join(MIGRATIONS, f), 'utf8'));
      return ['viral.kfactor_windows', 'viral.cohort_windows'].every((table) => texts.some((t) => t.includes(table)));
    },
    20 * 60_000,
    'sql/migrations/03xx for viral.kfactor_windows and viral.cohort_windows',
  );
  await migrate(ch, MIGRATIONS);
}

beforeAll(async () => {
  await windowTablesMigrated();
  metricsPort = await freePort();
  ingest = await startIngest(config);
  processors = await startProcessors(config, { metricsPort, retention: false });
  api = await startApi(config);
  // The demo's experiments, defined through the api as the start command does (design §6).
  for (const [id, definition] of Object.entries(DEMO_EXPERIMENT_DEFINITIONS)) {
    const res = await fetch(`${api.url}/v1/experiments/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.adminKey}` },
      body: JSON.stringify(definition),
    });
    expect(res.status).toBe(200);
  }
  expect(await postBatches(ingest.url, tenant.ingestKey, demo.events)).toEqual({ accepted: demo.events.length, rejected: 0 });
  await eventually(async () => {
    const [r] = await ch.query<{ n: string }>(sql`SELECT uniqExact(event_id) AS n FROM viral.events WHERE app_id = ${str(tenant.appId)}`);
    return Number(r.n) === demo.events.length;
  }, 120_000, 'every demo event in viral.events');
}, 25 * 60_000);

afterAll(async () => {
  await api?.close();
  await processors?.close();
  await ingest?.close();
  await ch.close();
});

describe('every panel query runs on ClickHouse with the macros expanded (design §9)', () => {
  it.each(sqlPanels.map(({ dashboard, panel: p }) => ({ name: `${dashboard} / ${p.title}`, p })))('$name', async ({ p }) => {
    const rows = await rowsOf(p);
    for (const row of rows) expect(Object.keys(row)).toEqual(p.columns);
  });
});

describe('panels agree with the posted events', () => {
  const inRange = demo.events; // simulated over 4 days before `now`: all inside `range`

  it('pipeline health: events received and events by type', async () => {
    const [received] = await run(panel('Events received in range'));
    expect(Number(received.events)).toBe(demo.events.length);
    expect(Number(received.users)).toBe(new Set(inRange.map((e) => e.user_id)).size);

    const byType: Record<string, number> = {};
    for (const r of await run(panel('Events by type (event time)'))) byType[r.event_type] = (byType[r.event_type] ?? 0) + Number(r.events);
    const expected: Record<string, number> = {};
    for (const e of inRange) expected[e.type] = (expected[e.type] ?? 0) + 1;
    expect(byType).toEqual(expected);

    const [last] = await run(panel('Since the last event arrived'));
    expect(Number(last.seconds_since_last_event)).toBeGreaterThanOrEqual(0);
    expect(Number(last.seconds_since_last_event)).toBeLessThan((Date.now() - now) / 1000 + 5);

    const rate = await run(panel('Ingest rate'));
    expect(rate.reduce((s, r) => s + r.events_per_second * range.intervalS, 0)).toBeCloseTo(demo.events.length, 6);
  });

  it('viral overview: the funnel counts the posted invitations stage by stage', async () => {
    const sent = new Set(inRange.filter((e) => e.type === 'invite_sent').map((e) => String(e.properties.invite_id)));
    const reached = (types: string[]) => new Set(inRange.filter((e) => types.includes(e.type) && sent.has(String(e.properties.invite_id))).map((e) => String(e.properties.invite_id))).size;
    const rows = await run(panel('Invitation funnel: sent → opened → clicked → accepted'));
    expect(rows.map((r) => [r.stage, Number(r.invitations)])).toEqual([
      ['sent', sent.size],
      ['opened', reached(['invite_opened', 'invite_clicked', 'signup'])],
      ['clicked', reached(['invite_clicked', 'signup'])],
      ['accepted', reached(['signup'])],
    ]);
    for (const channel of ['email', 'sms']) {
      const channelSent = new Set(inRange.filter((e) => e.type === 'invite_sent' && e.properties.channel === channel).map((e) => e.properties.invite_id)).size;
      expect((await run(panel('Invitation funnel: sent → opened → clicked → accepted'), { channel }))[0]).toEqual({ stage: 'sent', invitations: String(channelSent) });
    }
  });

  it('viral overview: invitations by variant are the posted invitations carrying a variant', async () => {
    const rows = await run(panel('K-factor by invitation-flow variant'));
    const expected = new Map<string, Set<unknown>>();
    for (const e of inRange.filter((x) => x.type === 'invite_sent' && x.properties.variant)) {
      const v = String(e.properties.variant);
      expected.set(v, (expected.get(v) ?? new Set()).add(e.properties.invite_id));
    }
    expect(rows.map((r) => [r.variant, Number(r.invites_sent)])).toEqual([...expected].map(([v, s]) => [v, s.size]).sort());
    for (const r of rows) expect(r.k_factor).toBeCloseTo(r.invites_per_inviter * r.conversion_rate, 12);
  });
});

describe('panels agree with the api reading the same tables', () => {
  const from = iso(range.from);
  const to = iso(range.to);

  it('K-factor by channel and cohorts equal GET /v1/viral/coefficient and /v1/viral/cohorts', async () => {
    const k = await rowsOf(panel('K-factor by channel'));
    // The api also returns windows rewritten with zeros (sql/migrations/0300); the panel skips them.
    const coefficient = (await apiGet(`/v1/viral/coefficient?from=${from}&to=${to}&granularity=day`)).series.filter((s: Row) => s.invites_sent > 0);
    expect(coefficient.length).toBeGreaterThan(0);
    expect(k.map((r) => [epoch(r.time), r.channel, r.k_factor])).toEqual(coefficient.map((s: Row) => [Date.parse(s.window_start), s.channel, s.k_factor]));
    const sms = await run(panel('K-factor by channel'), { channel: 'sms' });
    expect(sms.length).toBeGreaterThan(0);
    expect(new Set(sms.map((r) => r.channel))).toEqual(new Set(['sms']));

    // Each invitation is in exactly one window: the sum over the range is every posted invitation.
    const [totals] = await run(panel('Invitations in range'));
    const all = coefficient.filter((s: Row) => s.channel === 'all');
    expect(Number(totals.sent)).toBe(new Set(demo.events.filter((e) => e.type === 'invite_sent').map((e) => e.properties.invite_id)).size);
    expect([Number(totals.sent), Number(totals.accepted)]).toEqual([all.reduce((n: number, s: Row) => n + s.invites_sent, 0), all.reduce((n: number, s: Row) => n + s.invites_accepted, 0)]);

    const cohorts = await rowsOf(panel('Cohorts'));
    const api = (await apiGet(`/v1/viral/cohorts?from=${from}&to=${to}&granularity=day`)).series.filter((s: Row) => s.cohort_size > 0);
    expect(cohorts.map((r) => [epoch(r.window_start), Number(r.cohort_size), Number(r.referred_signups), r.cohort_k]).reverse()).toEqual(
      api.map((s: Row) => [Date.parse(s.window_start), s.cohort_size, s.referred_signups, s.cohort_k]),
    );
    expect(cohorts.reduce((n, r) => n + Number(r.cohort_size), 0)).toBe(new Set(demo.events.filter((e) => e.type === 'signup').map((e) => e.user_id)).size);
  });

  it('referral chains: depth statistics and histogram equal GET /v1/viral/chains', async () => {
    const chains = await apiGet(`/v1/viral/chains?from=${from}&to=${to}`);
    expect(chains.referred_users).toBeGreaterThan(20);
    const [stats] = await run(panel('Referred users in range'));
    expect({ referred_users: Number(stats.referred_users), mean_depth: stats.mean_depth, max_depth: Number(stats.max_depth) }).toEqual({
      referred_users: chains.referred_users,
      mean_depth: expect.closeTo(chains.mean_depth, 9),
      max_depth: chains.max_depth,
    });
    const histogram = await run(panel('Chain depth histogram'));
    expect(Object.fromEntries(histogram.filter((r) => r.depth !== '0').map((r) => [r.depth, Number(r.users)]))).toEqual(chains.depth_histogram);
  });

  it('super-connectors: the tiered head of the leaderboard equals GET /v1/super-connectors', async () => {
    const board = await run(panel('Top super-connectors'));
    const api = (await apiGet('/v1/super-connectors?limit=50')) as Row[];
    expect(api.length).toBeGreaterThan(0);
    // The api lists tiered users (silver and up); the panel continues below silver, by score.
    const fields = (r: Row) => pick(r, ['user_id', 'score', 'tier', 'quality_referrals', 'indirect_referrals', 'paying_referrals']);
    expect(board.slice(0, api.length).map(fields)).toEqual(api);
    expect(board.slice(api.length).every((r) => r.tier === 'none' || api.length === 50)).toBe(true);
    expect(board.every((r) => r.score > 0)).toBe(true);
  });

  it('fraud: live signals equal GET /v1/fraud/signals, and every injected case is shown', async () => {
    const api = await apiGet(`/v1/fraud/signals?from=${from}&to=${to}&limit=10000`);
    const [totals] = await run(panel('Signals in range'));
    expect(Number(totals.signals)).toBe(api.length);
    expect(Number(totals.flagged_users)).toBe(new Set(api.map((s: Row) => s.user_id)).size);
    const bySignal = await run(panel('Signals by type'));
    const shown = new Set(bySignal.map((r) => r.signal));
    for (const c of demo.truth.fraud) expect(shown, c.pattern).toContain(c.signal);
    expect(bySignal.reduce((s, r) => s + Number(r.signals), 0)).toBe(api.length);
  });

  it('experiments: the results table is the api document, with a verdict that follows its p-values', async () => {
    const doc = await eventually(async () => {
      const res = await fetch(`${api.url}/v1/experiments/invite_flow/results`, { headers: { authorization: `Bearer ${tenant.readKey}` } });
      const body = res.status === 200 ? ((await res.json()) as Row) : undefined;
      return body && body.variants.every((v: Row) => v.exposures > 0) ? body : undefined;
    }, 120_000, 'invite_flow results');
    // The panel reads the same (latest) document: wait until both see the same look.
    const rows = await eventually(async () => {
      const r = await run(panel('Results by variant (${experiment})'));
      return r.length && r.every((x, i) => Number(x.exposures) === doc.variants[i].exposures) ? r : undefined;
    }, 60_000, 'the panel on the same results');
    expect(rows.map((r) => r.variant)).toEqual(doc.variants.map((v: Row) => v.variant));
    rows.forEach((r, i) => {
      const v = doc.variants[i];
      expect({
        exposures: Number(r.exposures),
        conversions: Number(r.conversions),
        conversion_rate: r.conversion_rate,
        abs_diff: r.abs_diff,
        abs_diff_ci: r.abs_diff_ci_low === null ? null : [r.abs_diff_ci_low, r.abs_diff_ci_high],
        lift: r.lift,
        lift_ci: r.lift_ci_low === null ? null : [r.lift_ci_low, r.lift_ci_high],
        p_value: r.p_value,
        p_value_holm: r.p_value_holm,
        p_value_sequential: r.p_value_sequential,
        chance_to_beat_control: r.chance_to_beat_control,
        srm_p_value: r.srm_p_value,
        flags: JSON.parse(r.flags),
      }).toEqual(approx({ ...pick(v, ['exposures', 'conversions', 'conversion_rate', 'abs_diff', 'abs_diff_ci', 'lift', 'lift_ci', 'p_value', 'p_value_holm', 'p_value_sequential', 'chance_to_beat_control', 'flags']), srm_p_value: doc.srm_p_value }));
      // invite_flow is a conversion goal (design §6): SRM first, then both p-values below 0.05.
      const expected =
        doc.srm_p_value !== null && doc.srm_p_value < 0.001
          ? VERDICTS.srm
          : v.variant === doc.control
            ? VERDICTS.control
            : v.p_value_sequential === null || v.p_value_holm === null
              ? VERDICTS.noData
              : v.p_value_sequential < 0.05 && v.p_value_holm < 0.05
                ? v.abs_diff > 0
                  ? VERDICTS.better
                  : VERDICTS.worse
                : VERDICTS.notYet;
      expect(r.verdict, v.variant).toBe(expected);
    });

    const revenue = await run(panel('Revenue per exposed user (${experiment})'));
    expect(revenue.map((r) => [r.variant, r.revenue_mean, r.revenue_t, r.revenue_p_value])).toEqual(approx(doc.variants.map((v: Row) => [v.variant, v.revenue.mean, v.revenue.t, v.revenue.p_value])));
    const [srm] = await run(panel('Sample ratio check (${experiment})'));
    expect(srm).toEqual(approx({ srm_status: doc.srm_p_value < 0.001 ? 'SRM detected' : 'no SRM', srm_p_value: doc.srm_p_value, multi_exposure_users: String(doc.multi_exposure_users) }));
  });
});

/**
 * The expected value with every number to 12 significant digits: the panel parses the document's
 * decimal text inside ClickHouse, whose float parser may land one ulp from JavaScript's.
 */
function approx(v: unknown): unknown {
  if (typeof v === 'number' && v !== 0) return expect.closeTo(v, 12 - Math.floor(Math.log10(Math.abs(v))));
  if (Array.isArray(v)) return v.map(approx);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, approx(x)]));
  return v;
}

function pick(o: Row, keys: string[]): Row {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

describe('Prometheus panels use metrics the services export', () => {
  const promPanels = panels.filter((p): p is { dashboard: string; panel: PromPanel } => !isSqlPanel(p.panel));

  it('every metric a PromQL target names is in the /metrics of ingest or the processors', async () => {
    const exposition = (await Promise.all([`${ingest.url}/metrics`, `http://127.0.0.1:${metricsPort}/metrics`].map(async (u) => (await fetch(u)).text()))).join('\n');
    const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const used = new Set(promPanels.flatMap(({ panel: p }) => p.promql.flatMap((q) => [...q.expr.matchAll(/\bviral_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))));
    expect(used.size).toBeGreaterThanOrEqual(4);
    for (const name of used) expect(exported, name).toContain(name);
  });
});
