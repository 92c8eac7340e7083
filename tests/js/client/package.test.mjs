// The client as a user gets it: `npm install <path>` of clients/js and
// `npm install <git URL>` of the repository give an importable module, the
// two package.json files agree, and finch.d.ts type-checks a user's code
// (tsc --strict) and refuses misuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repository = fileURLToPath(new URL('../../../', import.meta.url));
const clientFolder = join(repository, 'clients/js');
const testsFolder = fileURLToPath(new URL('../', import.meta.url));

async function readJson(path) {
  return JSON.parse(await readFile(path, 'utf8'));
}

// A fresh npm project with `spec` installed; removed after the test.
async function installInto(t, spec) {
  const folder = await mkdtemp(join(tmpdir(), 'finch-client-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  await writeFile(join(folder, 'package.json'), JSON.stringify({ name: 'user', private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', spec], { cwd: folder });
  return folder;
}

async function importsTheClient(folder) {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e',
    "import * as finch from 'finch-client'; console.log(Object.keys(finch).sort().join(','))"], { cwd: folder });
  assert.equal(stdout.trim(), 'FinchClient,FinchError,connect');
}

test('the two package.json files describe the same package', async () => {
  const own = await readJson(join(clientFolder, 'package.json'));
  const root = await readJson(join(repository, 'package.json'));
  assert.equal(root.name, own.name);
  assert.equal(root.version, own.version);
  assert.equal(root.type, 'module');
  assert.equal(root.exports['.'].default, './clients/js/' + own.exports['.'].default.replace('./', ''));
  assert.deepEqual(own.dependencies ?? {}, {}, 'the client has no dependencies');
});

test('npm install <path of clients/js>', { timeout: 120000 }, async (t) => {
  await importsTheClient(await installInto(t, clientFolder));
});

test('npm install <git URL of the repository>', { timeout: 120000 }, async (t) => {
  if (!existsSync(join(repository, '.git'))) {
    t.skip('not a git checkout');
    return;
  }
  // The committed tree, as a user cloning it would get it.
  await importsTheClient(await installInto(t, 'git+file://' + repository));
});

test('finch.d.ts type-checks a user\'s code and refuses misuse', { timeout: 120000 }, async (t) => {
  const folder = await installInto(t, clientFolder);
  const usage = join(folder, 'usage.ts');
  await writeFile(usage, await readFile(new URL('./types/usage.ts', import.meta.url)));
  // ws ships no types; the user's code only needs its WebSocket to fit.
  await writeFile(join(folder, 'ws.d.ts'), "declare module 'ws' { export const WebSocket: import('finch-client').WebSocketConstructor; }\n");
  const tsc = join(testsFolder, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '--strict', '--noEmit', '--target', 'es2022', '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', usage, join(folder, 'ws.d.ts')], { cwd: folder })
    .catch((error) => assert.fail(`tsc: ${error.stdout}${error.stderr}`));
});
