/**
 * Recordings: a panel that lists the recordings the signed-in person may see
 * (`GET /api/v1/recordings`) and plays one in the page with asciinema-player. The player
 * (a self-hosted copy of its browser bundle) loads only when a recording is opened.
 */
import type { RecordingSummary as RecordingRow } from '../protocol/http.js';

interface PlayerApi {
  dispose(): void;
}
interface PlayerGlobal {
  create(src: string, el: HTMLElement, opts: Record<string, unknown>): PlayerApi;
}

let playerScript: Promise<PlayerGlobal> | undefined;

function loadPlayer(doc: Document): Promise<PlayerGlobal> {
  playerScript ??= new Promise<PlayerGlobal>((resolve, reject) => {
    const css = doc.createElement('link');
    css.rel = 'stylesheet';
    css.href = 'asciinema-player.css';
    doc.head.append(css);
    const s = doc.createElement('script');
    s.src = 'asciinema-player.min.js';
    s.onload = () => {
      const g = (doc.defaultView as unknown as { AsciinemaPlayer?: PlayerGlobal }).AsciinemaPlayer;
      if (g) resolve(g);
      else reject(new Error('the player did not load'));
    };
    s.onerror = () => reject(new Error('the player did not load'));
    doc.head.append(s);
  }).catch((err: unknown) => {
    playerScript = undefined;
    throw err;
  });
  return playerScript;
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export class RecordingsView {
  readonly #doc: Document;
  readonly #panel: HTMLElement;
  readonly #list: HTMLElement;
  readonly #message: HTMLElement;
  readonly #stage: HTMLElement;
  #player: PlayerApi | undefined;

  constructor(doc: Document) {
    this.#doc = doc;
    this.#panel = doc.getElementById('recordings')!;
    this.#list = doc.getElementById('recording-list')!;
    this.#message = doc.getElementById('recordings-message')!;
    this.#stage = doc.getElementById('recording-player')!;
    doc.getElementById('recordings-button')!.addEventListener('click', () => void this.toggle());
    doc.getElementById('recordings-close')!.addEventListener('click', () => this.hide());
  }

  async toggle(): Promise<void> {
    if (!this.#panel.hidden) return this.hide();
    this.#panel.hidden = false;
    await this.refresh();
  }

  hide(): void {
    this.#stop();
    this.#panel.hidden = true;
  }

  async refresh(): Promise<void> {
    this.#message.textContent = 'Loading…';
    this.#list.replaceChildren();
    let res: Response;
    try {
      res = await fetch('/api/v1/recordings', { credentials: 'same-origin' });
    } catch {
      this.#message.textContent = 'The gateway cannot be reached.';
      return;
    }
    if (res.status === 404) {
      this.#message.textContent = 'Recording is off on this gateway (it records with --record-dir).';
      return;
    }
    if (!res.ok) {
      this.#message.textContent = `The recordings could not be listed (${res.status}).`;
      return;
    }
    const { items } = (await res.json()) as { items: RecordingRow[] };
    this.#message.textContent = items.length === 0 ? 'No recordings yet.' : `${items.length} recording${items.length === 1 ? '' : 's'}`;
    for (const r of items) {
      const li = this.#doc.createElement('li');
      const b = this.#doc.createElement('button');
      b.type = 'button';
      b.className = 'recording-row';
      b.dataset.id = r.id;
      const exit = r.endedAt === null ? 'running' : r.exitCode === null ? 'ended' : `exit ${r.exitCode}`;
      b.textContent = `${when(r.startedAt)} · ${r.namespace}/${r.pod}/${r.container} · ${r.user} · ${exit} · ${r.bytes} bytes`;
      b.addEventListener('click', () => void this.play(r.id));
      li.append(b);
      this.#list.append(li);
    }
  }

  async play(id: string): Promise<void> {
    this.#stop();
    let player: PlayerGlobal;
    try {
      player = await loadPlayer(this.#doc);
    } catch {
      this.#message.textContent = 'The player could not be loaded.';
      return;
    }
    this.#stage.hidden = false;
    this.#player = player.create(`/api/v1/recordings/${encodeURIComponent(id)}`, this.#stage, { autoPlay: true, fit: 'width', idleTimeLimit: 2 });
    this.#stage.dataset.playing = id;
  }

  #stop(): void {
    this.#player?.dispose();
    this.#player = undefined;
    this.#stage.replaceChildren();
    this.#stage.hidden = true;
    delete this.#stage.dataset.playing;
  }
}
