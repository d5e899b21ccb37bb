// The front door: every bad command line, and a scenario's own broken code, is one `mmrace:` line
// on stderr with the documented exit code, no stack trace, and no process left in the command's
// process group. Each case runs the built command as a user would (test/helpers/cli.ts), two at a
// time (one per core).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLine, mmraceAlone } from './helpers/cli.js';

const ID = 'oom-reaper-vs-exit-mmap-2017';
const dir = mkdtempSync(join(tmpdir(), 'mmrace-cli-'));
mkdirSync(join(dir, 'out.v4.14.json')); // a per-variant trace name that is a directory

describe.concurrent('bad command lines: one line, exit 2, nothing left running', () => {
  it.each([
    [['frobnicate'], /^mmrace: unknown command 'frobnicate'; commands: list, repro/],
    [['lst'], /unknown command 'lst' \(Did you mean list\?\)/],
    [['help', 'nosuch'], /unknown command 'nosuch'/],
    [['repro', ID, '--rnus', '3'], /^mmrace: unknown option '--rnus' \(Did you mean --runs\?\)$/m],
    [['repro'], /^mmrace: missing required argument 'id'/],
    // Once ran the whole catalogue, ignoring the word.
    [['catalogue', ID], /^mmrace: too many arguments for 'catalogue'. Expected 0 arguments but got 1\.$/m],
    [['repro', ID, 'v4.14'], /^mmrace: too many arguments for 'repro'. Expected 1 argument but got 2\.$/m],
    [['repro', ID, '--variant', ''], /--variant needs a name/],
    [
      ['repro', ID, '--variant', 'v4.15', '--trace', '/sys/t.json'],
      /--trace \/sys\/t\.json: cannot be written/,
    ],
    [['repro', ID, '--trace', join(dir, 'out.json')], /out\.v4\.14\.json is a directory/],
    // 14 characters that once expanded to 50 M picks (8 s, 2.6 GB) before any bound was checked.
    [['replay', ID, 'S1:3:a49999999'], /longer than the run limit of 2000000 decisions/],
    [['replay', ID, 'S1:3:a2x'], /schedule: unexpected 'x' at offset 2/],
    [['repro', ID, '--points', 'atomic'], /--points atomic needs --mode controlled/],
    [['repro', ID, '--strategy', 'pct', '--no-jitter'], /^mmrace: --no-jitter is for free mode/m],
    [['repro', ID, '--points', 'fine'], /argument 'fine' is invalid. Allowed choices are coarse, atomic/],
    [
      ['run', 'test/fixtures/user/setup-throws.mjs'],
      /setup threw RangeError: the world is too small at buildWorld \(test\/fixtures\/user\/setup-throws\.mjs:6\)/,
    ],
    [
      ['run', 'test/fixtures/user/wrong-arity.mjs'],
      /setup threw TypeError: .* at setup \(test\/fixtures\/user\/wrong-arity\.mjs:14\)/,
    ],
    [
      ['run', 'test/fixtures/user/setup-once-not-repeatable.mjs'],
      /declares setupOnce, but a second setup built another arena \(word \d+, region slab:\w+\)/,
    ],
  ])('%j', async (args, message) => {
    const r = await mmraceAlone(args);
    expectOneLine(r, 2, message);
    expect(r.stdout).toBe(''); // refused before any run
  });

  it('help and help <command> print usage on stdout and exit 0', async () => {
    const r = await mmraceAlone(['help', 'repro']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: mmrace repro \[options\] <id>/);
    expect(r.stdout).toMatch(/--variant/);
    expect((await mmraceAlone(['help'])).stdout).toMatch(/Commands:[\s\S]*torture/);
  });
});

describe.concurrent('a scenario that leaves out the optional fields', () => {
  it('runs: jitter and checks default (free and controlled mode)', async () => {
    for (const mode of ['free', 'controlled']) {
      const r = await mmraceAlone(['run', 'test/fixtures/user/no-jitter.mjs', '--runs', '5', '--mode', mode]);
      expect({ code: r.code, stderr: r.stderr, leftover: r.leftover }).toEqual({
        code: 0,
        stderr: '',
        leftover: false,
      });
      expect(r.stdout).toMatch(/no-jitter +any +clean +clean +0\/5 /);
    }
  });
});

