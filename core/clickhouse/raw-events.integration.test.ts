// The raw sink's rows through the real ClickHouse: events written as the raw sink writes them
// (toRawRow, JSONEachRow) come back from `viral.events` as the restore reads them (RAW_SELECT +
// fromRawRow) equal to what was written, hostile strings included (design §4 restart).
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { testClickHouse, makeTenant } from '../testing/services.ts';
import { emptyEvent, type ViralEvent } from '../events/types.ts';
import { raw, sql, str } from './sql.ts';
import { fromRawRow, RAW_SELECT, RAW_TABLE, toRawRow } from './raw-events.ts';

const ch = testClickHouse();
afterAll(() => ch.close());

const HOSTILE = ['a\tb', 'line1\nline2', 'back\\slash', '\\N', 'quote\'s "double"', 'a\0b\x01\x1f\x7f\r\b\f', 'ünïcødé — 中文 — 😀👍🏽 — \u200b\uFEFF', ''];

function event(appId: string, i: number, s: string): ViralEvent {
  return {
    ...emptyEvent(),
    app_id: appId,
    event_id: `e-${i}`,
    type: i % 2 ? 'purchase' : 'invite_sent',
    occurred_at: 1_764_000_000_000 + i * 1_001,
    // Whole seconds: viral.events keeps received_at in seconds (the version column keeps the ms).
    received_at: 1_764_000_100_000 + i * 1000,
    user_id: `u-${i}${s}`,
    device_hash: s,
    ip_hash: 'ip',
    invite_id: s,
    channel: i % 2 ? '' : 'sms',
    variant: s,
    recipient_domain: s,
    referrer_id: s,
    order_id: s,
    amount: i % 2 ? 1234.5678 : 0,
    currency: i % 2 ? 'EUR' : '',
    experiment_id: s,
    reward_id: s,
    properties: { s, nested: { list: [1, 'two', s] } },
  };
}

async function readBack(appId: string): Promise<{ events: ViralEvent[]; versions: number[] }> {
  const rows = await ch.query<Record<string, unknown>>(sql`SELECT ${raw(RAW_SELECT)}, version FROM viral.events WHERE app_id = ${str(appId)} ORDER BY occurred_at, occurred_ms`);
  return { events: rows.map(fromRawRow), versions: rows.map((r) => Number(r.version)) };
}

describe('viral.events rows: written, then read back for a restore', () => {
  it('hostile strings in every string column come back unchanged', async () => {
    const appId = makeTenant('raw').appId;
    const events = HOSTILE.map((s, i) => event(appId, i, s));
    await ch.insert(`viral.${RAW_TABLE}`, events.map(toRawRow));
    const back = await readBack(appId);
    expect(back.events).toEqual(events);
    expect(back.versions).toEqual(events.map((e) => e.received_at));
  });

  it('any unicode strings come back unchanged (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { minLength: 1, maxLength: 8 }), async (strings) => {
        const appId = makeTenant('rawp').appId;
        const events = strings.map((s, i) => event(appId, i, s));
        await ch.insert(`viral.${RAW_TABLE}`, events.map(toRawRow));
        expect((await readBack(appId)).events).toEqual(events);
      }),
      { numRuns: 25 },
    );
  });
});
