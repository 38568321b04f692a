/**
 * Sessions: a panel that lists the signed-in person's live sessions (`GET /api/v1/sessions`,
 * docs/protocol.md, Additions) — attached here, attached elsewhere, or detached with the time left
 * before the detach grace ends it — and lets the person attach to one (resume it in a tab, or show
 * the tab that already has it) or end it (`DELETE /api/v1/sessions/{id}`).
 *
 * While open it asks again every REFRESH_MS and counts the time left down every second. Rows are
 * kept by session id and updated in place, so a refresh never swaps a button from under a click.
 */
import { ApiError, endSession, listSessions } from './api.js';
import type { SessionListItem } from './api.js';
import { Disposer } from './lifecycle.js';
import { commandLabel, sessionState } from './session-words.js';

const REFRESH_MS = 2000;
const TICK_MS = 1000;

export interface SessionsPanelHost {
  /** Whether a tab of this page shows that session now. */
  isOpenHere(id: string): boolean;
  /** Show the session: its tab if one has it, else a new tab that resumes it with the token. */
  attach(item: SessionListItem): void;
}

interface Row {
  li: HTMLElement;
  open: HTMLButtonElement;
  end: HTMLButtonElement;
  item: SessionListItem;
}

export class SessionsPanel {
  readonly #doc: Document;
  readonly #host: SessionsPanelHost;
  readonly #panel: HTMLElement;
  readonly #list: HTMLElement;
  readonly #message: HTMLElement;
  readonly #rows = new Map<string, Row>();
  readonly #disposer = new Disposer();
  /** The timers of the open panel; disposed when it hides. */
  #open: Disposer | undefined;
  /** Bumped per fetch, so an answer older than the last one shown is dropped. */
  #fetches = 0;
  #shown = 0;

  constructor(doc: Document, host: SessionsPanelHost) {
    this.#doc = doc;
    this.#host = host;
    this.#panel = doc.getElementById('sessions')!;
    this.#list = doc.getElementById('session-list')!;
    this.#message = doc.getElementById('sessions-message')!;
    this.#disposer.listen(doc.getElementById('sessions-button')!, 'click', () => this.toggle());
    this.#disposer.listen(doc.getElementById('sessions-close')!, 'click', () => this.hide());
    this.#disposer.add(() => this.hide());
  }

  get visible(): boolean {
    return !this.#panel.hidden;
  }

  toggle(): void {
    if (this.visible) this.hide();
    else this.show();
  }

  show(): void {
    if (this.visible) return;
    this.#panel.hidden = false;
    this.#doc.getElementById('sessions-button')!.setAttribute('aria-pressed', 'true');
    this.#message.textContent = 'Loading…';
    const open = new Disposer();
    this.#open = open;
    const win = this.#doc.defaultView!;
    const refresh = win.setInterval(() => void this.refresh(), REFRESH_MS);
    open.add(() => win.clearInterval(refresh));
    const tick = win.setInterval(() => this.#render(), TICK_MS);
    open.add(() => win.clearInterval(tick));
    void this.refresh();
  }

  hide(): void {
    this.#open?.dispose();
    this.#open = undefined;
    this.#fetches++; // an answer still on its way is not shown
    this.#panel.hidden = true;
    this.#doc.getElementById('sessions-button')?.setAttribute('aria-pressed', 'false');
  }

  async refresh(): Promise<void> {
    const n = ++this.#fetches;
    let items: SessionListItem[];
    try {
      items = await listSessions();
    } catch (err) {
      if (n !== this.#fetches) return;
      this.#message.textContent = err instanceof ApiError ? err.message : 'The sessions could not be listed.';
      return;
    }
    if (n !== this.#fetches || n < this.#shown) return;
    this.#shown = n;
    this.#update(items);
  }

  #update(items: SessionListItem[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(item.id);
      const row = this.#rows.get(item.id) ?? this.#addRow(item);
      row.item = item;
    }
    for (const [id, row] of this.#rows) {
      if (seen.has(id)) continue;
      row.li.remove();
      this.#rows.delete(id);
    }
    this.#message.textContent = items.length === 0 ? 'No sessions.' : `${items.length} session${items.length === 1 ? '' : 's'}`;
    this.#render();
  }

  #addRow(item: SessionListItem): Row {
    const li = this.#doc.createElement('li');
    li.className = 'session-item';
    li.dataset.id = item.id;
    const open = this.#doc.createElement('button');
    open.type = 'button';
    open.className = 'session-row';
    const end = this.#doc.createElement('button');
    end.type = 'button';
    end.className = 'session-end';
    end.textContent = 'End';
    li.append(open, end);
    this.#list.append(li);
    const row: Row = { li, open, end, item };
    // The row's current item at click time: a refresh may have changed its state or token.
    open.addEventListener('click', () => {
      this.hide();
      this.#host.attach(row.item);
    });
    end.addEventListener('click', () => void this.#end(row));
    this.#rows.set(item.id, row);
    return row;
  }

  async #end(row: Row): Promise<void> {
    row.end.disabled = true;
    try {
      await endSession(row.item.id);
    } catch (err) {
      this.#message.textContent = err instanceof ApiError ? err.message : 'The session could not be ended.';
      row.end.disabled = false;
      return;
    }
    row.li.remove();
    this.#rows.delete(row.item.id);
    if (this.visible) void this.refresh();
  }

  /** Texts of every row from its last item and the clock (the time left moves between fetches). */
  #render(): void {
    const now = Date.now();
    for (const row of this.#rows.values()) {
      const it = row.item;
      const here = this.#host.isOpenHere(it.id);
      const state = sessionState(it, here, now);
      const viewers = it.viewers.length;
      row.li.dataset.state = it.state;
      row.open.textContent = `${it.namespace}/${it.pod}/${it.container ?? '…'} · ${commandLabel(it.command)} · ${state} · ${viewers} viewer${viewers === 1 ? '' : 's'}`;
      row.open.title = `${here ? 'Show' : 'Attach to'} this session (started ${new Date(it.createdAt).toLocaleString()})`;
      row.end.setAttribute('aria-label', `End ${it.namespace}/${it.pod}/${it.container ?? ''}`);
      row.open.disabled = it.container === null; // still starting: nothing to resume into yet
    }
  }

  close(): void {
    this.#disposer.dispose();
  }
}
