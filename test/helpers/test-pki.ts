/**
 * A throwaway certificate authority made with the real `openssl` for TLS tests: a CA and server
 * certificates it signs for 127.0.0.1 and localhost, in a temp folder removed at teardown. A client
 * that trusts `caPem` verifies the gateway; one that does not must fail.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { connect as tlsConnect } from 'node:tls';

export interface ServerCert {
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint as Node's X509Certificate prints it. */
  fingerprint256: string;
}

export interface TestPki {
  dir: string;
  caPem: string;
  /** A new server certificate (new key) signed by the CA, in files named after `name`. */
  issue(name: string, cn?: string): Promise<ServerCert>;
  /** Copies `from`'s certificate and key over `to`'s files (a renewal in place, as certbot does). */
  install(from: ServerCert, to: ServerCert): Promise<void>;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export async function makeTestPki(t: TestContext): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'podterm-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-days', '2', '-subj', '/CN=podterm test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const caPem = await readFile(join(dir, 'ca.crt'), 'utf8');
  let serial = 1;
  return {
    dir,
    caPem,
    async issue(name, cn = 'podterm test server') {
      const key = join(dir, `${name}.key`);
      const cert = join(dir, `${name}.crt`);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
      await writeFile(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial++), '-days', '2', '-out', cert, '-extfile', `${name}.ext`], dir);
      return { certFile: cert, keyFile: key, fingerprint256: new X509Certificate(await readFile(cert)).fingerprint256 };
    },
    async install(from, to) {
      await copyFile(from.certFile, to.certFile);
      await copyFile(from.keyFile, to.keyFile);
    },
  };
}

/** The SHA-256 fingerprint of the certificate a new, verifying TLS connection is served. */
export function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
      const fp = s.getPeerX509Certificate()?.fingerprint256 ?? '';
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

