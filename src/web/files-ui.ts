/**
 * Files for one terminal tab: an Upload button and drag-and-drop onto the terminal (a dialog asks
 * for the target directory, the shell's own when it reports it; progress and Cancel in the tools bar), and Download (a path: a file
 * comes as itself, a directory as NAME.tar; progress from Content-Length when known; an error from
 * the container, such as "No such file or directory", is shown as such).
 */
import type { ExecTarget } from './exec-socket.js';
import type { Disposer } from './lifecycle.js';
import { apiError, filesUrl, uploadFile } from './tools-api.js';

const DEFAULT_DIR = '/tmp';

export class FilesUi {
  readonly uploadButton: HTMLButtonElement;
  readonly downloadButton: HTMLButtonElement;
  readonly progress: HTMLElement;
  private readonly cancel: HTMLButtonElement;
  private readonly text: HTMLElement;
  private lastDir = DEFAULT_DIR;
  private abort: (() => void) | null = null;

  constructor(private readonly doc: Document, private readonly target: ExecTarget, dropZone: HTMLElement, disposer: Disposer, private readonly cwd: () => string | null) {
    const button = (label: string, title: string): HTMLButtonElement => {
      const b = doc.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.title = title;
      return b;
    };
    this.uploadButton = button('Upload', 'Upload a file into the container (or drop files on the terminal)');
    this.downloadButton = button('Download', 'Download a file or directory from the container');
    this.cancel = button('Cancel', 'Cancel the transfer');
    this.cancel.hidden = true;
    this.progress = doc.createElement('span');
    this.progress.className = 'transfer-progress';
    this.progress.setAttribute('role', 'status');
    this.text = doc.createElement('span');
    this.progress.append(this.text, this.cancel);
    const picker = doc.createElement('input');
    picker.type = 'file';
    picker.multiple = true;
    picker.hidden = true;
    this.progress.append(picker);
    disposer.listen(this.uploadButton, 'click', () => picker.click());
    disposer.listen(picker, 'change', () => {
      if (picker.files && picker.files.length > 0) void this.upload([...picker.files]);
      picker.value = '';
    });
    disposer.listen(this.downloadButton, 'click', () => void this.download());
    disposer.listen(this.cancel, 'click', () => this.abort?.());
    disposer.listen(dropZone, 'dragover', (ev) => {
      const e = ev as DragEvent;
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      dropZone.classList.add('drop-target');
    });
    disposer.listen(dropZone, 'dragleave', () => dropZone.classList.remove('drop-target'));
    disposer.listen(dropZone, 'drop', (ev) => {
      const e = ev as DragEvent;
      dropZone.classList.remove('drop-target');
      const files = e.dataTransfer?.files;
      if (!files || files.length === 0) return;
      e.preventDefault();
      void this.upload([...files]);
    });
    disposer.add(() => this.abort?.());
  }

  private say(text: string, busy: boolean): void {
    this.text.textContent = text;
    this.cancel.hidden = !busy;
  }

  /** Asks for the directory, then uploads each file in turn. */
  async upload(files: File[]): Promise<void> {
    const win = this.doc.defaultView!;
    // The shell's directory when it told us (OSC 7), else the last one used (first: /tmp).
    const dir = win.prompt(`Upload ${files.length === 1 ? files[0]!.name : `${files.length} files`} to which directory in ${this.target.container}?`, this.cwd() ?? this.lastDir);
    if (dir === null || dir.trim() === '') return;
    this.lastDir = dir.trim().replace(/\/+$/, '') || '/';
    for (const file of files) {
      const path = `${this.lastDir === '/' ? '' : this.lastDir}/${file.name}`;
      const t = uploadFile(this.target, path, file, 'application/octet-stream', (sent, total) => this.say(`Uploading ${file.name}: ${percent(sent, total)}`, true));
      this.abort = t.abort;
      try {
        await t.done;
        this.say(`Uploaded ${path}`, false);
      } catch (err) {
        this.say(`Upload of ${file.name} failed: ${(err as Error).message}`, false);
        return;
      } finally {
        this.abort = null;
      }
    }
  }

  async download(): Promise<void> {
    const win = this.doc.defaultView!;
    const path = win.prompt(`Download which file or directory from ${this.target.container}?`, this.lastDir);
    if (path === null || path.trim() === '') return;
    const ctl = new AbortController();
    this.abort = () => ctl.abort();
    try {
      const res = await fetch(filesUrl(this.target, path.trim()), { credentials: 'same-origin', signal: ctl.signal });
      if (!res.ok) throw await apiError(res);
      const total = Number(res.headers.get('content-length') ?? 0);
      const name = /filename="([^"]*)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'download';
      const chunks: BlobPart[] = [];
      let got = 0;
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        chunks.push(value as Uint8Array<ArrayBuffer>);
        got += value.byteLength;
        this.say(`Downloading ${name}: ${total > 0 ? percent(got, total) : `${(got / 1048576).toFixed(1)} MB`}`, true);
      }
      const url = URL.createObjectURL(new Blob(chunks));
      const a = this.doc.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
      win.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.say(`Downloaded ${name}`, false);
    } catch (err) {
      this.say(ctl.signal.aborted ? 'Download cancelled.' : `Download failed: ${(err as Error).message}`, false);
    } finally {
      this.abort = null;
    }
  }
}

function percent(sent: number, total: number): string {
  return total > 0 ? `${Math.floor((sent / total) * 100)} %` : `${sent} bytes`;
}
