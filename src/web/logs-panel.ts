/**
 * The Logs panel beside a terminal: the container's log (`GET .../log`, follow) with the last N
 * lines, the previous container and timestamps as options, and a filter. New lines follow while
 * the view is at the bottom; the filter shows only matching lines, with each match marked. The page keeps at most MAX_LINES lines; the server streams with
 * backpressure, and closing the panel ends the stream (the fetch is aborted).
 */
import type { ExecTarget } from './exec-socket.js';
import { Disposer } from './lifecycle.js';
import { apiError, podPath } from './tools-api.js';

const MAX_LINES = 5000;

export class LogsPanel {
  readonly el: HTMLElement;
  private readonly out: HTMLPreElement;
  private readonly note: HTMLElement;
  private readonly filter: HTMLInputElement;
  private readonly tail: HTMLInputElement;
  private readonly previous: HTMLInputElement;
  private readonly timestamps: HTMLInputElement;
  private readonly disposer = new Disposer();
  private lines: string[] = [];
  private partial = '';
  private ctl: AbortController | null = null;

  constructor(private readonly doc: Document, private readonly target: ExecTarget) {
    this.el = doc.createElement('aside');
    this.el.className = 'logs-panel';
    this.el.setAttribute('aria-label', `Logs of ${target.container}`);
    const bar = doc.createElement('div');
    bar.className = 'logs-bar';
    const field = (label: string, input: HTMLInputElement): HTMLLabelElement => {
      const l = doc.createElement('label');
      l.append(label, input);
      return l;
    };
    const input = (type: string): HTMLInputElement => {
      const i = doc.createElement('input');
      i.type = type;
      return i;
    };
    this.tail = input('number');
    this.tail.min = '0';
    this.tail.value = '200';
    this.tail.className = 'logs-tail';
    this.previous = input('checkbox');
    this.timestamps = input('checkbox');
    this.filter = input('search');
    this.filter.placeholder = 'Filter';
    this.filter.className = 'logs-filter';
    this.note = doc.createElement('span');
    this.note.className = 'logs-note';
    this.note.setAttribute('role', 'status');
    bar.append(field('Last ', this.tail), field(' Previous', this.previous), field(' Timestamps', this.timestamps), this.filter, this.note);
    this.out = doc.createElement('pre');
    this.out.className = 'logs-out';
    this.out.tabIndex = 0;
    this.el.append(bar, this.out);
    for (const i of [this.tail, this.previous, this.timestamps]) this.disposer.listen(i, 'change', () => void this.start());
    this.disposer.listen(this.filter, 'input', () => this.render());
    this.disposer.add(() => this.ctl?.abort());
  }

  /** (Re)starts the follow with the current options. */
  async start(): Promise<void> {
    this.ctl?.abort();
    const ctl = new AbortController();
    this.ctl = ctl;
    this.lines = [];
    this.partial = '';
    this.render();
    const q = new URLSearchParams({ container: this.target.container, follow: 'true', tailLines: String(Math.max(0, Number(this.tail.value) || 0)) });
    if (this.previous.checked) q.set('previous', 'true');
    if (this.timestamps.checked) q.set('timestamps', 'true');
    this.note.textContent = 'Following…';
    try {
      const res = await fetch(`${podPath(this.target, 'log')}?${q}`, { credentials: 'same-origin', signal: ctl.signal });
      if (!res.ok) throw await apiError(res);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.append(value);
      }
      if (this.ctl === ctl) this.note.textContent = 'The log ended.';
    } catch (err) {
      if (!ctl.signal.aborted) this.note.textContent = (err as Error).message;
    }
  }

  private append(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    if (parts.length === 0) return;
    this.lines.push(...parts);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    this.render();
  }

  private render(): void {
    const atBottom = this.out.scrollTop + this.out.clientHeight >= this.out.scrollHeight - 4;
    const f = this.filter.value.toLowerCase();
    if (f === '') {
      this.out.textContent = this.lines.join('\n') + (this.lines.length > 0 ? '\n' : '');
    } else {
      // Only the matching lines, each match marked (<mark>: announced as highlighted text).
      const view = this.doc.createDocumentFragment();
      for (const line of this.lines) {
        const lower = line.toLowerCase();
        let at = lower.indexOf(f);
        if (at < 0) continue;
        let from = 0;
        while (at >= 0) {
          const mark = this.doc.createElement('mark');
          mark.textContent = line.slice(at, at + f.length);
          view.append(line.slice(from, at), mark);
          from = at + f.length;
          at = lower.indexOf(f, from);
        }
        view.append(line.slice(from) + '\n');
      }
      this.out.replaceChildren(view);
    }
    if (atBottom) this.out.scrollTop = this.out.scrollHeight;
  }

  /** The stream ends; the element is removed. Idempotent. */
  close(): void {
    this.disposer.dispose();
    this.el.remove();
  }
}
