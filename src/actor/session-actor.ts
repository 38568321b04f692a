/**
 * One session actor: owns the exec stream, the resize coalescing, the timers, the replay ring and
 * the flow state of one terminal session, and has exactly one idempotent close(reason) (STYLE.md
 * 1-4). Every resource registers its disposal on the line that acquires it.
 *
 * The actor owns the session, not a socket (docs/protocol.md, Additions): browser sockets attach
 * and detach; while the owner has none the session is `detached`, its output goes to the replay
 * ring only (never posted, never waiting for acks: the pod is not paused), and it ends after the
 * detach grace through the same close.
 */
import { PodtermError, toPodtermError } from '../protocol/errors.js';
import {
  ClientOp,
  DEFAULT_INPUT_WINDOW,
  DEFAULT_MAX_CLIENT_MESSAGE,
  decodeClientFrame,
  encodeOutputFrame,
  encodeToArrayBuffer,
  FrameError,
  MAX_OUTPUT_CHUNK,
  ServerOp,
  type ServerFrame,
} from '../protocol/index.js';
import { InputCredit } from './input-credit.js';
import { killLeftovers } from './kill-on-close.js';
import { defaultContainer, execRequest, sessionCommand } from './session-start.js';
import { startedFrame } from './started-frame.js';
import { logRecordingStop, recordingSubject, startRecording, type RecordedInit } from './session-recording.js';
import type { AsciicastWriter, RecordingSubject, WriterHost } from '../recording/asciicast-writer.js';
import type { RecordingStop } from '../recording/recording-files.js';
import { ExecStream, type ExecSinks } from '../kube/exec.js';
import { OutputBatcher } from './output-batcher.js';
import { ResizeCoalescer } from './resize-coalescer.js';
import type { KubeStatus } from '../kube/errors.js';
import { execOutcome } from '../kube/exec-status.js';
import type { SessionPort } from '../actor-link/lane.js';
import { OUTPUT_WINDOW, type ActorInit, type FromActor, type SocketRole, type ToActor } from '../actor-link/actor-messages.js';
import type { ActorDeps } from './actor-deps.js';
import { transition, type ActorState, type CloseReason } from './actor-state.js';
import { endReport, logCause, recordingOutcome } from './session-end.js';
import { AttachedSockets } from './attached-sockets.js';
import { ReplayBuffer } from './replay-buffer.js';
import { SessionDeadlines, type DeadlineHost } from './session-deadlines.js';

/**
 * While a client waits for input credit and the exec socket still holds some of its bytes, look
 * again this often (the ws client has no drain event of its own).
 */
const CREDIT_RECHECK_MS = 10;
/** Input that arrives before the exec is open is held up to this many bytes. */
const MAX_EARLY_INPUT = 64 * 1024;
/**
 * On resume the pty height goes one row down and, this much later, back, so full-screen programs
 * get two SIGWINCH with a real change each and redraw (a same-size ioctl sends no signal).
 */
export const NUDGE_MS = 50;

/**
 * Memory (issue 13): an idle session should cost little more than its two sockets, so what it holds
 * for its whole life sits in fields released by one #release() at the end of the teardown, rather
 * than in a closure per resource; the exec stream calls the actor's ExecSinks methods, the wheel its
 * SessionDeadlines (a wheel entry itself, calling back DeadlineHost); what only
 * the start needs (the abort controller, early input and output) is dropped once the exec is open.
 */
