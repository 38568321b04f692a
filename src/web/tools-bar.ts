/**
 * The bar above a terminal: Upload, Download (files-ui.ts), Logs (a panel beside the terminal,
 * logs-panel.ts), and, when the container has no shell (`NoShell`), "Start a debug container":
 * one click adds an ephemeral container targeting this one and opens it in a new tab (attach).
 */
import type { ExecTarget } from './exec-socket.js';
import { FilesUi } from './files-ui.js';
import type { Disposer } from './lifecycle.js';
import { LogsPanel } from './logs-panel.js';
import { startDebugContainer } from './tools-api.js';

export class ToolsBar {
  readonly el: HTMLElement;
  /** The terminal and, when open, the logs panel side by side. */
  readonly row: HTMLElement;
  private readonly logsButton: HTMLButtonElement;
  private readonly debugButton: HTMLButtonElement;
  private readonly debugNote: HTMLElement;
  private logs: LogsPanel | null = null;

  /** `cwd`: the shell's directory when known (the upload dialog's default). */
  constructor(private readonly doc: Document, private readonly target: ExecTarget, termHost: HTMLElement, disposer: Disposer, private readonly open: (t: ExecTarget) => void, cwd: () => string | null) {
    this.el = doc.createElement('div');
    this.el.className = 'terminal-tools';
    this.el.setAttribute('role', 'toolbar');
    this.el.setAttribute('aria-label', 'Container tools');
    this.row = doc.createElement('div');
    this.row.className = 'terminal-row';
    this.row.append(termHost);
    const files = new FilesUi(doc, target, termHost, disposer, cwd);
    this.logsButton = doc.createElement('button');
    this.logsButton.type = 'button';
    this.logsButton.textContent = 'Logs';
    this.logsButton.setAttribute('aria-pressed', 'false');
    this.debugButton = doc.createElement('button');
    this.debugButton.type = 'button';
    this.debugButton.className = 'debug-offer';
    this.debugButton.textContent = 'Start a debug container';
    this.debugButton.hidden = true;
    this.debugNote = doc.createElement('span');
    this.debugNote.setAttribute('role', 'status');
    this.el.append(files.uploadButton, files.downloadButton, this.logsButton, this.debugButton, this.debugNote, files.progress);
    disposer.listen(this.logsButton, 'click', () => this.toggleLogs());
    disposer.listen(this.debugButton, 'click', () => void this.debug());
    disposer.add(() => this.logs?.close());
  }

  toggleLogs(): void {
    if (this.logs) {
      this.logs.close();
      this.logs = null;
    } else {
      this.logs = new LogsPanel(this.doc, this.target);
      this.row.append(this.logs.el);
      void this.logs.start();
    }
    this.logsButton.setAttribute('aria-pressed', String(this.logs !== null));
  }

  /** The container has no shell: offer the one-click debug container. */
  offerDebug(): void {
    this.debugButton.hidden = false;
  }

  private async debug(): Promise<void> {
    this.debugButton.disabled = true;
    this.debugNote.textContent = 'Starting a debug container…';
    try {
      const container = await startDebugContainer(this.target);
      this.debugNote.textContent = `Debug container ${container} is running.`;
      this.open({ namespace: this.target.namespace, pod: this.target.pod, container, attach: true });
    } catch (err) {
      this.debugNote.textContent = `The debug container did not start: ${(err as Error).message}`;
    } finally {
      this.debugButton.disabled = false;
    }
  }
}
