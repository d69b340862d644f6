import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyShare, machineTicks, spawnNode, stopChildren } from './services.ts';

describe('machine CPU share', () => {
  it('is busy over busy + idle between two readings', () => {
    expect(busyShare({ busy: 100, total: 400 }, { busy: 250, total: 600 })).toBe(0.75);
    expect(busyShare({ busy: 100, total: 400 }, { busy: 100, total: 600 })).toBe(0);
  });

  it('is unknown without two readings or without time between them', () => {
    expect(busyShare(undefined, { busy: 1, total: 2 })).toBeUndefined();
    expect(busyShare({ busy: 1, total: 2 }, undefined)).toBeUndefined();
    expect(busyShare({ busy: 1, total: 2 }, { busy: 1, total: 2 })).toBeUndefined();
  });

  it('reads /proc/stat: a second of spinning shows as busy time', () => {
    const a = machineTicks()!;
    expect(a.busy).toBeGreaterThan(0);
    expect(a.total).toBeGreaterThan(a.busy);
    const until = Date.now() + 1000;
    while (Date.now() < until);
    const b = machineTicks()!;
    // This thread alone kept one core busy for ~100 ticks (USER_HZ), whatever else ran.
    expect(b.busy - a.busy).toBeGreaterThanOrEqual(80);
    const share = busyShare(a, b)!;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(1);
  });
});

describe('stopChildren', () => {
  it('ends every child still running: SIGTERM, then SIGKILL for one that ignores it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viral-children-'));
    const polite = join(dir, 'polite.ts');
    const stubborn = join(dir, 'stubborn.ts');
    writeFileSync(polite, "setInterval(() => undefined, 1000); process.stderr.write('up\\n');\n");
    writeFileSync(stubborn, "process.on('SIGTERM', () => undefined); setInterval(() => undefined, 1000); process.stderr.write('up\\n');\n");
    const up = (file: string) => new Promise<ReturnType<typeof spawnNode>>((resolve) => {
      const child = spawnNode(file, [], { onStderr: (line) => line === 'up' && resolve(child) });
    });
    const [a, b] = await Promise.all([up(polite), up(stubborn)]);
    expect(await stopChildren(500)).toBeGreaterThanOrEqual(2);
    expect(a.signalCode).toBe('SIGTERM');
    expect(b.signalCode).toBe('SIGKILL');
    // Nothing left to stop.
    expect(await stopChildren(500)).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);
});
