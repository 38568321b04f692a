/**
 * `--tls-cert`/`--tls-key` to the gateway's TLS files, checked before anything starts: a missing,
 * unreadable or mismatched pair refuses to start with one line naming the file and the problem,
 * never a silent fallback to plain HTTP.
 */
import { StartupError, UsageError } from './cli-errors.js';
import { TlsFilesError, checkTlsFiles, type TlsFiles } from '../server/tls-files.js';

export function tlsOptions(v: { 'tls-cert': string | undefined; 'tls-key': string | undefined }): TlsFiles | undefined {
  const certFile = v['tls-cert'];
  const keyFile = v['tls-key'];
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined) throw new UsageError('--tls-key needs --tls-cert');
  if (keyFile === undefined) throw new UsageError('--tls-cert needs --tls-key');
  const files = { certFile, keyFile };
  try {
    checkTlsFiles(files);
  } catch (err) {
    if (err instanceof TlsFilesError) throw new StartupError(`TLS: ${err.message}`);
    throw err;
  }
  return files;
}
