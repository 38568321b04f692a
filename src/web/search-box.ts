/**
 * The small find box over a terminal (Ctrl+Shift+F): Enter finds the next match, Shift+Enter the
 * previous one, Escape closes it and gives the keyboard back to the terminal.
 */
import type { SearchAddon } from '@xterm/addon-search';
import { Disposer } from './lifecycle.js';

const DECORATIONS = {
  matchOverviewRuler: '#d6a400',
  activeMatchColorOverviewRuler: '#ff7b00',
  matchBackground: '#d6a40066',
  activeMatchBackground: '#ff7b00aa',
};

export class SearchBox {
  readonly el: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly disposer = new Disposer();

  constructor(doc: Document, private readonly search: SearchAddon, private readonly onClosed: () => void) {
    this.el = doc.createElement('div');
    this.el.className = 'search-box';
    this.el.hidden = true;
    this.el.setAttribute('role', 'search');
    this.input = doc.createElement('input');
    this.input.type = 'search';
    this.input.placeholder = 'Find';
    this.input.setAttribute('aria-label', 'Find in terminal');
    const prev = this.button(doc, '↑', 'Previous match', () => this.find(false));
    const next = this.button(doc, '↓', 'Next match', () => this.find(true));
    const close = this.button(doc, '×', 'Close find', () => this.close());
    this.el.append(this.input, prev, next, close);
    this.disposer.listen(this.input, 'keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        this.find(!ev.shiftKey);
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        this.close();
      }
    });
    this.disposer.listen(this.input, 'input', () => this.find(true, true));
  }

  private button(doc: Document, label: string, title: string, fn: () => void): HTMLButtonElement {
    const b = doc.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.title = title;
    b.setAttribute('aria-label', title);
    this.disposer.listen(b, 'click', fn);
    return b;
  }

  private find(forward: boolean, incremental = false): void {
    const q = this.input.value;
    if (!q) {
      this.search.clearDecorations();
      return;
    }
    const opts = { decorations: DECORATIONS, incremental };
    if (forward) this.search.findNext(q, opts);
    else this.search.findPrevious(q, opts);
  }

  open(): void {
    this.el.hidden = false;
    this.input.focus();
    this.input.select();
  }

  close(): void {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.search.clearDecorations();
    this.onClosed();
  }

  dispose(): void {
    this.disposer.dispose();
  }
}
