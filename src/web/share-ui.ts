/**
 * Sharing in a terminal's bar (docs/protocol.md, Additions): for the owner, a Share button that
 * makes a read-only link, copies it and shows it in a small dialog with its expiry and Revoke; for
 * a watcher, a read-only badge. Both show who is watching ("2 watching: alice, bob") from op 6.
 */
import type { Viewer } from '../protocol/index.js';
import { ApiError } from './api.js';
import type { Disposer } from './lifecycle.js';
import { createShare, revokeShares } from './shares-api.js';

export type ShareRole = 'owner' | 'observer';

export class ShareBar {
  /** Goes into the terminal's tool bar. */
  readonly el: HTMLElement;
  private readonly watching: HTMLElement;
  private readonly button: HTMLButtonElement | null = null;
  private dialog: ShareDialog | null = null;

  constructor(private readonly doc: Document, role: ShareRole, private readonly disposer: Disposer, private readonly session: () => string | null) {
    this.el = doc.createElement('span');
    this.el.className = 'share-bar';
    if (role === 'owner') {
      const button = doc.createElement('button');
      button.type = 'button';
      button.className = 'share-button';
      button.textContent = 'Share';
      button.title = 'Make a read-only link to this terminal';
      button.disabled = true;
      disposer.listen(button, 'click', () => void this.share());
      this.button = button;
      this.el.append(button);
    } else {
      const badge = doc.createElement('span');
      badge.className = 'read-only-badge';
      badge.textContent = 'read-only';
      badge.title = 'You are watching this terminal; what you type goes nowhere.';
      this.el.append(badge);
    }
    this.watching = doc.createElement('span');
    this.watching.className = 'watching';
    this.watching.setAttribute('role', 'status');
    this.watching.hidden = true;
    this.el.append(this.watching);
    disposer.add(() => this.dialog?.close());
  }

  /** Sharing is possible while the session is live. */
  setLive(live: boolean): void {
    if (this.button) this.button.disabled = !live;
    if (!live) this.setViewers([]);
  }

  /** op 6: "N watching: names", hidden when nobody watches. */
  setViewers(viewers: Viewer[]): void {
    const names = viewers.filter((v) => v.role === 'observer').map((v) => v.user);
    this.watching.hidden = names.length === 0;
    this.watching.textContent = names.length === 0 ? '' : `${names.length} watching: ${[...new Set(names)].join(', ')}`;
  }

  private async share(): Promise<void> {
    const id = this.session();
    if (!id || !this.button) return;
    this.button.disabled = true;
    this.dialog ??= new ShareDialog(this.doc, this.disposer);
    try {
      const share = await createShare(id);
      this.dialog.show(id, share.url, share.expiresAt);
      // Best effort: the click's permission may have lapsed while the link was made (Copy is in the dialog).
      await navigator.clipboard?.writeText(share.url).then(() => this.dialog?.note('The link is copied.'), () => undefined);
    } catch (err) {
      this.dialog.failed(err instanceof ApiError ? err.message : 'The link could not be made.');
    } finally {
      this.button.disabled = false;
    }
  }
}

/**
 * The link, its expiry, Copy, Revoke, Close. One per terminal, made on first use. Not modal: the
 * owner keeps typing while it is open (and can revoke from it while people watch).
 */
class ShareDialog {
  private readonly el: HTMLDialogElement;
  private readonly text: HTMLElement;
  private readonly link: HTMLInputElement;
  private readonly status: HTMLElement;
  private readonly revoke: HTMLButtonElement;

  /** The session the link shown is for (a tab may start a new session later). */
  private session = '';

  constructor(doc: Document, disposer: Disposer) {
    this.el = doc.createElement('dialog');
    this.el.className = 'share-dialog';
    this.el.setAttribute('aria-label', 'Share this terminal');
    this.text = doc.createElement('p');
    this.link = doc.createElement('input');
    this.link.readOnly = true;
    this.link.className = 'share-link';
    this.link.setAttribute('aria-label', 'Read-only link');
    this.status = doc.createElement('p');
    this.status.className = 'share-status';
    this.status.setAttribute('role', 'status');
    const copy = doc.createElement('button');
    copy.type = 'button';
    copy.textContent = 'Copy';
    this.revoke = doc.createElement('button');
    this.revoke.type = 'button';
    this.revoke.className = 'share-revoke';
    this.revoke.textContent = 'Revoke';
    const close = doc.createElement('button');
    close.type = 'button';
    close.textContent = 'Close';
    const buttons = doc.createElement('div');
    buttons.className = 'share-buttons';
    buttons.append(copy, this.revoke, close);
    this.el.append(this.text, this.link, buttons, this.status);
    doc.body.append(this.el);
    disposer.add(() => this.el.remove());
    disposer.listen(copy, 'click', () => void this.copy());
    disposer.listen(this.revoke, 'click', () => void this.doRevoke());
    disposer.listen(close, 'click', () => this.close());
  }

  show(session: string, url: string, expiresAt: string): void {
    this.session = session;
    const when = new Date(expiresAt);
    this.text.textContent = `Anyone signed in who has this link can watch this terminal, read-only, until ${when.toLocaleString()}.`;
    this.link.value = url;
    this.link.hidden = false;
    this.revoke.disabled = false;
    this.status.textContent = '';
    if (!this.el.open) this.el.show();
    this.link.select();
  }

  note(text: string): void {
    this.status.textContent = text;
  }

  failed(text: string): void {
    this.text.textContent = text;
    this.link.hidden = true;
    this.revoke.disabled = true;
    if (!this.el.open) this.el.show();
  }

  private async copy(): Promise<void> {
    this.link.select();
    try {
      await navigator.clipboard.writeText(this.link.value);
      this.note('The link is copied.');
    } catch {
      this.note('Copy the link by hand (Ctrl+C): the browser refused the clipboard.');
    }
  }

  private async doRevoke(): Promise<void> {
    this.revoke.disabled = true;
    try {
      await revokeShares(this.session);
      this.link.hidden = true;
      this.text.textContent = 'Sharing stopped: every link to this terminal is revoked, and its watchers were disconnected.';
      this.status.textContent = '';
    } catch (err) {
      this.revoke.disabled = false;
      this.note(err instanceof ApiError ? err.message : 'The links could not be revoked.');
    }
  }

  close(): void {
    if (this.el.open) this.el.close();
  }
}
