// Runs tasks with at most `limit` in flight, keeping the input order in the results.
import type * as T from 'fp-ts/lib/Task.js';

export const traverseLimited =
  <A, B>(limit: number, f: (a: A) => T.Task<B>) =>
  (items: readonly A[]): T.Task<readonly B[]> =>
  async () => {
    const results = new Array<B>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const i = next++;
        results[i] = await f(items[i] as A)();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    return results;
  };
