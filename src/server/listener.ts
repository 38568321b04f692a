/**
 * The gateway's listening socket and the uWS apps behind it: plain HTTP (`App`), or TLS of its own
 * (`SSLApp` with `--tls-cert`/`--tls-key`) whose certificate can be reloaded (SIGHUP) without
 * cutting a session.
 *
 * Why a new app per certificate: uWS 20.30 cannot change the certificate of a running SSLApp, and
 * its SNI contexts (`addServerName`/`missingServerName`, the way upstream suggests in
 * uNetworking/uWebSockets.js#868 and #1289) only serve clients that send a server name: a browser
 * opening `https://10.0.0.5:8443` sends none (RFC 6066 §3 forbids IP literals there), and a
 * server name's requests go to that name's own router (`domain()`), not the app's routes. So a
 * reload builds a new SSLApp with the new files and the same routes, then closes the old listening
 * socket and listens with the new app on the same port in the same turn of the event loop
 * (listenNow is synchronous). Connections the old app accepted (open terminals, keep-alive HTTP)
 * stay with it and keep the certificate they were made with; new connections get the new one.
 *
 * Why not SO_REUSEPORT overlap (new socket first, then close the old): both sockets would need
 * SO_REUSEPORT, which lets any process of the same user join the port and take half the
 * connections, the hole `LIBUS_LISTEN_EXCLUSIVE_PORT` closes (issue 8, item 15). The price of the
 * exclusive swap: a new connection that reaches the port in the microseconds between close and
 * listen, or sits unaccepted in the old socket's backlog, is refused or reset (see reload()).
 */
import uws from 'uWebSockets.js';
import { ListenError, freePort, listenExclusive, listenNow } from './listen.js';
import { TlsFilesError, checkTlsFiles, type CertificateInfo, type TlsFiles } from './tls-files.js';

export type { CertificateInfo, TlsFiles };

export interface ListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** TLS of its own; plain HTTP when absent. */
  tls?: TlsFiles | undefined;
  /** Mounts every route on an app: called once per app (at start, and on each reload). */
  mount: (app: uws.TemplatedApp) => void;
}

/** `stopped`: stopListening() was called (shutdown); `deaf`: a reload lost the port. */
type State = 'listening' | 'stopped' | 'deaf' | 'closed';

/** How often a TLS listener retries a port it picked that someone took before it listened. */
const PICK_ATTEMPTS = 5;

function sslApp(files: TlsFiles): uws.TemplatedApp {
  try {
    return uws.SSLApp({ cert_file_name: files.certFile, key_file_name: files.keyFile });
  } catch {
    // checkTlsFiles passed, so the files changed since, or OpenSSL refused what Node accepted.
    throw new TlsFilesError('unreadable', `uWebSockets.js could not load ${files.certFile} and ${files.keyFile}`);
  }
}

function appClose(app: uws.TemplatedApp): void {
  // Ends every socket of the app (the typings lack close()).
  (app as unknown as { close(): void }).close();
}

export class Listener {
  readonly host: string;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  #certificate: CertificateInfo | undefined;
  #state: State = 'listening';
  #app: uws.TemplatedApp;
  #socket: uws.us_listen_socket | undefined;
  /** Apps of earlier certificates: their connections live on until they end or close() ends them. */
  readonly #retired: uws.TemplatedApp[] = [];
  readonly #o: ListenerOptions;

  private constructor(o: ListenerOptions, app: uws.TemplatedApp, socket: uws.us_listen_socket, certificate: CertificateInfo | undefined) {
    this.#o = o;
    this.host = o.host;
    this.port = uws.us_socket_local_port(socket);
    this.scheme = o.tls ? 'https' : 'http';
    this.#certificate = certificate;
    this.#app = app;
    this.#socket = socket;
  }

  /** Throws TlsFilesError for bad TLS files, ListenError when the port cannot be had. */
  static async open(o: ListenerOptions): Promise<Listener> {
    if (!o.tls) {
      const app = uws.App();
      o.mount(app);
      try {
        return new Listener(o, app, await listenExclusive(app, o.host, o.port), undefined);
      } catch (err) {
        appClose(app);
        throw err;
      }
    }
    const certificate = checkTlsFiles(o.tls);
    const app = sslApp(o.tls);
    o.mount(app);
    try {
      for (let attempt = 1; ; attempt++) {
        const port = o.port === 0 ? await freePort(o.host) : o.port;
        try {
          return new Listener(o, app, await listenExclusive(app, o.host, port), certificate);
        } catch (err) {
          if (o.port !== 0 || attempt >= PICK_ATTEMPTS || !(err instanceof ListenError && err.code === 'EADDRINUSE')) throw err;
        }
      }
    } catch (err) {
      appClose(app);
      throw err;
    }
  }

  /** The certificate new connections get (TLS only). */
  get certificate(): CertificateInfo | undefined {
    return this.#certificate;
  }

  /** Apps serving connections: the current one and those of earlier certificates. */
  get apps(): number {
    return this.#state === 'closed' ? 0 : 1 + this.#retired.length;
  }

  /**
   * Serves the certificate and key files as they are now to new connections (TLS only); `swapped`
   * is false when the certificate is the one already served (a SIGHUP without a renewal costs
   * nothing: each swap keeps the old app, about 60 KiB, until close()). Rejects with TlsFilesError
   * when the files are bad (the old certificate stays), ListenError when the port could not be
   * listened on again (then the old app listens again if it can; otherwise the listener is `deaf`
   * and says so in the error).
   */
  async reload(): Promise<{ certificate: CertificateInfo; swapped: boolean }> {
    const files = this.#o.tls;
    if (!files) throw new TypeError('reload: this listener serves plain HTTP');
    this.#assertListening();
    const certificate = checkTlsFiles(files);
    if (certificate.fingerprint256 === this.#certificate?.fingerprint256) return { certificate, swapped: false };
    const next = sslApp(files);
    this.#o.mount(next);
    // Connections that arrived while the new app was built wait in the old socket's backlog, and
    // closing it resets them: one turn of the loop lets uWS accept them first. Measured with a
    // client making ~4,000 new connections/s: 0.7 failed connects per reload without this turn,
    // 0.15 to 0.3 with it (loaded 2-core machine); open connections: none.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      this.#assertListening();
    } catch (err) {
      appClose(next);
      throw err;
    }
    // From here to the new listen, nothing may yield: the port is unbound in between.
    if (this.#socket) uws.us_listen_socket_close(this.#socket);
    this.#socket = undefined;
    const socket = listenNow(next, this.host, this.port);
    if (socket) {
      this.#retired.push(this.#app);
      this.#app = next;
      this.#socket = socket;
      this.#certificate = certificate;
      return { certificate, swapped: true };
    }
    appClose(next);
    const back = listenNow(this.#app, this.host, this.port);
    if (back) this.#socket = back;
    else this.#state = 'deaf';
    throw new ListenError(back ? 'EADDRINUSE' : 'EDEAF', this.host, this.port);
  }

  #assertListening(): void {
    if (this.#state !== 'listening') throw new ListenError(this.#state === 'deaf' ? 'EDEAF' : 'ECLOSED', this.host, this.port);
  }

  /** Stops accepting connections; open ones go on (drain). Idempotent. */
  stopListening(): void {
    if (this.#state === 'listening') this.#state = 'stopped';
    if (this.#socket) uws.us_listen_socket_close(this.#socket);
    this.#socket = undefined;
  }

  /** Ends every connection of every app. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.stopListening();
    for (const app of [this.#app, ...this.#retired.splice(0)]) appClose(app);
  }
}
