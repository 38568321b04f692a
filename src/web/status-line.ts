/**
 * The line under each terminal that says, in plain words, what the session is doing: connecting,
 * connected (where, which command), exited with code N, or why it failed; with a Reconnect button
 * whenever the session is over.
 */
/** `reconnecting`: the connection dropped and the page resumes the session by itself (with backoff). */
export type StatusKind = 'checking' | 'connecting' | 'connected' | 'reconnecting' | 'exited' | 'failed';

export interface Status {
  kind: StatusKind;
  text: string;
}

export class StatusLine {
  readonly el: HTMLElement;
  private readonly textEl: HTMLElement;
  private readonly button: HTMLButtonElement;

  constructor(doc: Document, onReconnect: () => void) {
    this.el = doc.createElement('div');
    this.el.className = 'status-line';
    this.el.setAttribute('role', 'status');
    this.el.setAttribute('aria-live', 'polite');
    this.textEl = doc.createElement('span');
    this.textEl.className = 'status-text';
    this.button = doc.createElement('button');
    this.button.type = 'button';
    this.button.className = 'reconnect';
    this.button.textContent = 'Reconnect';
    this.button.hidden = true;
    // The button lives exactly as long as this element, so the listener needs no separate undo.
    this.button.addEventListener('click', onReconnect);
    this.el.append(this.textEl, this.button);
  }

  show(status: Status): void {
    this.el.dataset.state = status.kind;
    this.textEl.textContent = status.text;
    this.button.hidden = status.kind !== 'exited' && status.kind !== 'failed';
  }
}
