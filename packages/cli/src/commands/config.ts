import { ConfigProblems, describeUnknownSetting, settingStates, unknownSettings, type SettingState } from '@nightshift/core';
import { defineCommand, UsageError, type Io } from '../command.ts';
import { NIGHTSHIFT_SERVICES } from '../nightshift-services.ts';

const SERVICES = NIGHTSHIFT_SERVICES.map((s) => s.name);

const usage = `Usage: nightshift config [--service <name>]

Shows every setting Nightshift reads: the value in effect and where it came from, the environment
or the default. Secrets are masked (tokens and dashboard passwords as ***, and the password in
every URL). Nothing else is read: no .env file, no flag. A service's flags (--grace, --concurrency)
override their variable for that service alone.

A NIGHTSHIFT_* variable that no part of Nightshift reads (a typo) is named with a warning. A bad
value is shown, then every bad value is reported by its variable and the exit code is 2.

Options:
      --service <name>   only the settings of one service: ${SERVICES.join(', ')}

Examples:
  nightshift config
  NIGHTSHIFT_PREFIX=shop nightshift config --service worker
  nightshift config --json | jq -r 'select(.source == "environment") | .name'`;

export const config = defineCommand({
  name: 'config',
  summary: 'show each setting in effect (secrets masked) and where it came from',
  usage,
  options: { service: { type: 'string' } },
  async run({ values }, io) {
    const service = values.service;
    if (service !== undefined && !SERVICES.includes(service)) {
      throw new UsageError(`--service: ${JSON.stringify(service)} is not a Nightshift service`, `the services are: ${SERVICES.join(', ')}`);
    }
    // Loaded here, not with the command list: it imports every service.
    const catalogue = await import('../settings-catalogue.ts');
    const settings = service === undefined ? catalogue.NIGHTSHIFT_SETTINGS : catalogue.SERVICE_SETTINGS.get(service) ?? [];
    const states = settingStates(settings, io.env);
    // A variable of another service is no typo, whichever service is shown.
    const unknown = unknownSettings(io.env, catalogue.NIGHTSHIFT_SETTINGS);
    if (values.json) {
      for (const state of states) io.stdout.write(`${JSON.stringify(jsonRecord(state, catalogue.readers(state.setting)))}\n`);
      for (const each of unknown) io.stderr.write(`${JSON.stringify({ warning: { ...each, message: describeUnknownSetting(each) } })}\n`);
    } else {
      io.stdout.write(table(states));
      for (const each of unknown) io.stderr.write(`warning: ${describeUnknownSetting(each)}\n`);
    }
    reportProblems(states, io);
    return 0;
  },
});

function jsonRecord({ setting, shown, source, problem }: SettingState, readBy: readonly string[]): object {
  return {
    name: setting.name, value: shown ?? null, source, secret: setting.secret !== undefined,
    default: setting.defaultText, readBy, description: setting.description, problem: problem ?? null,
  };
}

function table(states: readonly SettingState[]): string {
  const rows = [['setting', 'value', 'from'], ...states.map(({ setting, shown, source, problem }) => [
    setting.name,
    shown ?? `(${setting.defaultText === '—' ? 'not set' : setting.defaultText.replaceAll('`', '')})`,
    problem === undefined ? source : `${source}: invalid`,
  ])];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  return rows.map((row) => row.map((text, column) => (column < 2 ? text.padEnd(widths[column] as number) : text)).join('  ')).join('\n') + '\n';
}

/** @throws ConfigError naming every variable whose value is refused (the dispatcher prints it, exit 2). */
function reportProblems(states: readonly SettingState[], io: Io): void {
  const collected = new ConfigProblems(io.env);
  for (const { setting, problem } of states) if (problem !== undefined) collected.add(setting.name, problem);
  collected.finish({});
}
