/**
 * The page: picker, tabs of terminals, font size, theme and deep links, wired together. One App
 * per document; main.ts builds it. The active view is either the picker or one terminal tab.
 */
import { listPods, signOut, whoami } from './api.js';
import type { SessionListItem } from './api.js';
import type { ExecTarget } from './exec-socket.js';
import { formatHash, formatWatchHash, parseHash, parseWatchHash } from './deep-link.js';
import { Disposer } from './lifecycle.js';
import { Picker } from './picker.js';
import { tabLabels } from './tab-labels.js';
import { TabBar } from './tabs.js';
import { TerminalSession, targetLabel } from './terminal-session.js';
import type { SessionHost } from './terminal-session.js';
import { watchTheme } from './theme.js';
import type { ThemeWatcher } from './theme.js';

const FONT_MIN = 8;
const FONT_MAX = 32;
const FONT_DEFAULT = 14;
const FONT_KEY = 'podterm.fontSize';
/**
 * The open tabs and each one's resume token, for this browser tab only (sessionStorage survives a
 * reload, not a new window): a reload brings every tab back, each resuming its session.
 */
const TABS_KEY = 'podterm.tabs';

interface SavedTab extends ExecTarget {
  resumeToken: string | null;
}
interface SavedTabs {
  tabs: SavedTab[];
  /** Index of the active tab; null: the picker. */
  active: number | null;
}

export class App {
  readonly sessions = new Map<string, TerminalSession>();
  private active: string | null = null;
  private nextId = 1;
  /** Bumped per hash followed, so a late pod list for an older hash is ignored. */
  private hashFollows = 0;
  private fontSize: number;
  private readonly disposer = new Disposer();
  private readonly picker: Picker;
  private readonly tabs: TabBar;
  private readonly theme: ThemeWatcher;
  private readonly host: SessionHost;

  constructor(private readonly doc: Document, private readonly win: Window) {
    this.fontSize = this.loadFontSize();
    this.theme = watchTheme(win);
    this.disposer.add(() => this.theme.close());
    this.disposer.add(this.theme.onChange((t) => this.sessions.forEach((s) => s.setTheme(t))));
    this.host = {
      fontSize: () => this.fontSize,
      theme: () => this.theme.current,
      commands: {
        fontBigger: () => this.setFontSize(this.fontSize + 1),
        fontSmaller: () => this.setFontSize(this.fontSize - 1),
        fontReset: () => this.setFontSize(FONT_DEFAULT),
        openSearch: () => this.activeSession()?.openSearch(),
      },
      changed: (s) => this.onSessionChanged(s),
      openTerminal: (t) => void this.openTerminal(t, false),
    };
    this.picker = new Picker(doc, { open: (t) => this.openTerminal(t, false) });
    this.disposer.add(() => this.picker.close());
    this.tabs = new TabBar(doc, doc.getElementById('tab-list')!, {
      select: (id) => this.activate(id),
      close: (id) => this.closeTab(id),
    });
    this.disposer.add(() => this.tabs.close());
    this.disposer.listen(doc.getElementById('new-terminal')!, 'click', () => {
      this.activate(null);
      void this.picker.refresh();
    });
    // After a pointer click the keyboard goes back to the terminal, or the next Enter or Space
    // would press the button again (issue 8 item 13). A keyboard press (detail 0) keeps focus on
    // the button, so keyboard users can press it again and do not lose their place.
    const fontButton = (id: string, action: () => void): void => this.disposer.listen(doc.getElementById(id)!, 'click', (ev) => {
      action();
      if (ev.detail > 0) this.activeSession()?.view.focus();
    });
    fontButton('font-smaller', () => this.host.commands.fontSmaller());
    fontButton('font-bigger', () => this.host.commands.fontBigger());
    this.disposer.listen(win, 'hashchange', () => this.followHash());
    // Keys that work outside a focused terminal too (the terminal's own handler covers inside).
    this.disposer.listen(doc, 'keydown', (ev) => this.onPageKey(ev as KeyboardEvent));
    this.disposer.add(() => this.sessions.forEach((s) => s.close()));
    this.showFontSize();
  }

  /** The signed-in person in the header, with Sign out; the header stays as it was when unknown. */
  private async showAccount(): Promise<void> {
    try {
      const me = await whoami();
      const name = this.doc.getElementById('whoami')!;
      name.textContent = me.username;
      name.title = me.groups.length ? `${me.username} (${me.groups.join(', ')})` : me.username;
      (this.doc.querySelector('.account') as HTMLElement).hidden = false;
    } catch {
      // Not signed in any more: the next API call says so in words.
    }
  }

  private async signOut(): Promise<void> {
    this.sessions.forEach((s) => s.close());
    try {
      this.win.location.assign(await signOut());
    } catch {
      this.win.location.assign('/');
    }
  }