export class SessionActor implements WriterHost, ExecSinks, DeadlineHost {
  #state: ActorState = 'starting';
  readonly #port: SessionPort<ToActor, FromActor>;
  readonly #init: ActorInit;
  readonly #deps: ActorDeps;
  #exec: ExecStream | undefined;
  #container = '';
  /** The exec ran podterm's marked shell: its leftovers are ended at close. */
  #killOnClose = false;
  #command: string[] = [];
  readonly #sockets = new AttachedSockets();
  /** Detaches so far; stamped on every `out` (see actor-messages.ts). */
  #epoch = 0;
  /** Recent output for sockets that resume; undefined when replay is off or nothing can resume. */
  readonly #replay: ReplayBuffer | undefined;
  /** The exec ping, idle timeout, max age and detach grace: one wheel entry, made at the exec's open. */
  #deadline: SessionDeadlines | undefined;
  #nudgeTimer: NodeJS.Timeout | undefined;
  /** The pty size as last applied (the nudge returns to it). */
  #cols: number;
  #rows: number;
  /** The size last asked for by an owner socket: a change is announced to the others (op 5). */
  #askedCols: number;
  #askedRows: number;
  /** Output frames encoded before the first Started went out (posted right after it); undefined once open. */
  #earlyOutput: ArrayBuffer[] | undefined = [];
  /** Input credit goes to the socket that typed last (one window per session; see InputCredit). */
  #creditTo: number | undefined;
  /** Output bytes posted to the main thread and not yet acknowledged (taken by the browser socket). */
  #unacked = 0;
  readonly #stdout = new OutputBatcher((chunk) => this.#emit(ServerOp.Stdout, chunk));
  /** Input that came before the exec was open; undefined once open. */
  #earlyInput: Uint8Array[] | undefined = [];
  #earlyBytes = 0;
  /** Made at the first resize a client asks for (many sessions never resize); live once the exec is open. */
  #resize: ResizeCoalescer | undefined;
  #resizeLive = false;
  /** The session's asciicast recording (when --record-dir is set); closed in the close funnel. */
  #recording: AsciicastWriter | undefined;
  /** Strict recording: the disk is behind, so the exec stream waits for the writer. */
  #recordingBehind = false;
  /**
   * Input flow control: the client keeps at most `window` bytes uncredited. The bound on memory:
   * a client that ignores it is cut at window + one message (BadFrame), never buffered further.
   */
  #credit = new InputCredit(DEFAULT_INPUT_WINDOW, DEFAULT_MAX_CLIENT_MESSAGE);
  #creditTimer: NodeJS.Timeout | undefined;
  #done!: () => void;
  readonly #finished = new Promise<void>((resolve) => (this.#done = resolve));
  #closing: Promise<void> | undefined;
  #starting: Promise<void> = Promise.resolve();
  /** Aborts an exec open in progress when the session closes first; undefined once the exec is open. */
  #opening: AbortController | undefined = new AbortController();
  readonly #onPortMessage = (m: ToActor): void => this.#onMessage(m);

