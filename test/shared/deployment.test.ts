import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { settingsTable } from '../../src/shared/config.js';

const ROOT = new URL('../../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, ROOT), 'utf8');
const KNOWN = new Set(settingsTable().map((setting) => setting.env));

/** compose.yaml's top-level blocks and services, each with its lines. */
function composeBlocks(text: string): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  let current: string[] = [];
  let inServices = false;
  for (const line of text.split('\n')) {
    const top = /^([\w-]+):/.exec(line);
    const service = /^ {2}([\w-]+):\s*$/.exec(line);
    if (top) {
      inServices = top[1] === 'services';
      blocks.set(top[1], (current = []));
    } else if (service && inServices) blocks.set(`service ${service[1]}`, (current = []));
    else current.push(line);
  }
  return blocks;
}

/** The variables a block sets under `environment:` (KEY: value lines indented below it). */
function environmentKeys(lines: string[]): string[] {
  const keys: string[] = [];
  let indent: number | undefined;
  for (const line of lines) {
    const depth = line.length - line.trimStart().length;
    if (/^\s*environment:/.test(line)) indent = depth;
    else if (indent !== undefined && line.trim() !== '' && depth <= indent) indent = undefined;
    else if (indent !== undefined) {
      const key = /^\s*([A-Z][A-Z0-9_]*):/.exec(line);
      if (key) keys.push(key[1]);
    }
  }
  return keys;
}

describe('deployment files', () => {
  it('should set and interpolate only variables the config knows in the tickforge services of compose.yaml', () => {
    const compose = read('compose.yaml');
    const blocks = composeBlocks(compose);
    const tickforge = [...blocks].filter(
      ([name, lines]) => name === 'x-tickforge' || lines.some((line) => line.includes('<<: *tickforge')),
    );
    expect(tickforge.map(([name]) => name)).to.include.members([
      'x-tickforge',
      'service migrate',
      'service web',
      'service worker',
      'service scheduler',
    ]);
    const used = new Set(tickforge.flatMap(([, lines]) => environmentKeys(lines)));
    for (const match of compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)) used.add(match[1]);
    expect(used).to.include('DATABASE_URL').and.include('TICKFORGE_API_TOKEN');
    expect([...used].filter((name) => !KNOWN.has(name))).to.deep.equal([]);
  });

  it('should list every setting in .env.example, and nothing else', () => {
    const listed = [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect(listed.filter((name) => !KNOWN.has(name))).to.deep.equal([]);
    expect([...KNOWN].filter((name) => !listed.includes(name))).to.deep.equal([]);
  });
});
