// Fault injection: each request draws once from a seeded PRNG and lands in at most one fault, checked in the
// order drop → timeout → rate limit → server error (so the rates are probabilities of exclusive outcomes).
import { seededRandom, type Random } from './random.js';
import type { Reply } from './replies.js';

export interface FaultKnobs {
  /** Added before every answer. */
  latencyMs: number;
  /** Share of requests answered with `errorStatus` (default 503) and an HTML body, as a proxy would. */
  errorRate5xx: number;
  /** Share of requests answered 429 with nginx's HTML body (Quay's nginx sends no Retry-After)… */
  rateLimitRate: number;
  /** …unless this is set: then 429s carry `Retry-After: <seconds>`. */
  retryAfterSeconds?: number | undefined;
  /** Share of requests whose connection is destroyed without an answer. */
  dropRate: number;
  /** Share of requests never answered (until the client gives up or the emulator closes). */
  timeoutRate?: number;
  /** The 5xx status of `errorRate5xx`. */
  errorStatus?: number;
  /** REGISTRY_STATE: readonly — every API request but GET answers 503 `is_readonly`. */
  readOnly?: boolean;
  /** Setting it restarts the fault sequence from this seed. */
  seed: number;
  /** Faults the next requests get, in order, before the rates are drawn. */
  forced?: FaultDecision[];
  /** How many of each fault were injected since the emulator started: proof, in a test, that faults happened. */
  readonly injected?: Readonly<Record<Exclude<FaultDecision, 'none'>, number>>;
}

export type FaultDecision = 'none' | 'drop' | 'timeout' | 'rate-limit' | 'server-error';

export class Faults implements FaultKnobs {
  latencyMs = 0;
  errorRate5xx = 0;
  rateLimitRate = 0;
  retryAfterSeconds: number | undefined = undefined;
  dropRate = 0;
  timeoutRate = 0;
  errorStatus = 503;
  readOnly = false;
  readonly injected: Record<Exclude<FaultDecision, 'none'>, number> = {
    drop: 0,
    timeout: 0,
    'rate-limit': 0,
    'server-error': 0,
  };
  /**
   * Faults the next requests get, in order, before the rates are drawn: a test that must see every kind of fault
   * whatever the seed (a run of ~50 requests at 5% a kind misses one kind about a quarter of the time).
   */
  forced: FaultDecision[] = [];
  private random: Random;
  private currentSeed: number;

  constructor(seed: number) {
    this.currentSeed = seed;
    this.random = seededRandom(seed);
  }

  get seed(): number {
    return this.currentSeed;
  }

  set seed(value: number) {
    this.currentSeed = value;
    this.random = seededRandom(value);
  }

  decide(): FaultDecision {
    const next = this.forced.shift();
    if (next !== undefined) {
      if (next !== 'none') this.injected[next] += 1;
      return next;
    }
    const r = this.random.next();
    const outcomes: readonly [FaultDecision, number][] = [
      ['drop', this.dropRate],
      ['timeout', this.timeoutRate],
      ['rate-limit', this.rateLimitRate],
      ['server-error', this.errorRate5xx],
    ];
    let edge = 0;
    for (const [outcome, rate] of outcomes) {
      edge += Math.max(0, rate);
      if (r < edge) {
        this.injected[outcome as Exclude<FaultDecision, 'none'>] += 1;
        return outcome;
      }
    }
    return 'none';
  }

  rateLimited(): Reply {
    return {
      status: 429,
      headers: {
        'content-type': 'text/html',
        ...(this.retryAfterSeconds === undefined ? {} : { 'retry-after': String(this.retryAfterSeconds) }),
      },
      body: nginxPage('429 Too Many Requests'),
    };
  }

  serverError(): Reply {
    const status = this.errorStatus;
    return {
      status,
      headers: { 'content-type': 'text/html' },
      body: nginxPage(`${status} ${REASONS[status] ?? 'Error'}`),
    };
  }
}

const REASONS: Readonly<Record<number, string>> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

const nginxPage = (title: string): string =>
  `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
  '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
