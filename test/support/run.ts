// Small helpers shared by the fault-tolerance tests.
import type { DeliveryResult } from './delivery.js';

/** Runs `f` over `items` with at most `limit` in flight. */
export const eachLimited = async <A>(items: readonly A[], limit: number, f: (a: A) => Promise<void>) => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await f(items[i] as A);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
};

/** One line per delivery that did not end in a 2xx, for assertion messages. */
export const deadLetters = (results: readonly DeliveryResult[]): string[] =>
  results
    .filter((r) => r.verdict !== 'done')
    .map(
      (r) =>
        `${r.step} ${r.event.type} ${r.event.subject ?? ''}: ${r.attempts
          .map(
            (a) =>
              `${a.status ?? 'no answer'}${a.body === undefined || a.body === '' ? '' : ` ${a.body.slice(0, 120)}`}`,
          )
          .join(' → ')}`,
    );
