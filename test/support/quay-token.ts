// `quay-token` as a user runs it: its own process (node with tsx, as `npm run quay-token` starts it), with only
// the environment given here, stdin not a terminal, and its stdout and stderr captured.
import { spawn } from 'node:child_process';
import { request as httpRequest, createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../harness/index.js';

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const runQuayTokenCommand = (
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CommandResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'tools', 'quay-token', 'main.ts'), ...args],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/nonexistent', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      resolve({ status, stdout, stderr });
    });
  });

/**
 * A reverse proxy in front of `target` that removes the named request headers (e.g. `cookie`: a proxy that loses
 * Quay's session), as a misconfigured ingress would.
 */
export const startStrippingProxy = async (
  target: string,
  strip: readonly string[],
  /** Which requests lose the headers (default: all). */
  applies: (req: IncomingMessage) => boolean = () => true,
): Promise<{ readonly url: string; readonly close: () => Promise<void> }> => {
  const to = new URL(target);
  const server: Server = createServer((req: IncomingMessage, res) => {
    const headers = { ...req.headers, host: to.host };
    if (applies(req)) for (const h of strip) Reflect.deleteProperty(headers, h);
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => {
          r();
        });
        server.closeAllConnections();
      }),
  };
};
