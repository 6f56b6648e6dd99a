import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A repo layout in a temp folder, with the given fake services at `services/<name>/src/main.ts`; removed after the test. */
export async function tempRepo(t: TestContext, services: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'nightshift-up-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'services'));
  for (const [name, source] of Object.entries(services)) {
    await mkdir(join(root, 'services', name, 'src'), { recursive: true });
    await writeFile(join(root, 'services', name, 'src', 'main.ts'), source);
  }
  return root;
}