  start(): void {
    void this.showAccount();
    this.disposer.listen(this.doc.getElementById('sign-out')!, 'click', () => void this.signOut());
    // A share link opens the page in watch mode: that terminal only, read-only.
    const watch = parseWatchHash(this.win.location.hash);
    if (watch !== null) {
      this.openWatch(watch);
      return;
    }
    const saved = this.loadTabs();
    if (saved.tabs.length > 0) {
      // attach survives a reload: a debug container is attached to, never exec'd into.
      const ids = saved.tabs.map((t) => this.openTerminal({ namespace: t.namespace, pod: t.pod, container: t.container, ...(t.attach === true ? { attach: true } : {}) }, false, t.resumeToken));
      const active = saved.active !== null ? ids[saved.active] : undefined;
      if (active !== undefined) this.activate(this.idOf(active));
      else if (!this.followHash()) void this.picker.load();
      return;
    }
    if (!this.followHash()) void this.picker.load();
  }

  private idOf(s: TerminalSession): string | null {
    for (const [id, x] of this.sessions) if (x === s) return id;
    return null;
  }

  private loadTabs(): SavedTabs {
    try {
      const raw: unknown = JSON.parse(this.win.sessionStorage.getItem(TABS_KEY) ?? 'null');
      const v = raw as Partial<SavedTabs> | null;
      if (!v || !Array.isArray(v.tabs)) return { tabs: [], active: null };
      const str = (x: unknown): x is string => typeof x === 'string' && x !== '';
      const tabs = v.tabs.filter((t: SavedTab) => str(t.namespace) && str(t.pod) && str(t.container) && (t.resumeToken === null || str(t.resumeToken)));
      return { tabs, active: Number.isInteger(v.active) ? (v.active as number) : null };
    } catch {
      return { tabs: [], active: null }; // storage disabled or a value we did not write
    }
  }

  private saveTabs(): void {
    // A watched terminal is not the person's own: a reload comes back to it through its #watch= link.
    const all = [...this.sessions].filter(([, s]) => s.watchToken === null);
    const tabs: SavedTab[] = all.map(([, s]) => ({ ...s.target, resumeToken: s.resumeToken }));
    const active = all.findIndex(([id]) => id === this.active);
    if (all.length === 0 && this.sessions.size > 0) return; // watch mode only: keep what was saved
    try {
      this.win.sessionStorage.setItem(TABS_KEY, JSON.stringify({ tabs, active: active === -1 ? null : active } satisfies SavedTabs));
    } catch {
      // Storage disabled: a reload then opens the deep-linked tab only, with a new session.
    }
  }

  private loadFontSize(): number {
    let saved = NaN;
    try {
      saved = Number(this.win.localStorage.getItem(FONT_KEY));
    } catch {
      // Storage can be disabled by the browser; the default size is fine then.
    }
    return Number.isInteger(saved) && saved >= FONT_MIN && saved <= FONT_MAX ? saved : FONT_DEFAULT;
  }

  setFontSize(px: number): void {
    this.fontSize = Math.min(FONT_MAX, Math.max(FONT_MIN, px));
    try {
      this.win.localStorage.setItem(FONT_KEY, String(this.fontSize));
    } catch {
      // Not remembered across reloads when storage is disabled; nothing else depends on it.
    }
    this.sessions.forEach((s) => s.setFontSize(this.fontSize));
    this.showFontSize();
  }

  private showFontSize(): void {
    this.doc.getElementById('font-size')!.textContent = `${this.fontSize}px`;
  }

  private onPageKey(ev: KeyboardEvent): void {
    if (!ev.ctrlKey || ev.altKey || ev.metaKey) return;
    if (ev.target instanceof HTMLElement && ev.target.closest('.xterm')) return;
    const cmds = this.host.commands;
    const action = ev.shiftKey && ev.key.toLowerCase() === 'f' ? cmds.openSearch
      : ev.key === '=' || ev.key === '+' ? cmds.fontBigger : ev.key === '-' ? cmds.fontSmaller : null;
    if (!action) return;
    ev.preventDefault();
    action();
  }

  /** true when the hash made the picker load a namespace. */
  private followHash(): boolean {
    const watch = parseWatchHash(this.win.location.hash);
    if (watch !== null) {
      this.openWatch(watch);
      return false;
    }
    const link = parseHash(this.win.location.hash);
    const follow = ++this.hashFollows;
    if (!link) return false;
    if (link.pod && link.container) {
      this.openTerminal({ namespace: link.namespace, pod: link.pod, container: link.container }, true);
      return false;
    }
    if (link.pod) {
      void this.openDefaultContainer(link.namespace, link.pod, follow);
      return false;
    }
    this.activate(null);
    void this.picker.load(link.namespace);
    return true;
  }

  /**
   * `#/ns/pod` opens the pod's default container, as `kubectl exec` does: the gateway's pod list
   * gives it (the kubectl.kubernetes.io/default-container annotation, else the first container).
   * A pod that cannot be listed opens the picker there instead, which says why.
   */
  private async openDefaultContainer(namespace: string, pod: string, follow: number): Promise<void> {
    let container: string | null = null;
    try {
      const found = (await listPods(namespace)).find((p) => p.name === pod);
      container = found ? found.defaultContainer ?? found.containers[0]?.name ?? null : null;
    } catch {
      // The picker below asks again and shows the error in words.
    }
    if (follow !== this.hashFollows) return; // the hash moved on while the list loaded
    if (container !== null) {
      this.openTerminal({ namespace, pod, container }, true);
      return;
    }
    this.activate(null);
    void this.picker.load(namespace, pod);
  }

