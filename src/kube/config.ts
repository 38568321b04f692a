/**
 * Where Kubernetes credentials come from, and one KubeConfig per context. This folder is the only
 * importer of @kubernetes/client-node (STYLE.md, import directions).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { PodtermError } from '../protocol/errors.js';

export type KubeSource = { kind: 'kubeconfig'; yaml: string } | { kind: 'in-cluster' };

/** Parsed kubeconfig with one KubeConfig per context, built on first use and then reused. */
export class KubeContexts {
  readonly #source: KubeSource;
  readonly #base: KubeConfig;
  readonly #byContext = new Map<string, KubeConfig>();

  constructor(source: KubeSource) {
    this.#source = source;
    this.#base = new KubeConfig();
    if (source.kind === 'kubeconfig') this.#base.loadFromString(source.yaml);
    else this.#base.loadFromCluster();
  }

  get currentContext(): string {
    return this.#base.getCurrentContext();
  }

  contextNames(): string[] {
    return this.#base.getContexts().map((c) => c.name);
  }

  /** The namespace a context names (kubeconfig `namespace:`), else `default`. */
  namespaceOf(context: string | undefined): string {
    return this.#base.getContextObject(context ?? this.currentContext)?.namespace ?? 'default';
  }

  /** The KubeConfig for a context (default: current-context). Throws Forbidden for an unknown context. */
  forContext(context?: string): KubeConfig {
    const name = context ?? this.currentContext;
    let kc = this.#byContext.get(name);
    if (kc) return kc;
    if (this.#source.kind === 'in-cluster') {
      kc = this.#base;
    } else {
      if (!this.#base.getContextObject(name)) throw new PodtermError('Forbidden', 'This token is bound to an unknown context.');
      kc = new KubeConfig();
      kc.loadFromString(this.#source.yaml);
      kc.setCurrentContext(name);
    }
    this.#byContext.set(name, kc);
    return kc;
  }
}
