import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@nightshift/core';
import { defineCommand, type Command } from '../src/command.ts';
import { commands } from '../src/commands/index.ts';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

const names = commands.map((c) => c.name).join(', ');

const seen: Array<{ values: unknown; positionals: readonly string[] }> = [];
const echo = defineCommand({
  name: 'echo',
  summary: 'says what it was given',
  usage: 'Usage: nightshift echo [--loud] <words...>',
  options: { loud: { type: 'boolean', default: false }, times: { type: 'string' } },
  positionals: true,
  run({ values, positionals }, io) {
    seen.push({ values, positionals });
    const text = values.loud ? positionals.join(' ').toUpperCase() : positionals.join(' ');
    io.stdout.write(values.json ? `${JSON.stringify({ text })}\n` : `${text}\n`);
    return 0;
  },
});
const failing = (error: unknown): Command => defineCommand({ name: 'fail', summary: 'throws', usage: 'Usage: nightshift fail', options: {}, run: () => { throw error; } });

test('--help lists the commands; help <command> and <command> --help print its usage', async () => {
  const io = testIo();
  assert.equal(await main(['--help'], io), 0);
  assert.match(io.stdout.text, /^Usage: nightshift <command> \[options\]$/m);
  assert.match(io.stdout.text, /^ {2}up +run every Nightshift service of an app, restarting any that crash$/m);
  assert.match(io.stdout.text, /^ {2}help {2}/m);

  for (const argv of [['help', 'up'], ['up', '--help'], ['up', '-h'], ['--help', 'up']]) {
    const each = testIo();
    assert.equal(await main(argv, each), 0, argv.join(' '));
    assert.match(each.stdout.text, /^Usage: nightshift up --app <path>/, argv.join(' '));
    assert.match(each.stdout.text, /^Examples:\n {2}nightshift up --app examples\/factory\/app\.ts$/m);
    assert.match(each.stdout.text, /^ {6}--json {6}/m, 'the common options are listed');
    assert.equal(each.stderr.text, '');
  }
});

test('help --help prints the help of help; help with another option is a usage error', async () => {
  for (const argv of [['help', '--help'], ['help', '-h']]) {
    const io = testIo();
    assert.equal(await main(argv, io), 0, argv.join(' '));
    assert.match(io.stdout.text, /^Usage: nightshift help \[<command>\]\n/);
    assert.equal(io.stderr.text, '');
  }
  const bare = testIo();
  assert.equal(await main(['help'], bare), 0);
  assert.match(bare.stdout.text, /^Usage: nightshift <command> \[options\]$/m);
  const wrong = testIo();
  assert.equal(await main(['help', '--verbose'], wrong), 2);
  assert.equal(wrong.stderr.text, 'error: unknown option --verbose for "nightshift help"\nnightshift help <command> prints the help of a command; nightshift --help lists the commands\n');
});

test('no command at all prints the usage to stderr and exits 2', async () => {
  const io = testIo();
  assert.equal(await main([], io), 2);
  assert.match(io.stderr.text, /^Usage: nightshift <command>/m);
});

test('an unknown command is one line, with the closest command as a suggestion, exit 2', async () => {
  const io = testIo();
  assert.equal(await main(['uo', '--app', 'x.ts'], io), 2);
  assert.equal(io.stderr.text, `error: unknown command "uo"\ndid you mean "nightshift up"? (commands: ${names})\n`);
  assert.equal(io.stdout.text, '');

  const far = testIo();
  assert.equal(await main(['deploy'], far), 2);
  assert.equal(far.stderr.text, `error: unknown command "deploy"\nthe commands are: ${names} (nightshift --help says more)\n`);

  const other = testIo();
  assert.equal(await main(['ecoh', 'hi'], other, [echo]), 2);
  assert.match(other.stderr.text, /did you mean "nightshift echo"\?/);
});

test('an unknown or misused option is a usage error naming the closest option, exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['up', '--ap', 'app.ts'], /^error: unknown option --ap for "nightshift up"\ndid you mean --app\? /],
    [['up', '--app'], /^error: --app needs a value\n/],
    [['up', '--app', '--json'], /^error: --app needs a value, not the option --json\nwrite --app=--json if that is the value\n$/],
    [['up', '--json=yes'], /^error: --json takes no value\n/],
    [['up', 'extra'], /^error: "nightshift up" takes no arguments, got "extra"\n/],
    [['--jsno', 'up'], /^error: unknown option --jsno\ndid you mean --json\?/],
    [['echo', '-x'], /^error: unknown option -x for "nightshift echo"\nrun "nightshift echo --help" for its options\n$/],
  ];
  for (const [argv, expected] of cases) {
    const io = testIo();
    assert.equal(await main(argv, io, [echo, ...commands]), 2, argv.join(' '));
    assert.match(io.stderr.text, expected, argv.join(' '));
  }
});

test('a command gets its typed options, the common ones, and its positionals', async () => {
  seen.length = 0;
  const io = testIo();
  assert.equal(await main(['--json', 'echo', '--loud', 'hello', 'night'], io, [echo]), 0);
  assert.equal(io.stdout.text, '{"text":"HELLO NIGHT"}\n');
  assert.deepEqual(seen[0], { values: { loud: true, json: true, verbose: false }, positionals: ['hello', 'night'] });
});

test('`up` with a missing app file prints the ConfigError as one line, exit 2', async () => {
  const io = testIo({ cwd: '/tmp' });
  assert.equal(await main(['up', '--app', 'missing-app.ts'], io), 2);
  assert.equal(io.stderr.text, 'error: --app missing-app.ts: no such file (looked for /tmp/missing-app.ts)\n');
  assert.equal(io.stdout.text, '');
});

test('a ConfigError is one line without a stack; another error says how to see its stack', async () => {
  const config = testIo();
  assert.equal(await main(['fail', '--verbose'], config, [failing(new ConfigError('NIGHTSHIFT_PREFIX: bad'))]), 2);
  assert.equal(config.stderr.text, 'error: NIGHTSHIFT_PREFIX: bad\n');

  const plain = testIo();
  assert.equal(await main(['fail'], plain, [failing(new Error('disk on fire'))]), 1);
  assert.equal(plain.stderr.text, 'error: disk on fire (--verbose or NIGHTSHIFT_DEBUG=1 prints the stack)\n');

  const verbose = testIo();
  assert.equal(await main(['fail', '--verbose'], verbose, [failing(new Error('disk on fire', { cause: new Error('fan stopped') }))]), 1);
  assert.match(verbose.stderr.text, /^error: Error: disk on fire\n {4}at /);
  assert.match(verbose.stderr.text, /\ncaused by: Error: fan stopped\n {4}at /);

  const debug = testIo({ env: { NIGHTSHIFT_DEBUG: '1' } });
  assert.equal(await main(['fail'], debug, [failing(new Error('disk on fire'))]), 1);
  assert.match(debug.stderr.text, /\n {4}at /);
});

test('--version prints the package version', async () => {
  const io = testIo();
  assert.equal(await main(['--version'], io), 0);
  assert.match(io.stdout.text, /^\d+\.\d+\.\d+\n$/);
});
