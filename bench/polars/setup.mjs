/**
 * `npm run bench:setup`: installs nodejs-polars (the bars benchmark's baseline) into
 * bench/polars, outside the project's dependencies. npm skips the native binary because its
 * engines field asks for Node 22 (it runs on Node 20), so the one for this platform is added
 * explicitly.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const version = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')).dependencies['nodejs-polars'];
const libc = process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl';
const suffix = { linux: `linux-${process.arch}-${libc}`, win32: `win32-${process.arch}-msvc` }[process.platform] ?? `${process.platform}-${process.arch}`;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quiet = ['--no-audit', '--no-fund', '--no-package-lock'];
execFileSync(npm, ['install', ...quiet], { cwd: here, stdio: 'inherit' });
execFileSync(npm, ['install', '--no-save', ...quiet, `nodejs-polars-${suffix}@${version}`], { cwd: here, stdio: 'inherit' });
process.stdout.write(`nodejs-polars ${version} (${suffix}) installed in ${here}\n`);
