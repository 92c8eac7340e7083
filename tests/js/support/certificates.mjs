// Test certificates for the TLS tests: a test CA and a server certificate for
// localhost and 127.0.0.1 that it signed, made with Debian's openssl by the
// same helper the Python tests use (tests/e2e/certificates.py), in a
// temporary directory that is removed when the process exits.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const helper = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'e2e', 'certificates.py');

// {ca, caKey, cert, key, otherCert, otherKey}: file paths (see certificates.py),
// and caPem, the CA's certificate as text (for ws's `ca` option).
export function makeCertificates() {
  const directory = mkdtempSync(join(tmpdir(), 'finch-tls-js-'));
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  let output;
  try {
    output = execFileSync('/usr/bin/python3', [helper, directory], { encoding: 'utf8', timeout: 30_000 });
  } catch (error) {
    throw new Error(`cannot make the test certificates with ${helper} (needs /usr/bin/python3 and openssl): ` +
      `${error.stderr ?? error.message}`);
  }
  const files = JSON.parse(output);
  return { ...files, caPem: readFileSync(files.ca, 'utf8') };
}

// The arguments that make an example server (finch_demo, chat) serve TLS.
export function tlsArguments(files) {
  return ['--tls-cert', files.cert, '--tls-key', files.key];
}

// A HOME directory for Chromium whose NSS database (~/.pki/nssdb, where
// Chromium on Linux reads the authorities a user added) trusts the test CA
// for servers, made with certutil (Debian's libnss3-tools). Chromium has no
// switch that trusts a CA from a file, so this is how its verification stays
// on. Null when certutil is not installed. Removed when the process exits.
export function chromiumHomeTrusting(files) {
  const certutil = ['/usr/bin/certutil', '/usr/local/bin/certutil'].find((path) => existsSync(path));
  if (!certutil) return null;
  const home = mkdtempSync(join(tmpdir(), 'finch-tls-home-'));
  process.once('exit', () => rmSync(home, { recursive: true, force: true }));
  const database = join(home, '.pki', 'nssdb');
  mkdirSync(database, { recursive: true });
  const run = (...args) => execFileSync(certutil, ['-d', `sql:${database}`, ...args], { timeout: 30_000, stdio: 'pipe' });
  run('-N', '--empty-password');
  run('-A', '-n', 'finch test CA', '-t', 'C,,', '-i', files.ca);
  return home;
}
