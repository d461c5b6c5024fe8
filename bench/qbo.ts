// The Go Quay Bridge Operator beside quay-bridge: its figures were measured side by side with quay-bridge on this
// kind of machine (2 cores), outside the bench, on 2026-12-03: QBO built from its current source, on the same
// control plane (this project's v1.36.3 harness), the same Quay emulator and request counter, the same workloads.
// The bench cannot build QBO itself: its current module is not published on the Go module proxy (checked below, not
// assumed), so these are printed as reference figures, with the ratio of quay-bridge's to them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const QBO_MODULE = 'github.com/quay/quay-bridge-operator';

const run = (args: readonly string[]): { ok: boolean; out: string } => {
  try {
    return {
      ok: true,
      out: execFileSync('go', [...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      }),
    };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ok: false, out: (err.stderr ?? err.message).trim() };
  }
};

/** undefined if QBO could be required under its published path, else the reason it cannot. */
export const qboUnavailable = (): string => {
  const versions = run(['list', '-m', '-versions', QBO_MODULE]);
  const listed = versions.ok
    ? versions.out.trim()
    : `version list refused (${versions.out.split('\n')[0] ?? ''})`;
  const dl = run(['mod', 'download', '-json', `${QBO_MODULE}@v1.0.0`]);
  if (!dl.ok) return `go mod download ${QBO_MODULE}@v1.0.0 failed; ${listed}`;
  const info = JSON.parse(dl.out) as { GoMod?: string };
  const mod = info.GoMod === undefined ? '' : readFileSync(info.GoMod, 'utf8');
  const declared = /^module\s+(\S+)/m.exec(mod)?.[1];
  if (declared !== undefined && declared !== QBO_MODULE)
    return (
      `the proxy serves only v1.0.0 (2020) of ${QBO_MODULE}, whose go.mod declares ${declared} ` +
      `(the legacy v1alpha1 operator), so it cannot be required under that path; the current QBO is not ` +
      `published there [${listed}]`
    );
  return `QBO v1.0.0 is a 2020 release, not the current operator; not measured [${listed}]`;
};

/** QBO's figures, measured outside the bench on 2026-12-03 (see the top of this file). */
export const QBO_REFERENCE = {
  measured: '2026-12-03',
  /** New namespace → org + 3 robots + 3 default permissions + 3 Secrets + links, 20 one at a time. */
  convergenceP50Ms: 149,
  convergenceP95Ms: 327,
  callsPerNewNamespace: 17.5,
  callsPerNewNamespaceInBurst: 14.1,
  callsPerUnchangedNamespaceOnResync: 7,
  /** 100 namespaces created at once, all converged. */
  hundredAtOnceSeconds: 15.0,
  hundredAtOnceRateLimited: '72–86 of 100 converged, the rest stuck for good',
  /** The whole operator. */
  idleRssMb: 37,
  rssAfter120NamespacesMb: 46,
} as const;

/** "149 ms (QBO, reference 2026-12-03); quay-bridge/QBO 0.52×" */
export const besideQbo = (qboText: string, ours?: number, theirs?: number): string =>
  `${qboText} (reference, ${QBO_REFERENCE.measured})` +
  (ours !== undefined && theirs !== undefined && theirs > 0
    ? `; quay-bridge/QBO ${(ours / theirs).toFixed(2)}×`
    : '');
