/**
 * What a client asks for in `GET /ws/exec?namespace=NS&pod=POD&container=C&cols=80&rows=24[&command=ARG]...`
 * (PROTOCOL.md), once validated. Carried unchanged from the upgrade to the supervisor and the actor.
 */
export interface ExecParams {
  namespace: string;
  pod: string;
  /** null: the pod's default container (annotation, else the first). */
  container: string | null;
  /** null: auto-detect the shell (PROTOCOL.md). */
  command: string[] | null;
  cols: number;
  rows: number;
  /** `attach=true`: join the container's main process (pods/attach) instead of exec; `command` is ignored. */
  attach?: boolean;
}
