import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import ts from 'typescript';

/** The repository root (this file compiles to dist/test/shared/). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Every TypeScript source file under a top-level folder, as a path relative to the root. */
function sources(folder: string): string[] {
  return (readdirSync(path.join(ROOT, folder), { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** The project files a source file imports (static, type-only and dynamic), relative to the root. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((imported) => imported.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), name)).replace(/\.js$/, '.ts'));
}

/** The wrong-way imports of `from` files: each as "file → imported". */
function wrongWay(from: string[], forbidden: (imported: string) => boolean): string[] {
  return from.flatMap((file) =>
    importsOf(file)
      .filter(forbidden)
      .map((imported) => `${file} → ${imported}`),
  );
}

const under =
  (...folders: string[]) =>
  (file: string) =>
    folders.some((folder) => file.startsWith(`${folder}/`));
const FEATURES = ['src/bars', 'src/futures', 'src/universes', 'src/scenarios', 'src/patterns'];

describe('architecture', () => {
  it('should see the imports of a file, so the rules below can fail', () => {
    expect(importsOf('workers/runtime.ts')).to.include.members(['jobs/index.ts', 'src/queues/registry.ts']);
  });

  it('should keep src/ below jobs/ and workers/: nothing under src imports them', () => {
    expect(wrongWay(sources('src'), under('jobs', 'workers'))).to.deep.equal([]);
  });

  it('should keep handlers away from the API, scheduler, CLI and worker process', () => {
    expect(wrongWay(sources('jobs'), under('src/api', 'src/scheduler', 'src/cli', 'workers'))).to.deep.equal([]);
  });

  it('should keep src/shared at the bottom: it imports no feature folder', () => {
    expect(wrongWay(sources('src/shared'), under(...FEATURES))).to.deep.equal([]);
  });

  it('should give handlers the store, never the query builder', () => {
    const raw = sources('jobs').filter((file) => /from 'knex'|shared\/db\.js'/.test(readFileSync(path.join(ROOT, file), 'utf8')));
    expect(raw).to.deep.equal([]);
  });
});
