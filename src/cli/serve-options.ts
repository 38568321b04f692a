/**
 * Every `podterm serve` option, once: `--help` and README's configuration table are rendered from
 * this table (test/cli/readme.test.ts keeps README equal to it).
 */
import { flag, list, value } from './args.js';
import { LOG_LEVELS } from '../log/logger.js';
import { MAX_TIMER_MS, existingDir, int, listen, oneOf, origin, token, user } from './values.js';

const asIs = (raw: string): string => raw;

export const SERVE_OPTIONS = {
  listen: value('HOST:PORT', listen, 'where to listen (port 0 picks a free one); a port in use is an error', { default: '127.0.0.1:8080' }),
  kubeconfig: value('FILE', asIs, 'cluster credentials; its current context is the default identity. A file that is missing or malformed is an error, whether named here or in `$KUBECONFIG` (the first existing file of the list is used)', {
    env: 'KUBECONFIG',
    defaultText: '`$KUBECONFIG`, then `~/.kube/config`',
  }),
  'in-cluster': flag("use the pod's service account (see Deployment)"),
  sandbox: flag('start the built-in sandbox cluster in-process (a shell on this host: for trying podterm)', {
    defaultText: 'when `$KUBECONFIG` is unset and `~/.kube/config` does not exist',
  }),
  workers: value('N', int(0, 1024), 'worker threads for session actors; `0` runs them on the main thread', { defaultText: 'CPU count' }),
  token: value('T', token, 'the access token; printed in the URL only when podterm generated it', { env: 'PODTERM_TOKEN', defaultText: '`$PODTERM_TOKEN`, else random' }),
  user: list('TOKEN=CONTEXT[:NS,NS]', user, 'another token bound to a context of the kubeconfig (repeatable; an unknown context is an error); the namespaces are listed when that identity may not list namespaces'),
  'allow-origin': list('ORIGIN', origin, 'browser origins allowed to open terminals (repeatable)', { defaultText: "the server's own origin" }),
  'max-sessions': value('N', int(1, 10_000_000), 'global session limit (then `TooManySessions`, 4429); each session holds two sockets, so podterm keeps the limit below the open-files limit instead of failing late with EMFILE', {
    default: '10000',
    defaultText: '10000, lowered to fit `ulimit -n`',
  }),
  'max-sessions-per-token': value('N', int(1, 10_000_000), 'per-token session limit', { default: '1000' }),
  'idle-timeout-ms': value('MS', int(0, MAX_TIMER_MS), 'close after this long without input (`IdleTimeout`, 4408); 0 = off', { default: '1800000' }),
  'max-session-age-ms': value('MS', int(0, MAX_TIMER_MS), 'maximum session age (`SessionExpired`, 4410); 0 = off', { default: '43200000' }),
  'detach-grace-ms': value('MS', int(0, MAX_TIMER_MS), "how long a session lives on after its owner's connection dropped or the page reloaded, resumable with its token (a close with code 1000, the × on a tab, ends it at once); 0 = a session ends with its socket", { default: '300000' }),
  'replay-bytes': value('N', int(0, 64 * 1024 * 1024), 'recent output kept per resumable session and replayed on resume; 0 = off', { default: '262144' }),
  'max-message-bytes': value('N', int(1024, 16 * 1024 * 1024), 'largest client message; larger closes with 1009', { default: '65536' }),
  'drain-grace-ms': value('MS', int(0, MAX_TIMER_MS), 'on SIGTERM/SIGINT: readiness goes false, new sessions are refused, open ones close with 1001 after this grace, then exit 0', { default: '10000' }),
  'kube-timeout-ms': value('MS', int(1, MAX_TIMER_MS), 'bound on each Kubernetes API call of a session start and of the pod and namespace lists (then `UpstreamUnavailable`)', { default: '10000' }),
  'log-level': value('LEVEL', oneOf(LOG_LEVELS), 'JSON log lines on stderr (pino) at this level and above, from the main thread and the workers; secrets are redacted', { env: 'PODTERM_LOG_LEVEL', default: 'info' }),
  'web-root': value('DIR', existingDir, 'serve another build of the page', { defaultText: 'the built page' }),
};
