// Lint and type-check are part of the test command (issue 2): each is one test here so CI's
// pass/fail count includes them.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 300_000 });

describe('static checks', () => {
  it('type-checks (tsc --noEmit, strict)', () => {
    const r = run('npx', ['tsc', '--noEmit', '-p', '.']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('lints (eslint)', () => {
    const r = run('npx', ['eslint', '.', '--max-warnings', '0']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