describe.concurrent('runs that end in an error say so on stderr (exit 3)', () => {
  it('a truncated schedule: the divergence is a stderr line, not only a table cell', async () => {
    const r = await mmraceAlone(['replay', ID, 'S1:3:a2', '--variant', 'v4.15']);
    expectOneLine(
      r,
      3,
      /v4\.15: controlled run stopped: run 0: schedule diverged: the run went on past the schedule's 2 decisions/,
    );
  });

  it('a lenient replay that leaves its schedule notes where, on stderr', async () => {
    const r = await mmraceAlone([
      'replay',
      ID,
      'S1:3:a2',
      '--variant',
      'v4.15',
      '--on-divergence',
      'continue',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^mmrace: .* v4\.15: run 0 left the schedule: the run went on past the schedule's 2 decisions\n$/,
    );
  });

  it('a setup that throws in a later run: exit 3, the run named, the machine stopped', async () => {
    const r = await mmraceAlone(['run', 'test/fixtures/user/setup-throws-later.mjs', '--runs', '5']);
    expectOneLine(
      r,
      3,
      /setup of run 2 threw Error: out of fresh worlds at setup \(test\/fixtures\/user\/setup-throws-later\.mjs:18\)/,
    );
    expect(r.stdout).toMatch(/setup-throws-later +any +clean +error +0\/2 /);
  });

  it("a final check that throws is the scenario's error, with its frame", async () => {
    const r = await mmraceAlone(['run', 'test/fixtures/user/check-throws.mjs', '--runs', '3']);
    expectOneLine(
      r,
      3,
      /final check 'counts' threw TypeError: .* at countsCheck \(test\/fixtures\/user\/check-throws\.mjs:19\)/,
    );
  });
});

describe.concurrent('standard output as a pipeline stage', () => {
  const repro = `MMRACE repro ${ID} --variant v4.15 --runs 5`;
  it.each([
    [`${repro} --json | head -c 10`, '{\n  "schem'],
    [`${repro} | true`, ''],
  ])('%s ends quietly with the verdict code', async (shell, out) => {
    const r = await mmraceAlone([], { shell: `${shell}; echo "rc=\${PIPESTATUS[0]}" >&2` });
    expect(r.leftover).toBe(false);
    expect(r.stdout).toBe(out);
    expect(r.stderr).toBe('rc=0\n'); // no Node stack, the verdict's code
  });

  it('> /dev/full: one line and exit 2', async () => {
    const r = await mmraceAlone([], { shell: `${repro} > /dev/full` });
    expectOneLine(r, 2, /^mmrace: cannot write to standard output: ENOSPC$/m);
  });
});

describe.concurrent("a scenario file's replay command", () => {
  it('is `mmrace run <file> --replay`, and it replays', async () => {
    const args = ['run', 'test/fixtures/abba.mjs', '--variant', 'rendezvous', '--strategy', 'random'];
    const r = await mmraceAlone([...args, '--runs', '2', '--seed', '3']);
    expect(r.code).toBe(0);
    const m =
      /replay it: mmrace run test\/fixtures\/abba\.mjs --replay '(S1:2:[a-z0-9]+)' --variant rendezvous/.exec(
        r.stdout,
      );
    expect(m).not.toBeNull();
    const again = await mmraceAlone([
      'run',
      'test/fixtures/abba.mjs',
      '--replay',
      m![1]!,
      '--variant',
      'rendezvous',
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/rendezvous +reproduces +reproduces +1\/1/);
    const viaReplay = await mmraceAlone([
      'replay',
      'test/fixtures/abba.mjs',
      m![1]!,
      '--variant',
      'rendezvous',
    ]);
    expect(viaReplay.code).toBe(0);
  });
});

describe.concurrent('the leftover-process check itself', () => {
  it('sees a process the command left running in its group, and not a finished one', async () => {
    const left = await mmraceAlone([], { shell: 'sleep 30 >/dev/null 2>&1 & echo started' });
    expect(left.leftover).toBe(true); // mmraceAlone killed it after seeing it
    const clean = await mmraceAlone([], { shell: 'sleep 0.1; echo done' });
    expect(clean.leftover).toBe(false);
  });
});

describe.concurrent('--shard and merge: bad input is one line, exit 2', () => {
  const notJson = join(dir, 'not-json.json');
  writeFileSync(notJson, 'mmrace: not a JSON output\n');
  it.each([
    [
      ['repro', ID, '--shard', '0/4'],
      /option '--shard <i\/n>' argument '0\/4' is invalid. expected i\/n with 1 <= i <= n/,
    ],
    [['repro', ID, '--shard', '5/4'], /argument '5\/4' is invalid/],
    [['repro', ID, '--shard', '2'], /argument '2' is invalid/],
    [['repro', ID, '--shard', '1/0'], /argument '1\/0' is invalid/],
    [['repro', ID, '--shard', 'a/b'], /argument 'a\/b' is invalid/],
    [['run', 'test/fixtures/user/no-jitter.mjs', '--shard', '-1/2'], /argument '-1\/2' is invalid/],
    [['--shard', '3/2'], /argument '3\/2' is invalid/],
    [
      ['repro', ID, '--shard', '1/2', '--replay', 'S1:3:a5'],
      /--shard splits a campaign; a --replay runs one schedule/,
    ],
    [
      ['repro', ID, '--shard', '1/2', '--stop-on-hit'],
      /--stop-on-hit ends a campaign early; --shard needs every run of its part/,
    ],
    [['merge'], /missing required argument 'results'/],
    [['merge', join(dir, 'nosuch.json')], /merge: cannot read .*nosuch\.json: ENOENT/],
    [['merge', notJson], /merge: .*not-json\.json is not JSON/],
  ])(
    '%j',
    async (args, message) => {
      const r = await mmraceAlone(args);
      expectOneLine(r, 2, message);
      expect(r.stdout).toBe('');
    },
    30_000,
  );
});
