// AppProcessors (core/kafka/run-pipeline.ts): one processor set per app, each fed only its app's
// events in their order, so one app's set can be replaced (erase rebuild) without the others.
import { describe, expect, it } from 'vitest';
import { emptyEvent, type ViralEvent } from '../events/types.ts';
import type { Processor } from '../processor.ts';
import { AppProcessors } from './run-pipeline.ts';

const ev = (app_id: string, event_id: string): ViralEvent => ({ ...emptyEvent(), app_id, event_id, type: 'invite_sent', occurred_at: 0, user_id: 'u', invite_id: event_id });

/** Remembers what it was given and returns one row per event, tagged with its set number. */
function recorder(sets: { seen: string[][] }[]): () => Processor[] {
  return () => {
    const set = { seen: [] as string[][] };
    sets.push(set);
    const make = (name: string): Processor => ({
      name,
      apply: (events) => {
        set.seen.push(events.map((e) => `${name}:${e.app_id}/${e.event_id}`));
        return [{ table: name, rows: events.map((e) => ({ app_id: e.app_id, event_id: e.event_id, set: sets.indexOf(set) })) }];
      },
    });
    return [make('first'), make('second')];
  };
}

describe('AppProcessors', () => {
  it('gives each app its own processors, each app’s events in order, processors in registry order', () => {
    const sets: { seen: string[][] }[] = [];
    const apps = new AppProcessors(recorder(sets));
    const rows = apps.apply([ev('a', '1'), ev('b', '2'), ev('a', '3'), ev('b', '4'), ev('c', '5')], (p, list) => p.apply(list, 0));
    expect(sets.map((s) => s.seen)).toEqual([
      [['first:a/1', 'first:a/3'], ['second:a/1', 'second:a/3']],
      [['first:b/2', 'first:b/4'], ['second:b/2', 'second:b/4']],
      [['first:c/5'], ['second:c/5']],
    ]);
    expect(rows.flatMap((b) => b.rows).length).toBe(10);
    // A later step of one app goes to the same set.
    apps.apply([ev('b', '6'), ev('b', '7')], (p, list) => p.apply(list, 0));
    expect(sets).toHaveLength(3);
    expect(sets[1].seen.slice(2)).toEqual([['first:b/6', 'first:b/7'], ['second:b/6', 'second:b/7']]);
  });

  it('replaces one app’s set and leaves the others', () => {
    const sets: { seen: string[][] }[] = [];
    const apps = new AppProcessors(recorder(sets));
    apps.apply([ev('a', '1'), ev('b', '2')], (p, list) => p.apply(list, 0));
    const rebuilt = new AppProcessors(recorder(sets));
    rebuilt.apply([ev('a', '1')], (p, list) => p.apply(list, 0));
    apps.replace('a', rebuilt.of('a'));
    const rows = apps.apply([ev('a', '3'), ev('b', '4')], (p, list) => p.apply(list, 0)).flatMap((b) => b.rows);
    expect(rows.map((r) => `${r.app_id}/${r.event_id}@${r.set}`)).toEqual(['a/3@2', 'a/3@2', 'b/4@1', 'b/4@1']);
  });
});