  constructor(port: SessionPort<ToActor, FromActor>, init: ActorInit, deps: ActorDeps) {
    this.#port = port;
    this.#init = init;
    this.#deps = deps;
    this.#cols = this.#askedCols = init.cols;
    this.#rows = this.#askedRows = init.rows;
    this.#sockets.add(init.opener, 'owner');
    // Each acquisition here is released in #release(), in reverse order.
    deps.counters.actors++;
    // Only a session that can outlive its socket needs a replay; the ring allocates as output comes.
    const replayBytes = init.replayBytes ?? 0;
    if (replayBytes > 0 && (init.detachGraceMs ?? 0) > 0) this.#replay = new ReplayBuffer(replayBytes, { counter: deps.counters.replay });
    port.on('message', this.#onPortMessage);
    this.#post({ t: 'hello', threadId: deps.threadId });
  }

  /**
   * Everything the actor holds for its life, released once, last in the teardown, in the reverse
   * order of acquisition: the wheel entry and the short timers, the port, the replay ring, the count.
   */
  #release(): void {
    this.#deadline?.cancel();
    clearTimeout(this.#creditTimer);
    clearTimeout(this.#nudgeTimer);
    this.#port.off('message', this.#onPortMessage);
    this.#port.close();
    this.#replay?.close();
    this.#deps.counters.actors--;
  }

  get state(): ActorState {
    return this.#state;
  }

  #to(next: ActorState): void {
    this.#state = transition(this.#init.session, this.#state, next);
  }

  /** Runs the session; resolves when the actor has released everything. Never rejects. */
  run(): Promise<void> {
    this.#starting = this.#start().catch((err: unknown) => {
      void this.close({ kind: 'error', error: toPodtermError(err) });
    });
    return this.#finished;
  }

  async #start(): Promise<void> {
    const init = this.#init;
    // The person this session acts for (act-as.ts): the context's credentials plus impersonation
    // headers, or the person's own token.
    const who = { context: init.context, as: init.as };
    const { kc, headers } = this.#deps.kube.identity(who);
    this.#command = sessionCommand(init);
    const opening = this.#opening as AbortController;
    this.#container = init.container ?? (await defaultContainer(this.#deps.kube, init, opening.signal));
    if (this.#state !== 'starting') return;
    if (init.recording) {
      // A session to record on a thread that cannot: refused, never run unrecorded.
      const settings = this.#deps.recording;
      if (!settings) throw new Error('podterm: a recorded session reached an actor thread without recording settings');
      // Registered at acquisition: teardown closes it. Strict: before the exec, so a recording that
      // cannot start refuses the session before anything runs in the pod; best-effort: nothing
      // waits for its file (session-recording.ts).
      const recording = (this.#recording = startRecording(init as RecordedInit, settings, this));
      if (settings.mode === 'strict') await recording.opened();
      if (this.#state !== 'starting') return;
    }
    const { request, killOnClose } = execRequest(init, this.#container, this.#command);
    this.#killOnClose = killOnClose;
    const exec = await ExecStream.open(kc, request, this, { signal: opening.signal, timeoutMs: this.#deps.kube.timeoutMs, agents: this.#deps.agents, headers });
    // Registered at acquisition; teardown awaits #starting, then closes it.
    this.#exec = exec;
    this.#deps.counters.execs++;
    this.#opening = undefined;
    // The client may have left while the exec was opening: teardown is waiting for us.
    if (this.#state !== 'starting') return;
    this.#post({ t: 'opened', container: this.#container, command: this.#command });
    this.#deadline = new SessionDeadlines(this.#deps.wheel, this, init.idleTimeoutMs, init.maxSessionAgeMs);
    if (this.#sockets.owners > 0) {
      this.#to('attached');
      // No replay here: what the exec printed so far follows as early output, to every socket.
      for (const socket of this.#sockets.ids()) this.#greet(socket, false);
      const early = this.#earlyOutput ?? [];
      this.#earlyOutput = undefined;
      for (const ab of early) this.#postOut(ab);
    } else {
      // Every socket left while the exec was opening (a reload): the session waits, detached.
      this.#earlyOutput = undefined;
      this.#to('detached');
      this.#armGrace();
    }
    const input = this.#earlyInput ?? [];
    this.#earlyInput = undefined;
    for (const chunk of input) this.#write(exec, chunk);
    this.#settleCredit();
    // The first size goes at once, as kubectl sends it: a TTY process starts at the client's size.
    // Sizes the client asked for while the exec was opening follow through the coalescer.
    exec.resize(init.cols, init.rows);
    this.#resizeLive = true;
    this.#resize?.start();
    this.#applyFlow();
  }

  #onMessage(m: ToActor): void {
    switch (m.t) {
      case 'attach':
        this.#attach(m.socket, m.role);
        return;
      case 'detach':
        this.#detach(m.socket);
        return;
      case 'in':
        if (m.ack) {
          this.#unacked -= m.ack;
          this.#applyFlow();
        }
        this.#onClientMessage(m.socket, new Uint8Array(m.data));
        return;
      case 'ack':
        this.#unacked -= m.bytes;
        this.#applyFlow();
        return;
      case 'close':
        void this.close({ kind: 'request', request: m.reason });
        return;
    }
  }

  /**
   * A socket joins. Before the exec is open it is only remembered (#start greets it); after, it
   * gets its Started frame and the replay, then live output; the first owner socket of a detached
   * session attaches it again. An observer changes no state: it gets its Started and a fresh
   * replay, then the output the owner's sockets pace (none while the session is detached).
   */
  #attach(socket: number, role: SocketRole): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#sockets.add(socket, role);
    if (this.#state === 'starting') return;
    if (role === 'owner' && this.#state === 'detached') {
      this.#deadline?.endGrace();
      this.#to('attached');
      // The main thread counts from zero too (new epoch); the new socket gets its own window.
      this.#unacked = 0;
      this.#credit = new InputCredit(DEFAULT_INPUT_WINDOW, DEFAULT_MAX_CLIENT_MESSAGE);
    }
    // Output still in the batcher goes out (and into the ring) first: the replay then covers it.
    this.#stdout.flush();
    this.#greet(socket, true);
    this.#nudge();
    this.#applyFlow();
  }

  /**
   * A socket left. The owner's last one leaving detaches the session (the main thread said so).
   * An observer leaving changes no state and no epoch: the main thread counts epochs by the owner's
   * detaches only (supervisor/session.ts `left`), and a bump here alone would make it drop
   * everything after as stale — a detached session's resume would never get its Started.
   */
  #detach(socket: number): void {
    const owner = this.#sockets.isOwner(socket);
    this.#sockets.remove(socket);
    if (this.#creditTo === socket) this.#creditTo = undefined;
    if (!owner || this.#sockets.owners > 0 || this.#state === 'closing' || this.#state === 'closed') {
      this.#applyFlow();
      return;
    }
    this.#epoch++;
    this.#unacked = 0;
    if (this.#state !== 'attached') return; // starting: #start decides
    this.#to('detached');
    this.#armGrace();
    this.#applyFlow();
  }

  #armGrace(): void {
    const grace = this.#init.detachGraceMs ?? 0;
    if (grace <= 0) {
      void this.close({ kind: 'request', request: 'client-gone' });
      return;
    }
    this.#deadline?.startGrace(grace);
  }

  /**
   * The Started frame for one socket (started-frame.ts), then (when it resumes or observes) the
   * replay: both to it alone.
   */
  #greet(socket: number, replay: boolean): void {
    const resumed = this.#sockets.resumed(socket);
    const owner = this.#sockets.isOwner(socket);
    const started = startedFrame(this.#init, this.#container, this.#command, { owner, resumed, inputWindow: this.#credit.window, cols: this.#askedCols, rows: this.#askedRows });
    this.#unacked += this.#sendFrame(started, socket);
    if (!replay || !resumed || !this.#replay) return;
    for (const chunk of this.#replay.restore()) {
      const ab = encodeOutputFrame(ServerOp.Stdout, chunk);
      this.#unacked += ab.byteLength;
      this.#post({ t: 'out', data: ab, epoch: this.#epoch, to: socket }, [ab]);
    }
  }

  /**
   * Full-screen programs redraw on SIGWINCH: one row less now, the real size a moment later
   * (through the exec's resize, the way a client resize goes).
   */
  #nudge(): void {
    const exec = this.#exec;
    if (!exec || this.#nudgeTimer) return;
    const rows = this.#rows;
    exec.resize(this.#cols, rows > 1 ? rows - 1 : rows + 1);
    this.#nudgeTimer = setTimeout(() => {
      this.#nudgeTimer = undefined;
      this.#exec?.resize(this.#cols, this.#rows);
    }, NUDGE_MS);
  }

  #onClientMessage(socket: number, data: Uint8Array): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    // Observers' stdin and resize frames are ignored (docs/protocol.md, Additions).
    if (!this.#sockets.isOwner(socket)) return;
    let frame;
    try {
      frame = decodeClientFrame(data);
    } catch (err) {
      const msg = err instanceof FrameError ? `Bad frame: ${err.message}.` : undefined;
      void this.close({ kind: 'error', error: new PodtermError('BadFrame', msg) });
      return;
    }
    switch (frame[0]) {
      case ClientOp.Stdin:
        if (this.#deadline) this.#deadline.lastInputAt = this.#deps.wheel.now();
        this.#creditTo = socket;
        this.#stdin(frame[1]);
        return;
      case ClientOp.Resize:
        this.#requestResize(frame[1], frame[2]);
        this.#announceSize(socket, frame[1], frame[2]);
        return;
      case ClientOp.Pause:
        this.#sockets.setPaused(socket, true);
        this.#applyFlow();
        return;
      case ClientOp.Resume:
        this.#sockets.setPaused(socket, false);
        this.#applyFlow();
        return;
    }
  }

  #requestResize(cols: number, rows: number): void {
    let resize = this.#resize;
    if (!resize) {
      resize = this.#resize = new ResizeCoalescer((c, r) => this.#applySize(c, r));
      if (this.#resizeLive) resize.start();
    }
    resize.request(cols, rows);
  }

  #applySize(cols: number, rows: number): void {
    this.#cols = cols;
    this.#rows = rows;
    this.#exec?.resize(cols, rows);
    this.#recording?.resize(cols, rows);
  }

  /** A new size (the last resize wins) goes to every other socket as `[5, cols, rows]` (Additions). */
  #announceSize(from: number, cols: number, rows: number): void {
    if (cols === this.#askedCols && rows === this.#askedRows) return;
    this.#askedCols = cols;
    this.#askedRows = rows;
    if (this.#state !== 'attached' && this.#state !== 'detached') return; // starting: Started carries it
    this.#unacked += this.#sendFrame([ServerOp.Size, cols, rows], { except: from });
  }

  #stdin(bytes: Uint8Array): void {
    this.#credit.received(bytes.byteLength);
    this.#recording?.input(bytes);
    const exec = this.#exec;
    if (!exec || this.#state === 'starting') {
      this.#earlyBytes += bytes.byteLength;
      if (this.#earlyBytes > MAX_EARLY_INPUT) {
        void this.close({ kind: 'error', error: new PodtermError('BadFrame', 'Too much input before the session opened.') });
        return;
      }
      this.#earlyInput?.push(bytes);
      return;
    }
    if (this.#credit.overrun(exec.bufferedAmount)) {
      void this.close({ kind: 'error', error: new PodtermError('BadFrame', 'Input exceeds the input window (inputWindow): the client must wait for input credit.') });
      return;
    }
    this.#write(exec, bytes);
    this.#settleCredit();
  }

  #write(exec: ExecStream, bytes: Uint8Array): void {
    exec.write(bytes);
    this.#credit.written(bytes.byteLength);
  }

  /** Sends the input credit that is due, and looks again while the client is waiting for more. */
  #settleCredit(): void {
    const exec = this.#exec;
    if (!exec || this.#state !== 'attached') return;
    const n = this.#credit.settle(exec.bufferedAmount);
    if (n > 0) this.#unacked += this.#sendFrame([ServerOp.InputCredit, n], this.#creditTo);
    if (this.#creditTimer === undefined && this.#credit.waiting(exec.bufferedAmount)) {
      this.#creditTimer = setTimeout(() => {
        this.#creditTimer = undefined;
        this.#settleCredit();
      }, CREDIT_RECHECK_MS);
    }
  }

  /**
   * Read the exec socket only while no owner socket asked to pause and they keep up (output credit
   * left). Both conditions must clear before reading resumes. Detached, nothing holds it: the
   * output goes to the replay ring, which drops its oldest bytes.
   */
  #applyFlow(): void {
    if (!this.#exec) return;
    // Detached: output goes to the replay ring and never pauses the pod (unless a strict recording is behind).
    if (this.#state === 'detached') {
      if (this.#recordingBehind) this.#exec.pause();
      else this.#exec.resume();
    } else if (this.#state !== 'attached') return;
    else if (this.#sockets.paused || this.#recordingBehind || this.#unacked > OUTPUT_WINDOW) this.#exec.pause();
    else this.#exec.resume();
  }

  #output(op: typeof ServerOp.Stdout | typeof ServerOp.Stderr, data: Buffer): void {
    if (this.#state === 'closed') return;
    if (op === ServerOp.Stdout) {
      this.#stdout.push(data);
      return;
    }
    this.#stdout.flush(); // keep the order of stdout and stderr
    for (let off = 0; off < data.length; off += MAX_OUTPUT_CHUNK) this.#emit(op, data.subarray(off, off + MAX_OUTPUT_CHUNK));
  }

  #emit(op: typeof ServerOp.Stdout | typeof ServerOp.Stderr, chunk: Buffer): void {
    // Into the ring before framing (a copy the ring owns); with a TTY stderr is merged anyway.
    this.#replay?.append(chunk);
    if (this.#state === 'closed') return;
    // The recording is the session's output, also while no socket is attached.
    if (this.#recording?.output(chunk) === false) this.#paceRecording(true);
    if (this.#state === 'detached') return;
    // One copy of the output into a frame of its own, transferred (not copied) to the main thread.
    const ab = encodeOutputFrame(op, chunk);
    if (this.#state === 'starting') {
      this.#earlyOutput?.push(ab);
      return;
    }
    this.#postOut(ab);
  }

  /** One broadcast output frame to the owner's sockets, counted against the output window. */
  #postOut(ab: ArrayBuffer): void {
    this.#unacked += ab.byteLength; // read before the transfer detaches it
    this.#post({ t: 'out', data: ab, epoch: this.#epoch }, [ab]);
    if (this.#unacked > OUTPUT_WINDOW) this.#applyFlow();
  }


  /** DeadlineHost (session-deadlines.ts): client-node sends no pings; this keeps the exec alive through proxies. */
  pingDue(): void {
    this.#exec?.ping();
  }

  // ---- ExecSinks: called by this session's exec stream only ----

  stdout(data: Buffer): void {
    this.#output(ServerOp.Stdout, data);
  }

  stderr(data: Buffer): void {
    this.#output(ServerOp.Stderr, data);
  }

  status(s: KubeStatus): void {
    this.#onStatus(s);
  }

  failed(error: PodtermError): void {
    void this.close({ kind: 'error', error });
  }

  closed(): void {
    void this.close({ kind: 'error', error: new PodtermError('UpstreamUnavailable', 'The API server closed the exec stream.') });
  }

  #onStatus(s: KubeStatus): void {
    const outcome = execOutcome(s, { container: this.#container, command: this.#command, userCommand: this.#init.command != null });
    void this.close(outcome.kind === 'exit' ? { kind: 'exit', exitCode: outcome.exitCode, message: outcome.message } : outcome);
  }

  /**
   * Posts one encoded frame, to one socket, to every greeted socket (`to` undefined), to every
   * greeted socket but one (`{except}`) or to every socket ('all'); returns its size.
   */
  #sendFrame(frame: ServerFrame, to?: number | 'all' | { except: number }): number {
    // A fresh ArrayBuffer per frame so it can be transferred, not copied, to the main thread.
    const ab = encodeToArrayBuffer(frame);
    const size = ab.byteLength; // read before the transfer detaches it
    const where = to === undefined ? {} : typeof to === 'object' ? { except: to.except } : { to };
    this.#post({ t: 'out', data: ab, epoch: this.#epoch, ...where }, [ab]);
    return size;
  }

  #post(m: FromActor, transfer?: ArrayBuffer[]): void {
    if (this.#state === 'closed') return;
    this.#port.postMessage(m, transfer);
  }

  /** WriterHost (session-recording.ts): the recording's subject, made when the writer asks. */
  recordingSubject(): RecordingSubject {
    return recordingSubject(this.#init as RecordedInit, this.#deps.recording?.replica ?? '', this.#container, this.#command);
  }

  /** WriterHost: a stop is counted and logged; a strict recording that fails ends the session. */
  recordingStopped(stop: RecordingStop, fatal: PodtermError | undefined): void {
    this.#deps.counters.recordingStops++;
    logRecordingStop(this.#deps.log, this.#init.session, stop, fatal !== undefined);
    if (fatal) void this.close({ kind: 'error', error: fatal });
  }

  /** WriterHost: a strict recording caught up with its disk. */
  recordingDrained(): void {
    this.#paceRecording(false);
  }

  /** Strict recording: while its disk is behind, the exec stream waits. */
  #paceRecording(behind: boolean): void {
    this.#recordingBehind = behind;
    this.#applyFlow();
  }

  /**
   * The one way out. Idempotent: the first caller starts it, later callers get the same promise.
   * The state turns `closing` before anything is called back, so re-entrant calls see it.
   */
  close(reason: CloseReason): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#to('closing');
    this.#closing = this.#teardown(reason);
    return this.#closing;
  }

  async #teardown(reason: CloseReason): Promise<void> {
    logCause(this.#deps.log, reason, this.#init, this.#container);
    this.#resize?.close();
    this.#opening?.abort();
    this.#stdout.close(); // output that arrived in the same read as the exit status goes first
    const report = endReport(reason);
    if (report) {
      this.#sendFrame(report.frame, 'all');
      this.#post(report.end);
    }
    await this.#starting;
    const exec = this.#exec;
    if (exec) {
      this.#exec = undefined;
      await exec.close();
      this.#deps.counters.execs--;
      if (this.#killOnClose) await killLeftovers(this.#init, this.#container, this.#deps);
    }
    // After the exec: nothing more can be output. The writer flushes, marks the end, writes the sidecar.
    const recording = this.#recording;
    this.#recording = undefined;
    if (recording) await recording.close({ exitCode: reason.kind === 'exit' ? reason.exitCode : null, outcome: recordingOutcome(reason) });
    this.#to('closed');
    this.#release();
    this.#done();
  }
}
