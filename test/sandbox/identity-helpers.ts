/** HTTP and kubectl helpers for the identity tests (RBAC, impersonation, reviews, OIDC, audit). */
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { join } from 'node:path';
import type { Sandbox } from '../../src/sandbox/index.js';

export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly json: () => Record<string, unknown>;
}

/** One HTTPS request to the sandbox with the given headers (and JSON body), no connection reuse. */
export function call(sb: Sandbox, method: string, path: string, headers: Record<string, string | string[]>, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const h: Record<string, string | string[]> = { ...headers };
    if (text !== undefined) h['Content-Type'] = 'application/json';
    const req = request(`${sb.url}${path}`, { method, ca: sb.caPem, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: b, json: () => JSON.parse(b) as Record<string, unknown> });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Real kubectl with a fresh discovery cache per call, so every call does discovery itself. */
export function kubectlRunner(kubeconfig: string, dir: string): (args: string[], stdin?: string) => Promise<KubectlResult> {
  let n = 0;
  return (args, stdin) =>
    new Promise((resolve) => {
      const child = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, `cache-${n++}`), ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
      child.stdin?.end(stdin);
    });
}
