// The series worker (api/series-refresher.ts) gives the same bytes as building the answer on the
// event loop, and reports ClickHouse's errors without stopping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { inject } from 'vitest';
import { createLogger } from '../core/log.ts';
import { makeTenant, testClickHouse } from '../core/testing/services.ts';
import { coefficientQuery } from './queries/viral.ts';
import { buildSeries, type SeriesJob } from './series.ts';
import { createSeriesRefresher, type SeriesRefresher } from './series-refresher.ts';

const ch = testClickHouse();
const tenant = makeTenant('series');
const HOUR = 3600;
const start = Math.floor(Date.UTC(2026, 10, 1) / 1000);
let refresher: SeriesRefresher;

beforeAll(async () => {
  const channels = ['email', 'sms', 'link'];
  const rows = Array.from({ length: 300 }, (_, i) => ({
    app_id: tenant.appId,
    granularity: 'hour',
    window_start: start + Math.floor(i / 3) * HOUR,
    channel: channels[i % 3],
    invites_sent: 10 + i,
    inviters: 3 + (i % 7),
    invites_accepted: i % 11,
    conversion_rate: (i % 11) / (10 + i),
    invites_per_inviter: (10 + i) / (3 + (i % 7)),
    k_factor: ((i % 11) / (10 + i)) * ((10 + i) / (3 + (i % 7))),
    version: 1,
  }));
  await ch.insert('viral.kfactor_windows', rows);
  refresher = createSeriesRefresher({ url: inject('clickhouseUrl') }, createLogger('fatal'));
});
afterAll(async () => {
  await refresher?.close();
  await ch.close();
});

describe('series worker', () => {
  const statement = coefficientQuery(tenant.appId, 'hour', start * 1000, (start + 100 * HOUR) * 1000).text;

  it('builds the same JSON and Arrow answers as the event loop, gzipped the same', async () => {
    for (const arrow of [false, true]) {
      const job: SeriesJob = { route: 'coefficient', statement, granularity: 'hour', arrow };
      const [inWorker, inThread] = await Promise.all([refresher.build(job), buildSeries(ch, job)]);
      expect(inWorker.contentType).toBe(inThread.contentType);
      expect(Buffer.compare(Buffer.from(inWorker.body), Buffer.from(inThread.body))).toBe(0);
      expect(gunzipSync(inWorker.gzip!).equals(Buffer.from(inThread.body))).toBe(true);
      if (!arrow) {
        const parsed = JSON.parse(inWorker.body.toString()) as { granularity: string; series: { invites_sent: number; channel: string }[] };
        expect(parsed.granularity).toBe('hour');
        expect(parsed.series).toHaveLength(300);
        expect(parsed.series.reduce((s, r) => s + r.invites_sent, 0)).toBe(300 * 10 + (299 * 300) / 2);
      }
    }
  });

  it('rejects with ClickHouse’s error and keeps serving', async () => {
    const bad: SeriesJob = { route: 'cohorts', statement: 'SELECT no_such_column FROM viral.cohort_windows', granularity: 'day', arrow: false };
    await expect(refresher.build(bad)).rejects.toThrow(/no_such_column/);
    const ok = await refresher.build({ route: 'coefficient', statement, granularity: 'hour', arrow: false });
    expect(JSON.parse(ok.body.toString()).series).toHaveLength(300);
  });
});
