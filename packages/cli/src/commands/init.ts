import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CommandFailure, defineCommand, UsageError } from '../command.ts';
import { starterFiles } from '../starter-project.ts';

const usage = `Usage: nightshift init [dir]

Writes a new Nightshift project into dir (default: the working directory): app.ts with one task and one
schedule entry, app.test.ts on @nightshift/testing, package.json (this Nightshift's version), tsconfig.json,
a Dockerfile and docker-compose.yml that run the app on the Nightshift image with RabbitMQ, Redis and
PostgreSQL, and a README. Nothing is overwritten: if any of these files is there, nothing is written.

Examples:
  npx @nightshift/cli init my-app && cd my-app && npm install && npm test`;

export const init = defineCommand({
  name: 'init',
  summary: 'write a new project: an app with a task and a schedule, its test, a compose file',
  usage,
  options: {},
  positionals: true,
  run({ values, positionals }, io) {
    if (positionals.length > 1) throw new UsageError(`"nightshift init" takes one folder, got ${positionals.length}`);
    const dir = resolve(io.cwd, positionals[0] ?? '.');
    const files = starterFiles({ name: basename(dir), nightshiftVersion: ownVersion() });
    const present = [...files.keys()].filter((file) => existsSync(join(dir, file)));
    if (present.length > 0) {
      throw new CommandFailure(`${dir} already has ${present.join(', ')}; nothing was written`, { code: 'E_INIT_EXISTS', hint: 'name a new folder: nightshift init my-app' });
    }
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of files) writeFileSync(join(dir, file), content);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ dir, files: [...files.keys()] })}\n`);
    } else {
      io.stdout.write(`wrote ${[...files.keys()].join(', ')} in ${dir}\nnext: cd ${positionals[0] ?? '.'} && npm install && npm test\n`);
    }
    return 0;
  },
});

function ownVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
