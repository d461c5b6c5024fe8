// The serving certificate and key, read from files (a Secret volume filled by OpenShift's service CA or
// cert-manager) and handed to the HTTPS server again whenever they change. A Secret volume is updated by swapping a
// `..data` symlink in its directory, so the directory is watched, not the files; a periodic re-read backs fs.watch
// up where it misses events (network filesystems, some container runtimes). A pair that does not load (a key
// written before its certificate) is skipped and the previous pair kept until the next look.
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import * as E from 'fp-ts/lib/Either.js';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

/** Both files read, and accepted by Node as a matching certificate and key. */
export const loadTls = (files: TlsFiles): E.Either<string, TlsMaterial> => {
  try {
    const material = { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
    createSecureContext(material);
    return E.right(material);
  } catch (e) {
    return E.left(
      `cannot use ${files.certFile} and ${files.keyFile} as a TLS pair: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
};

export type CheckResult = 'changed' | 'unchanged' | 'invalid';

export interface TlsWatcher {
  readonly current: () => TlsMaterial;
  /** Looks at the files now; `changed` when a new valid pair was handed on. */
  readonly check: () => CheckResult;
  readonly stop: () => void;
}

export interface TlsWatchOptions {
  /** How often the files are re-read whatever fs.watch says. Default 30 s. */
  readonly pollMs?: number;
  readonly onChange: (m: TlsMaterial) => void;
  readonly onInvalid?: (message: string) => void;
}

/** Starts watching; fails when the files do not hold a usable pair to begin with. */
export const watchTls = (files: TlsFiles, options: TlsWatchOptions): E.Either<string, TlsWatcher> => {
  const first = loadTls(files);
  if (E.isLeft(first)) return first;
  let current = first.right;
  let lastInvalid: string | undefined;

  const check = (): CheckResult => {
    const loaded = loadTls(files);
    if (E.isLeft(loaded)) {
      // Reported once per distinct problem, not on every tick.
      if (loaded.left !== lastInvalid) options.onInvalid?.(loaded.left);
      lastInvalid = loaded.left;
      return 'invalid';
    }
    lastInvalid = undefined;
    if (loaded.right.cert === current.cert && loaded.right.key === current.key) return 'unchanged';
    current = loaded.right;
    options.onChange(current);
    return 'changed';
  };

  let debounce: NodeJS.Timeout | undefined;
  const soon = (): void => {
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      check();
    }, 100);
    debounce.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(files.certFile), dirname(files.keyFile)])) {
    try {
      const w = watch(dir, { persistent: false }, soon);
      w.on('error', () => undefined); // the directory vanished: the poll carries on alone
      watchers.push(w);
    } catch {
      // fs.watch unsupported here: the poll alone will do
    }
  }
  const poll = setInterval(check, options.pollMs ?? 30_000);
  poll.unref();

  return E.right({
    current: () => current,
    check,
    stop: () => {
      clearInterval(poll);
      if (debounce !== undefined) clearTimeout(debounce);
      for (const w of watchers) w.close();
    },
  });
};
