import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrokerUnavailableError, ConfigError } from '@nightshift/core';
import { CommandFailure, defineCommand, type Command } from '../src/command.ts';
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
    [['up', '--app', '--verbose'], /^error: --app needs a value, not the option --verbose\nwrite --app=--verbose if that is the value\n$/],
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

test('with --json, an error is one JSON object on stderr with its code and hint, and the same exit code', async () => {
  const cases: Array<[string[], Command[], number, Record<string, unknown>]> = [
    [['--json', 'uo'], [...commands], 2, { code: 'E_USAGE', message: 'unknown command "uo"', hint: `did you mean "nightshift up"? (commands: ${names})` }],
    [['up', '--ap', 'app.ts', '--json'], [...commands], 2, { code: 'E_USAGE', message: 'unknown option --ap for "nightshift up"', hint: 'did you mean --app? (run "nightshift up --help" for its options)' }],
    // Read as the option, as the message says: so the error comes as JSON.
    [['up', '--app', '--json'], [...commands], 2, { code: 'E_USAGE', message: '--app needs a value, not the option --json', hint: 'write --app=--json if that is the value' }],
    [['--json'], [...commands], 2, { code: 'E_USAGE', message: 'no command given', hint: 'nightshift --help lists the commands' }],
    [['fail', '--json'], [failing(new ConfigError('NIGHTSHIFT_PREFIX: bad'))], 2, { code: 'E_CONFIG', message: 'NIGHTSHIFT_PREFIX: bad', hint: null }],
    [['fail', '--json'], [failing(new CommandFailure('worker is not there yet', { code: 'E_SERVICE_MISSING', hint: 'see issue #3' }))], 1, { code: 'E_SERVICE_MISSING', message: 'worker is not there yet', hint: 'see issue #3' }],
    [['fail', '--json'], [failing(new BrokerUnavailableError('RabbitMQ did not answer'))], 1, { code: 'E_BROKER_UNAVAILABLE', message: 'RabbitMQ did not answer', hint: '--verbose or NIGHTSHIFT_DEBUG=1 prints the stack' }],
    [['fail', '--json'], [failing(new Error('disk on fire'))], 1, { code: null, message: 'disk on fire', hint: '--verbose or NIGHTSHIFT_DEBUG=1 prints the stack' }],
  ];
  for (const [argv, registry, exit, error] of cases) {
    const io = testIo();
    assert.equal(await main(argv, io, registry), exit, argv.join(' '));
    assert.equal(io.stderr.lines().length, 1, io.stderr.text);
    assert.deepEqual(io.stderr.records()[0], { error }, argv.join(' '));
    assert.equal(io.stdout.text, '');
  }

  const verbose = testIo();
  assert.equal(await main(['fail', '--json', '--verbose'], verbose, [failing(new Error('disk on fire', { cause: new Error('fan stopped') }))]), 1);
  const { error } = verbose.stderr.records()[0] as { error: Record<string, unknown> };
  assert.deepEqual({ ...error, stack: undefined }, { code: null, message: 'disk on fire', hint: null, stack: undefined });
  assert.match(String(error.stack), /^Error: disk on fire\n {4}at .*\ncaused by: Error: fan stopped\n {4}at /s);

  const afterEnd = testIo();
  assert.equal(await main(['fail', '--', '--json'], afterEnd, [failing(new Error('disk on fire'))]), 2, 'a --json after -- is an argument, not the option');
  assert.match(afterEnd.stderr.text, /^error: /);
});

test('without --json, a CommandFailure is its message and hint, with no offer of a stack, exit 1', async () => {
  const io = testIo();
  assert.equal(await main(['fail'], io, [failing(new CommandFailure('worker is not there yet', { code: 'E_SERVICE_MISSING', hint: 'see issue #3' }))]), 1);
  assert.equal(io.stderr.text, 'error: worker is not there yet\nsee issue #3\n');
});

test('--version prints the package version', async () => {
  const io = testIo();
  assert.equal(await main(['--version'], io), 0);
  assert.match(io.stdout.text, /^\d+\.\d+\.\d+\n$/);
});
