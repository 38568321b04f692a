/**
 * Namespace -> pod -> container picker over the HTTP API. Every item is a button in a list, so the
 * keyboard alone works (Tab between lists, Enter/Space to choose). A pod or container that cannot
 * be exec'd into stays visible and focusable with the reason next to it, instead of failing quietly.
 */
import { ApiError, listNamespaces, listPods, whyNotExec } from './api.js';
import type { PodInfo } from './api.js';
import type { ExecTarget } from './exec-socket.js';
import { Disposer } from './lifecycle.js';

export interface PickerEvents {
  open(target: ExecTarget): void;
}

function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = doc.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class Picker {
  private readonly disposer = new Disposer();
  private readonly nsList: HTMLElement;
  private readonly podList: HTMLElement;
  private readonly containerList: HTMLElement;
  private readonly message: HTMLElement;
  private readonly filter: HTMLInputElement;
  private namespace: string | null = null;
  private pods: PodInfo[] = [];
  private podName: string | null = null;
  /** Aborts the previous load when the user clicks faster than the API answers. */
  private loading: AbortController | null = null;

  constructor(private readonly doc: Document, private readonly events: PickerEvents) {
    this.nsList = doc.getElementById('ns-list')!;
    this.podList = doc.getElementById('pod-list')!;
    this.containerList = doc.getElementById('container-list')!;
    this.message = doc.getElementById('picker-message')!;
    this.filter = doc.getElementById('pod-filter') as HTMLInputElement;
    this.disposer.listen(this.filter, 'input', () => this.renderPods());
    this.disposer.listen(doc.getElementById('picker-refresh')!, 'click', () => void this.refresh());
    this.disposer.add(() => this.loading?.abort());
  }

  private say(text: string): void {
    this.message.textContent = text;
  }

  private nextLoad(): AbortSignal {
    this.loading?.abort();
    this.loading = new AbortController();
    return this.loading.signal;
  }

  /** Loads namespaces, then one namespace's pods, optionally selecting a pod. */
  async load(namespace: string | null = null, pod: string | null = null): Promise<void> {
    const signal = this.nextLoad();
    this.say('Loading namespaces…');
    try {
      const namespaces = await listNamespaces(signal);
      this.nsList.replaceChildren(...namespaces.map((ns) => this.item(ns.name, 'namespace', ns.name, null, () => void this.selectNamespace(ns.name))));
      this.say(namespaces.length ? '' : 'No namespaces are visible to you.');
      // Start somewhere useful: the asked-for namespace, else "default", else the first one.
      const pick = namespace ?? (namespaces.find((ns) => ns.name === 'default') ?? namespaces[0])?.name ?? null;
      if (pick) await this.selectNamespace(pick, pod);
    } catch (err) {
      if (!signal.aborted) this.say(err instanceof ApiError ? err.message : 'The podterm server cannot be reached.');
    }
  }

  async selectNamespace(namespace: string, pod: string | null = null): Promise<void> {
    const signal = this.nextLoad();
    this.namespace = namespace;
    this.podName = null;
    this.pods = [];
    this.markSelected(this.nsList, 'namespace', namespace);
    this.podList.replaceChildren();
    this.containerList.replaceChildren();
    this.say(`Loading pods in ${namespace}…`);
    try {
      const pods = await listPods(namespace, signal);
      if (signal.aborted) return;
      this.pods = pods;
      const forbidden = pods.length > 0 && pods.every((p) => p.execAllowed === false);
      this.say(!pods.length ? `Namespace ${namespace} has no pods.` : forbidden ? `You may not open a terminal in namespace ${namespace}.` : '');
      this.renderPods();
      if (pod) this.selectPod(pod);
    } catch (err) {
      if (!signal.aborted) this.say(err instanceof ApiError ? err.message : 'The podterm server cannot be reached.');
    }
  }

  private renderPods(): void {
    const q = this.filter.value.trim().toLowerCase();
    const shown = this.pods.filter((p) => p.name.toLowerCase().includes(q));
    this.podList.replaceChildren(...shown.map((p) => {
      const why = whyNotExec(p, null);
      const detail = `${p.phase}${p.ready ? ' · ready' : ' · not ready'}`;
      return this.item(p.name, 'pod', p.name, why ?? detail, () => this.selectPod(p.name), why !== null || !p.ready);
    }));
    if (this.pods.length && !shown.length) this.say(`No pod matches “${this.filter.value}”.`);
    if (this.podName) this.markSelected(this.podList, 'pod', this.podName);
  }

  selectPod(name: string): void {
    const pod = this.pods.find((p) => p.name === name);
    if (!pod || !this.namespace) {
      this.say(`Pod ${name} does not exist in namespace ${this.namespace ?? ''}.`);
      return;
    }
    const namespace = this.namespace;
    this.podName = name;
    this.markSelected(this.podList, 'pod', name);
    this.containerList.replaceChildren(...pod.containers.map((c) => {
      const why = whyNotExec(pod, c.name);
      const detail = why ?? (c.ready ? 'running · ready' : 'running · not ready');
      const open = (): void => {
        if (why) this.say(`Cannot open a terminal: ${why}.`);
        else this.events.open({ namespace, pod: pod.name, container: c.name });
      };
      const item = this.item(c.name, 'container', c.name, detail, open, why !== null);
      if (why) item.querySelector('button')!.setAttribute('aria-disabled', 'true');
      return item;
    }));
    this.say(whyNotExec(pod, null) ?? '');
  }

  private item(label: string, kind: string, value: string, detail: string | null, onClick: () => void, warn = false): HTMLLIElement {
    const li = el(this.doc, 'li');
    const b = el(this.doc, 'button', `pick-item${warn ? ' warn' : ''}`);
    b.type = 'button';
    b.dataset[kind] = value;
    b.append(el(this.doc, 'span', 'pick-name', label));
    if (detail) b.append(el(this.doc, 'span', 'pick-detail', detail));
    // Items are replaced wholesale on every render, so their listeners go with them.
    b.addEventListener('click', onClick);
    li.append(b);
    return li;
  }

  private markSelected(list: HTMLElement, kind: string, value: string): void {
    for (const b of list.querySelectorAll<HTMLButtonElement>('button.pick-item')) {
      b.setAttribute('aria-pressed', String(b.dataset[kind] === value));
    }
  }

  /**
   * Refetches the pods of the namespace on screen and re-renders them in place, keeping the
   * selection, so states are fresh when the picker reopens. Nothing is cleared while it loads, so a
   * click during the refresh is not lost.
   */
  async refresh(): Promise<void> {
    const namespace = this.namespace;
    if (namespace === null) return void this.load();
    const signal = this.nextLoad();
    try {
      const pods = await listPods(namespace, signal);
      if (signal.aborted || namespace !== this.namespace) return;
      this.pods = pods;
      this.renderPods();
      if (this.podName) this.selectPod(this.podName);
    } catch (err) {
      if (!signal.aborted) this.say(err instanceof ApiError ? err.message : 'The podterm server cannot be reached.');
    }
  }

  focus(): void {
    const first = this.doc.querySelector<HTMLButtonElement>('#picker button.pick-item[aria-pressed="true"], #picker button.pick-item');
    first?.focus();
  }

  close(): void {
    this.disposer.dispose();
  }
}
