/**
 * The certificate and key of `--tls-cert`/`--tls-key`, checked before uWS sees them: uWS only says
 * "App construction failed" for a missing file, an unreadable one, a key that is not a key or a pair
 * that does not match, and the operator needs to know which. Checked at start (the CLI refuses to
 * start: never a silent fallback to plain HTTP) and on every reload (a bad renewal keeps the
 * certificate being served). uWS reads the files itself, by name (uSockets
 * `us_socket_context_options_t`), so they are read here only to check them.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TlsFiles {
  /** PEM: the server certificate, then any intermediates (the chain the client is sent). */
  certFile: string;
  /** PEM: the certificate's private key, unencrypted. */
  keyFile: string;
}

export type TlsFileProblem = 'missing' | 'unreadable' | 'not-a-certificate' | 'not-a-key' | 'mismatch';

export class TlsFilesError extends Error {
  override readonly name = 'TlsFilesError';
  constructor(
    readonly problem: TlsFileProblem,
    message: string,
  ) {
    super(message);
  }
}

/** What the log and the reload answer say about the certificate being served. */
export interface CertificateInfo {
  subject: string;
  /** SHA-256 fingerprint, `AA:BB:…` (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint256: string;
  validTo: string;
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TlsFilesError('missing', `${what} ${file} not found`);
    throw new TlsFilesError('unreadable', `${what} ${file} cannot be read (${code ?? 'error'})`);
  }
}

/** Throws TlsFilesError naming the file and the problem; the certificate's facts when all is well. */
export function checkTlsFiles(files: TlsFiles): CertificateInfo {
  const certPem = read(files.certFile, 'the TLS certificate');
  const keyPem = read(files.keyFile, 'the TLS key');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new TlsFilesError('not-a-certificate', `the TLS certificate ${files.certFile} is not a PEM certificate`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new TlsFilesError('not-a-key', `the TLS key ${files.keyFile} is not an unencrypted PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new TlsFilesError('mismatch', `the TLS key ${files.keyFile} does not belong to the certificate ${files.certFile}`);
  }
  return { subject: cert.subject.replace(/\n/g, ', '), fingerprint256: cert.fingerprint256, validTo: cert.validTo };
}
