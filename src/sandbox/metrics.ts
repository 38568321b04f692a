/** The sandbox's gauges and counters, rendered as Prometheus text for GET /metrics. */
export class SandboxMetrics {
  execActive = 0;
  /** Exec processes started and not yet reaped (leaders); survivors are added by processesActive. */
  leadersActive = 0;
  /** Processes closed execs left running (survivors.ts). */
  survivors: () => number = () => 0;
  /** Containers' main processes (attach, logs). */
  mainProcessesActive = 0;
  tools: () => { attachActive: number; logStreamsActive: number; watchesActive: number } = () => ({ attachActive: 0, logStreamsActive: 0, watchesActive: 0 });
  execTotal = 0;
  processesTotal = 0;
  httpRequestsTotal = 0;
  /** Exec streams whose target is paused because the WebSocket is behind. */
  execPaused = 0;
  /** Bytes of stdout/stderr payload handed to exec sockets. */
  outputBytesTotal = 0;

  get processesActive(): number {
    return this.leadersActive + this.survivors();
  }

  processStarted(): void {
    this.leadersActive++;
    this.processesTotal++;
  }

  processExited(): void {
    this.leadersActive--;
  }

  render(): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    };
    metric('sandbox_exec_active', 'gauge', 'Exec streams currently open (processes and built-in targets).', this.execActive);
    metric('sandbox_processes_active', 'gauge', 'Exec processes alive: started and not yet reaped, and what closed execs left running.', this.processesActive);
    metric('sandbox_main_processes_active', 'gauge', "Containers' main processes (attach, logs) running.", this.mainProcessesActive);
    const tools = this.tools();
    metric('sandbox_attach_active', 'gauge', 'Attach streams currently open.', tools.attachActive);
    metric('sandbox_log_streams_active', 'gauge', 'Log responses being streamed.', tools.logStreamsActive);
    metric('sandbox_watches_active', 'gauge', 'Pod watches open.', tools.watchesActive);
    metric('sandbox_exec_total', 'counter', 'Exec streams opened since start.', this.execTotal);
    metric('sandbox_processes_total', 'counter', 'Exec processes started since start.', this.processesTotal);
    metric('sandbox_exec_paused', 'gauge', 'Exec streams paused by WebSocket backpressure.', this.execPaused);
    metric('sandbox_exec_output_bytes_total', 'counter', 'stdout/stderr payload bytes sent to exec clients.', this.outputBytesTotal);
    metric('sandbox_http_requests_total', 'counter', 'HTTP requests served, upgrades included.', this.httpRequestsTotal);
    return lines.join('\n') + '\n';
  }
}
