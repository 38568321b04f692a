/**
 * What each tab is called: `pod/container`, short because the strip is narrow, and
 * `namespace/pod/container` when another tab has the same pod and container in another namespace,
 * so two tabs never look alike unless they are the same target. Pure, no DOM: unit-tested in Node.
 */

/** An ExecTarget's naming fields (declared here: exec-socket.ts needs the DOM, this file must not). */
export interface Named {
  namespace: string;
  pod: string;
  container: string;
}

export function tabLabels(targets: readonly Named[]): string[] {
  const namespaces = new Map<string, Set<string>>();
  const short = (t: Named): string => `${t.pod}/${t.container}`;
  for (const t of targets) {
    const seen = namespaces.get(short(t)) ?? new Set<string>();
    seen.add(t.namespace);
    namespaces.set(short(t), seen);
  }
  return targets.map((t) => (namespaces.get(short(t))!.size > 1 ? `${t.namespace}/${short(t)}` : short(t)));
}