  activeSession(): TerminalSession | null {
    return this.active === null ? null : this.sessions.get(this.active) ?? null;
  }

  /**
   * Opens a terminal for the target. A deep link (reuse) switches to a live tab of the same target
   * instead; the picker always opens a new one, since two shells in one container are normal.
   */
  openTerminal(target: ExecTarget, reuse: boolean, resumeToken: string | null = null): TerminalSession {
    for (const [id, s] of reuse ? this.sessions : []) {
      if (targetLabel(s.target) === targetLabel(target) && s.state !== 'exited' && s.state !== 'failed') {
        this.activate(id);
        return s;
      }
    }
    const id = `t${this.nextId++}`;
    const session = new TerminalSession(this.doc, target, this.host, resumeToken);
    session.panel.id = `panel-${id}`;
    session.panel.setAttribute('aria-labelledby', `tab-${id}`);
    this.sessions.set(id, session);
    this.tabs.add(id, session.label);
    this.relabel();
    this.activate(id);
    void session.connect();
    return session;
  }

  /** Watches a shared terminal (a `#watch=TOKEN` link) in a tab of its own; a tab already watching it is reused. */
  openWatch(token: string): TerminalSession {
    for (const [id, s] of this.sessions) {
      if (s.watchToken === token) {
        this.activate(id);
        return s;
      }
    }
    const id = `t${this.nextId++}`;
    const session = new TerminalSession(this.doc, { namespace: '', pod: '', container: '' }, this.host, null, token);
    session.panel.id = `panel-${id}`;
    session.panel.setAttribute('aria-labelledby', `tab-${id}`);
    this.sessions.set(id, session);
    this.tabs.add(id, session.label);
    this.activate(id);
    void session.connect();
    return session;
  }

  /** Whether a live tab of this page shows that session (the Sessions panel says "attached here"). */
  hasSession(id: string): boolean {
    return this.tabOf(id) !== null;
  }

  private tabOf(sessionId: string): string | null {
    for (const [id, s] of this.sessions) {
      if (s.sessionId === sessionId && s.state !== 'exited' && s.state !== 'failed') return id;
    }
    return null;
  }

  /**
   * The Sessions panel's click: the tab that has the session already, else a new tab that resumes
   * it with its token (from another tab, window or browser of the same person).
   */
  attachSession(item: SessionListItem): void {
    const open = this.tabOf(item.id);
    if (open !== null) {
      this.activate(open);
      return;
    }
    if (item.container === null || item.resumeToken === undefined) return; // still starting: nothing to resume
    this.openTerminal({ namespace: item.namespace, pod: item.pod, container: item.container }, false, item.resumeToken);
  }

  /** null shows the picker. */
  activate(id: string | null): void {
    this.active = id !== null && this.sessions.has(id) ? id : null;
    this.doc.getElementById('picker')!.hidden = this.active !== null;
    this.doc.getElementById('new-terminal')!.setAttribute('aria-pressed', String(this.active === null));
    for (const [sid, s] of this.sessions) s.show(sid === this.active);
    this.tabs.activate(this.active);
    const s = this.activeSession();
    // replaceState: no history entry per tab click, and no hashchange event to loop on.
    const hash = s?.watchToken ? formatWatchHash(s.watchToken) : formatHash(s ? { ...s.target } : null);
    if (this.win.location.hash !== hash) this.win.history.replaceState(null, '', hash);
    this.updateTitle();
    this.saveTabs();
    if (!s) this.picker.focus();
  }

  closeTab(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    s.close(); // closes its socket with 1000: the × ends the session
    this.sessions.delete(id);
    this.tabs.remove(id);
    this.relabel();
    if (this.active === id) this.activate(this.sessions.keys().next().value ?? null);
    this.saveTabs();
  }

  private onSessionChanged(s: TerminalSession): void {
    for (const [id, x] of this.sessions) if (x === s) this.tabs.update(id, s.label, s.state);
    if (s === this.activeSession()) this.updateTitle();
    this.saveTabs(); // the resume token changes with the state (a new session, or one that ended)
  }

  /** Labels depend on every open tab: a second `shell/main` in another namespace renames both. */
  private relabel(): void {
    const all = [...this.sessions].filter(([, s]) => s.watchToken === null);
    const labels = tabLabels(all.map(([, s]) => s.target));
    all.forEach(([id, s], i) => {
      if (s.label === labels[i]) return;
      s.label = labels[i]!;
      this.tabs.update(id, s.label, s.state);
    });
    this.updateTitle();
  }

  private updateTitle(): void {
    const s = this.activeSession();
    this.doc.title = s ? `${s.label} (${s.state}) · podterm` : 'podterm';
  }

  close(): void {
    this.disposer.dispose();
  }
}
