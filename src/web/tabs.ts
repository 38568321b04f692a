/**
 * The tab bar: one tab per terminal (pod/container and a state mark), each a button with its own
 * close button, in a role=tablist so screen readers and the keyboard see tabs.
 */
import { Disposer } from './lifecycle.js';

export interface TabEvents {
  select(id: string): void;
  close(id: string): void;
}

const STATE_MARK: Record<string, string> = {
  checking: '…', connecting: '…', connected: '●', reconnecting: '…', exited: '■', failed: '!',
};

export class TabBar {
  private readonly disposer = new Disposer();
  private readonly tabs = new Map<string, {
    li: HTMLElement; tab: HTMLButtonElement; label: HTMLElement; mark: HTMLElement; state: HTMLElement; close: HTMLButtonElement;
  }>();

  constructor(private readonly doc: Document, private readonly list: HTMLElement, private readonly events: TabEvents) {
    // One delegated listener for every tab and close button; it dies with the bar.
    this.disposer.listen(list, 'click', (ev) => {
      const target = (ev.target as HTMLElement).closest<HTMLElement>('[data-tab-id]');
      if (!target) return;
      const id = target.dataset.tabId!;
      if (target.classList.contains('tab-close')) this.events.close(id);
      else this.events.select(id);
    });
  }

  add(id: string, title: string): void {
    const li = this.doc.createElement('li');
    li.className = 'tab-item';
    li.setAttribute('role', 'presentation');
    const tab = this.doc.createElement('button');
    tab.type = 'button';
    tab.className = 'tab';
    tab.setAttribute('role', 'tab');
    tab.dataset.tabId = id;
    tab.id = `tab-${id}`;
    tab.setAttribute('aria-controls', `panel-${id}`);
    const mark = this.doc.createElement('span');
    mark.className = 'tab-mark';
    mark.setAttribute('aria-hidden', 'true');
    const label = this.doc.createElement('span');
    label.className = 'tab-label';
    // The state in words: visible unless connected (the green mark says that), always read aloud.
    const state = this.doc.createElement('span');
    state.className = 'tab-state';
    tab.append(mark, label, state);
    const close = this.doc.createElement('button');
    close.type = 'button';
    close.className = 'tab-close';
    close.dataset.tabId = id;
    close.textContent = '×';
    li.append(tab, close);
    this.list.append(li);
    this.tabs.set(id, { li, tab, label, mark, state, close });
    this.update(id, title, 'checking');
  }

  update(id: string, title: string, state: string): void {
    const t = this.tabs.get(id);
    if (!t) return;
    t.label.textContent = title;
    t.mark.textContent = STATE_MARK[state] ?? '';
    t.state.textContent = state === 'checking' ? 'connecting' : state;
    t.tab.dataset.state = state;
    t.tab.title = `${title} — ${state}`;
    t.close.title = `Close ${title}`;
    t.close.setAttribute('aria-label', `Close ${title}`);
  }

  /** Selects the tab and scrolls the strip (it scrolls sideways when tabs overflow) to show it. */
  activate(id: string | null): void {
    for (const [tid, t] of this.tabs) t.tab.setAttribute('aria-selected', String(tid === id));
    // 'nearest' on both axes: only the strip moves, and only as far as needed.
    if (id !== null) this.tabs.get(id)?.li.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  remove(id: string): void {
    this.tabs.get(id)?.li.remove();
    this.tabs.delete(id);
  }

  close(): void {
    this.disposer.dispose();
  }
}
