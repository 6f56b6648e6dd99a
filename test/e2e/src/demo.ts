// `npm run demo`: the 3 AM suite told to a person. Each disaster of the lecture's while-True scheduler is done
// for real to Nightshift (`nightshift up` on this machine's RabbitMQ, Redis and PostgreSQL), narrated in plain
// words, and judged with the same checks the tests assert. The services' own lines go to a log file, named at
// the end. Exit code 0 when every check held.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Check } from './scenario.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { closeOpenStacks } from './stack.ts';

const color = process.stdout.isTTY === true && (process.env.NO_COLOR ?? '') === '';
const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = (text: string) => paint(1, text);
const dim = (text: string) => paint(2, text);
const say = (line = '') => process.stdout.write(`${line}\n`);

const logFile = join(tmpdir(), `nightshift-3am-demo-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  say(`\n${bold('Ctrl-C')}: stopping the services and deleting what the demo made (Ctrl-C again to leave it behind)…`);
  void closeOpenStacks().finally(() => process.exit(130));
});

const startedAt = Date.now();
say(bold('Nightshift: the 3 AM demo'));
say('The lecture\'s scheduler was a while-True loop. Here is what went wrong with it at 3 AM, done for real');
say('to Nightshift — `nightshift up` on this machine\'s RabbitMQ, Redis and PostgreSQL — and what it did about it.');
say(dim('(about a minute and a half; every check below is one the test suite asserts)'));

const results: { title: string; checks: readonly Check[] }[] = [];
for (const [index, scenario] of SCENARIOS.entries()) {
  say();
  say(bold(`${index + 1}/${SCENARIOS.length}  ${scenario.title}`));
  say(`     The disaster: ${scenario.disaster}.`);
  say(dim(`     With the while-True script: ${scenario.withoutNightshift}.`));
  const began = Date.now();
  let checks: readonly Check[];
  try {
    ({ checks } = await scenario.run({ narrate: (line) => say(`     · ${line}`), logFile }));
  } catch (error) {
    checks = [{ claim: 'the scenario ran to the end', ok: false, evidence: error instanceof Error ? error.message : String(error) }];
  }
  for (const check of checks) {
    say(`     ${check.ok ? paint(32, '✓') : paint(31, '✗')} ${check.claim} ${dim(`— ${check.evidence}`)}`);
  }
  say(dim(`     (${Math.round((Date.now() - began) / 1000)} s)`));
  results.push({ title: scenario.title, checks });
}

const all = results.flatMap((r) => r.checks);
const failed = results.filter((r) => r.checks.some((c) => !c.ok));
say();
if (failed.length === 0) {
  say(bold(`${paint(32, '✓')} All ${results.length} disasters handled: ${all.length} of ${all.length} checks held, in ${Math.round((Date.now() - startedAt) / 1000)} s.`));
} else {
  say(bold(`${paint(31, '✗')} ${failed.length} of ${results.length} disasters not handled as promised: ${failed.map((r) => r.title).join('; ')}.`));
}
say(`The services' own log lines: ${logFile}`);
say(dim('Everything the demo made (queues, Redis keys, database schemas) has been deleted.'));
process.exitCode = failed.length === 0 ? 0 : 1;
