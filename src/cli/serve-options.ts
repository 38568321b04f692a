/**
 * Every `podterm serve` option, once: `--help` and README's configuration table are rendered from
 * this table (test/cli/readme.test.ts keeps README equal to it).
 */
import { flag, list, value } from './args.js';
import { usableCores } from './cpu-cores.js';
import { LOG_LEVELS } from '../log/logger.js';
import { MAX_TIMER_MS, dnsName, existingDir, existingFile, hostPorts, int, listen, oneOf, origin, person, token, url, user, word } from './values.js';

const asIs = (raw: string): string => raw;

export const SERVE_OPTIONS = {
  listen: value('HOST:PORT', listen, 'where to listen (port 0 picks a free one); a port in use is an error', { default: '127.0.0.1:8080' }),
  'tls-cert': value('FILE', existingFile, 'serve HTTPS itself (no ingress needed) with this PEM certificate, followed by any intermediates; needs `--tls-key`. Reloaded on SIGHUP: new connections get the new certificate, open sessions go on. Under TLS cookies are `Secure` and every answer carries HSTS', { defaultText: 'plain HTTP' }),
  'tls-key': value('FILE', existingFile, 'the unencrypted PEM private key of `--tls-cert`'),
  kubeconfig: value('FILE', asIs, 'cluster credentials; its current context is the default identity. A file that is missing or malformed is an error, whether named here or in `$KUBECONFIG` (the first existing file of the list is used)', {
    env: 'KUBECONFIG',
    defaultText: '`$KUBECONFIG`, then `~/.kube/config`',
  }),
  'in-cluster': flag("use the pod's service account (see Deployment)"),
  sandbox: flag('start the built-in sandbox cluster in-process (a shell on this host: for trying podterm)', {
    defaultText: 'when `$KUBECONFIG` is unset and `~/.kube/config` does not exist',
  }),
  workers: value('N', int(0, 1024), 'worker threads for session actors; `0` runs them on the main thread, which also serves every browser socket', { defaultText: 'cores − 1 (a cgroup CPU limit counts)' }),
  token: value('T', token, 'the access token; printed in the URL only when podterm generated it', { env: 'PODTERM_TOKEN', defaultText: '`$PODTERM_TOKEN`, else random' }),
  user: list('TOKEN=CONTEXT[:NS,NS]', user, 'another token bound to a context of the kubeconfig (repeatable; an unknown context is an error); when that identity may not list namespaces, the picker offers these and the context\'s own, those it may list pods in'),
  person: list('TOKEN=USERNAME[:GROUP,GROUP]', person, 'a token bound to a person whom the gateway impersonates with its own credentials (repeatable; see Sign-in). The username cannot contain `:`'),
  'oidc-issuer': value('URL', url, 'OpenID Connect issuer: turns on sign-in (`/auth/login`) and bearer ID tokens; https, or http on a loopback host'),
  'oidc-client-id': value('ID', word, 'the client id registered at the issuer (needed with `--oidc-issuer`)'),
  'oidc-client-secret-file': value('FILE', existingFile, 'file holding the client secret', { defaultText: '`$PODTERM_OIDC_CLIENT_SECRET` (the secret itself)' }),
  'oidc-redirect-url': value('URL', url, 'the callback URL registered at the issuer', { defaultText: "the gateway's own origin + `/auth/callback`" }),
  'oidc-username-claim': value('CLAIM', word, 'ID token claim that names the person (as the API server\'s flag)', { default: 'email' }),
  'oidc-username-prefix': value('PREFIX', word, 'prepended to usernames; `-` for none', { defaultText: 'none for `email`, else `ISSUER#`' }),
  'oidc-groups-claim': value('CLAIM', word, 'ID token claim with the groups', { default: 'groups' }),
  'oidc-groups-prefix': value('PREFIX', word, 'prepended to every group'),
  'oidc-scopes': value('SCOPES', asIs, 'scopes to ask for, space separated (`openid` is always added)', { default: 'openid email profile' }),
  'session-secret-file': value('FILE', existingFile, 'file with the secret (>= 16 bytes) that signs session cookies; the same on every replica', { defaultText: 'the client secret' }),
  identity: value('MODE', oneOf(['impersonate', 'passthrough'] as const), 'how the gateway acts for a signed-in person: `impersonate` (its own credentials + `Impersonate-User`/`Impersonate-Group`) or `passthrough` (the person\'s ID token as the bearer)', { default: 'impersonate' }),
  'allow-origin': list('ORIGIN', origin, 'browser origins allowed to open terminals (repeatable)', { defaultText: "the server's own origin" }),
  'max-sessions': value('N', int(1, 10_000_000), 'global session limit (then `TooManySessions`, 4429); each session holds two sockets (and its .cast while it is written, with `--record-dir`), so podterm keeps the limit below the open-files limit instead of failing late with EMFILE', {
    default: '10000',
    defaultText: '10000, lowered to fit `ulimit -n`',
  }),
  'max-sessions-per-token': value('N', int(1, 10_000_000), 'per-person session limit (keyed on the username)', { default: '1000' }),
  'idle-timeout-ms': value('MS', int(0, MAX_TIMER_MS), 'close after this long without input (`IdleTimeout`, 4408); 0 = off', { default: '1800000' }),
  'max-session-age-ms': value('MS', int(0, MAX_TIMER_MS), 'maximum session age (`SessionExpired`, 4410); 0 = off', { default: '43200000' }),
  'detach-grace-ms': value('MS', int(0, MAX_TIMER_MS), "how long a session lives on after its owner's connection dropped or the page reloaded, resumable with its token (a close with code 1000, the × on a tab, ends it at once); 0 = a session ends with its socket", { default: '300000' }),
  'replay-bytes': value('N', int(0, 64 * 1024 * 1024), 'recent output kept per resumable session and replayed on resume; 0 = off', { default: '262144' }),
  'max-message-bytes': value('N', int(1024, 16 * 1024 * 1024), 'largest client message; larger closes with 1009', { default: '65536' }),
  'drain-grace-ms': value('MS', int(0, MAX_TIMER_MS), 'on SIGTERM/SIGINT: readiness goes false, new sessions are refused, open ones close with 1001 after this grace, then exit 0', { default: '10000' }),
  'kube-timeout-ms': value('MS', int(1, MAX_TIMER_MS), 'bound on each Kubernetes API call of a session start and of the pod and namespace lists (then `UpstreamUnavailable`)', { default: '10000' }),
  'record-dir': value('DIR', existingDir, 'record every session as asciicast v2 (`ID.cast` + `ID.json` metadata) in DIR (a volume in a Deployment)', { env: 'PODTERM_RECORD_DIR', defaultText: 'off; with the sandbox, a folder under the temp dir' }),
  'record-mode': value('MODE', oneOf(['best-effort', 'strict'] as const), '`best-effort`: a write failure or the size cap stops the recording with a marker, a log line and a metric, and the session goes on; `strict`: a session that cannot be recorded is refused or ended (`RecordingFailed`, 4414)', { default: 'best-effort' }),
  'record-max-bytes': value('N', int(0, Number.MAX_SAFE_INTEGER), 'per-session cap of a recording; 0 = none', { default: '0' }),
  'record-input': flag('also record keyboard input (`i` events): this captures passwords typed at prompts'),
  'record-retention-days': value('DAYS', int(0, 36500), 'delete recordings older than this (a timer, never on the hot path); 0 = keep', { default: '0' }),
  'recordings-group': value('GROUP', asIs, 'members of this group may watch every recording (others only their own)'),
  'audit-log': value('FILE', asIs, 'audit events as JSON lines (sessions, resumes, watchers, shares, file copies, debug containers, logs, recordings, sign-in; with who, from where, outcome) to FILE, or `-` for stdout'),
  'replica-id': value('ID', asIs, 'names this gateway in recordings and audit lines, and in the resume tokens it signs (unique per replica; see Several replicas)', { defaultText: 'the host name; in tokens, random per process' }),
  'advertise-url': value('URL', url, 'how the other replicas reach this one (the internal hop)', { defaultText: '`http://$POD_NAME.$PODTERM_SERVICE:PORT` when both are set, else the listen address (the host name for 0.0.0.0)' }),
  peers: value('HOST:PORT,...', hostPorts, 'the other replicas (this one may be in the list): resumes of their sessions are forwarded to them, and the sessions list asks each', { env: 'PODTERM_PEERS' }),
  'peer-dns': value('NAME[:PORT]', dnsName, 'find the peers in the A/AAAA records of this name (the headless Service), re-read every 5 s; PORT defaults to the listen port'),
  'cluster-secret-file': value('FILE', existingFile, 'file with the shared secret (>= 16 bytes) of the internal hop between replicas, which also signs resume tokens; needed with `--peers` or `--peer-dns`'),
  'kill-on-close': value('on|off', oneOf(['on', 'off'] as const), "when a session ends (exit, close, detach grace), end every process its shell started in the container (background jobs, `nohup`, `setsid`): SIGHUP, then SIGKILL after a short grace, through a second exec; `off` leaves them running, as `kubectl exec` does", { env: 'PODTERM_KILL_ON_CLOSE', default: 'on' }),
  'max-upload-bytes': value('N', int(0, Number.MAX_SAFE_INTEGER), 'largest upload into a container through the files API (then `MessageTooBig`, 413)', { default: '1073741824' }),
  'debug-image': value('IMAGE', (raw) => raw, 'image of the ephemeral debug containers the page starts (e.g. for a container without a shell)', { default: 'busybox:1.36' }),
  'log-level': value('LEVEL', oneOf(LOG_LEVELS), 'JSON log lines on stderr (pino) at this level and above, from the main thread and the workers; secrets are redacted', { env: 'PODTERM_LOG_LEVEL', default: 'info' }),
  'web-root': value('DIR', existingDir, 'serve another build of the page', { defaultText: 'the built page' }),
};

/**
 * `--workers` when not given: one thread per core besides the main thread, which serves every
 * browser socket and is itself busy (measured on 2 cores, bench/results/2026-11-30: 1 worker against
 * 2 gave keystroke p99 5.75 against 15.07 ms and 136 against 186 µs of gateway CPU per key at 100
 * typists × 20 keys/s, and 50 floods 240.8 against 200.3 MB/s). One core: actors on the main thread.
 * Cores are what the process may use, a cgroup CPU limit included (cpu-cores.ts).
 */
export function defaultWorkers(cores = usableCores()): number {
  return Math.max(0, cores - 1);
}
