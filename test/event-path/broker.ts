// A stand-in for a Knative Broker (ingress + trigger filters + dispatch), over real HTTP with the CloudEvents SDK:
// it accepts events in binary or structured mode at its ingress and answers 202, routes each event through the
// Triggers loaded from the project's manifests with Knative's filter semantics (filters.ts), and delivers it in
// binary mode to each matching subscriber with the Trigger's (or else the Broker's) delivery spec (delivery.ts):
// retries with back-off, then the dead-letter sink. Dead letters are kept in memory for tests to read. A subscriber
// that answers with a CloudEvent has that reply published back into the broker, as Knative does.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudEvent, HTTP, type CloudEventV1, type Message } from 'cloudevents';
import { backoffMs, classify, retryAfterMs, type DeliverySpec, type Destination } from './delivery.js';
import { compileTriggerFilter, triggerFilterProblems, type FilterResult, type Lookup } from './filters.js';
import type { Trigger } from './manifests.js';

export interface BrokerOptions {
  readonly name: string;
  readonly namespace: string;
  /** Every Trigger of the install; those of other brokers or namespaces are ignored. */
  readonly triggers: readonly Trigger[];
  /** The Broker's own delivery spec: used for Triggers that have none. */
  readonly delivery?: DeliverySpec;
  /** Resolves a subscriber or dead-letter sink to a URL (undefined: unresolvable, like a missing Knative Service). */
  readonly resolve: (destination: Destination, namespace: string) => string | undefined;
  /** Multiplies every back-off (tests use e.g. 0.01 to turn Knative's 0.5 s into 5 ms). Default 1. */
  readonly backoffScale?: number;
  /** Requests to subscribers in flight at once, over all Triggers. Default 16. */
  readonly maxInFlight?: number;
  /** Per-attempt timeout towards a subscriber. Default 60 s. */
  readonly requestTimeoutMs?: number;
  readonly port?: number;
  readonly host?: string;
}

export interface DeadLetter {
  readonly trigger: string;
  readonly event: CloudEvent<unknown>;
  readonly subscriber: string | undefined;
  /** The last answer's status, or undefined if there was none (connection error, timeout, no subscriber). */
  readonly status: number | undefined;
  readonly body: string;
  readonly attempts: number;
  /** Whether the dead-letter sink accepted it (false when there is none or it failed). */
  readonly forwarded: boolean;
}

export interface Delivery {
  readonly trigger: string;
  readonly eventId: string;
  readonly type: string;
  readonly subject: string | undefined;
  readonly attempts: number;
  readonly statuses: readonly (number | undefined)[];
  readonly outcome: 'delivered' | 'dead-lettered';
}

export interface BrokerStandIn {
  /** The ingress URL, the sink of the sources. */
  readonly url: string;
  /** Events refused or exhausted, in the order they were given up. */
  readonly deadLetters: () => readonly DeadLetter[];
  /** Every finished delivery. */
  readonly deliveries: () => readonly Delivery[];
  /** Events received at the ingress (including replies and published ones). */
  readonly received: () => number;
  /** Sends an event through the broker as if it had arrived at the ingress. */
  readonly publish: (event: CloudEvent<unknown>) => void;
  /** Resolves once nothing is queued, waiting for a retry, or in flight. */
  readonly idle: () => Promise<void>;
  readonly close: () => Promise<void>;
}

const CORE = new Set([
  'id',
  'type',
  'source',
  'specversion',
  'subject',
  'time',
  'dataschema',
  'datacontenttype',
]);

/** Knative's attribute lookup (pkg/eventfilter/attributes): core attributes always exist, extensions may not. */
export const lookupIn =
  (event: CloudEvent<unknown>): Lookup =>
  (attribute) => {
    switch (attribute) {
      case 'specversion':
        return event.specversion;
      case 'type':
        return event.type;
      case 'source':
        return event.source;
      case 'id':
        return event.id;
      case 'subject':
        return event.subject ?? '';
      case 'time':
        return event.time ?? '0001-01-01T00:00:00Z';
      case 'dataschema':
      case 'schemaurl':
        return event.dataschema ?? '';
      case 'datacontenttype':
        return event.datacontenttype ?? '';
      case 'datamediatype':
        return (event.datacontenttype ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      case 'datacontentencoding':
        return '';
      default: {
        if (CORE.has(attribute) || attribute === 'data' || attribute === 'data_base64') return undefined;
        const value = (event as Record<string, unknown>)[attribute];
        if (value === undefined || value === null || typeof value === 'function') return undefined;
        return typeof value === 'string' ? value : JSON.stringify(value);
      }
    }
  };

/** Waits, or returns early (false) when the broker closes. */
const sleep = (ms: number, signal: AbortSignal): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

const readBody = (req: http.IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });

interface Answer {
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const post = async (url: string, message: Message, timeoutMs: number): Promise<Answer> => {
  try {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(message.headers)) if (typeof v === 'string') headers[k] = v;
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => (out[k] = v));
    return { status: res.status, headers: out, body: await res.text() };
  } catch (e) {
    return { status: undefined, headers: {}, body: e instanceof Error ? e.message : String(e) };
  }
};

/** A counting semaphore. */
const limiter = (max: number) => {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <A>(task: () => Promise<A>): Promise<A> => {
    if (active >= max) await new Promise<void>((r) => waiting.push(r));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
};

/** The event as a Knative broker forwards it: its attributes, plus knativearrivaltime from the ingress. */
const arrived = (event: CloudEvent<unknown>): CloudEvent<unknown> =>
  event.cloneWith({ knativearrivaltime: new Date().toISOString() });

export const startBroker = async (options: BrokerOptions): Promise<BrokerStandIn> => {
  const mine = options.triggers.filter((t) => t.broker === options.name && t.namespace === options.namespace);
  for (const t of mine) {
    const problems = triggerFilterProblems(t.filters);
    if (problems.length > 0) throw new Error(`Trigger ${t.name}: ${problems.join('; ')}`);
  }
  const compiled = mine.map((t) => ({ trigger: t, filter: compileTriggerFilter(t.filters) }));
  const scale = options.backoffScale ?? 1;
  const timeoutMs = options.requestTimeoutMs ?? 60_000;
  const limit = limiter(options.maxInFlight ?? 16);
  const dead: DeadLetter[] = [];
  const done: Delivery[] = [];
  let received = 0;
  let pending = 0;
  let idleWaiters: (() => void)[] = [];
  const closing = new AbortController();

  const settle = (): void => {
    pending -= 1;
    if (pending === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    }
  };

  const track = (work: () => Promise<void>): void => {
    pending += 1;
    void work()
      .catch((e: unknown) => {
        // A bug of the stand-in itself: make it visible rather than losing the event silently.
        console.error('broker stand-in:', e);
      })
      .finally(settle);
  };

  const deliver = async (trigger: Trigger, event: CloudEvent<unknown>): Promise<void> => {
    const spec = trigger.delivery ?? options.delivery ?? {};
    const subscriber = options.resolve(trigger.subscriber, trigger.namespace);
    const message = HTTP.binary(event);
    const statuses: (number | undefined)[] = [];
    let last: Answer = {
      status: undefined,
      headers: {},
      body: 'the subscriber does not resolve to an address',
    };
    const retries = spec.retry ?? 0;
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      if (attempt > 0) {
        const wait = Math.max(
          backoffMs(spec, attempt - 1),
          retryAfterMs(spec, last.status, last.headers['retry-after']),
        );
        if (!(await sleep(wait * scale, closing.signal))) return;
      }
      if (subscriber !== undefined) last = await limit(() => post(subscriber, message, timeoutMs));
      // Knative refuses a 2xx whose body is neither empty nor a CloudEvent (the filter answers 502).
      let reply: CloudEvent<unknown> | undefined;
      if (classify(last.status) === 'done' && last.body !== '') {
        try {
          const parsed = HTTP.toEvent({ headers: last.headers, body: last.body });
          reply = Array.isArray(parsed) ? undefined : new CloudEvent<unknown>(parsed);
        } catch {
          reply = undefined;
        }
        if (reply === undefined) last = { ...last, status: 502 };
      }
      statuses.push(last.status);
      const verdict = classify(last.status);
      if (verdict === 'done') {
        done.push({
          trigger: trigger.name,
          eventId: event.id,
          type: event.type,
          subject: event.subject,
          attempts: attempt + 1,
          statuses,
          outcome: 'delivered',
        });
        if (reply !== undefined) ingest(reply);
        return;
      }
      if (verdict === 'give-up') break;
    }
    const dls =
      spec.deadLetterSink === undefined ? undefined : options.resolve(spec.deadLetterSink, trigger.namespace);
    let forwarded = false;
    if (dls !== undefined && !closing.signal.aborted) {
      // Knative's dispatcher adds where and how the delivery failed.
      const failed = event.cloneWith({
        knativeerrordest: subscriber ?? '',
        knativeerrorcode: String(last.status ?? -1),
        ...(last.body === ''
          ? {}
          : { knativeerrordata: Buffer.from(last.body.slice(0, 1024)).toString('base64') }),
      });
      const answer = await limit(() => post(dls, HTTP.binary(failed), timeoutMs));
      forwarded = classify(answer.status) === 'done';
    }
    dead.push({
      trigger: trigger.name,
      event,
      subscriber,
      status: last.status,
      body: last.body,
      attempts: statuses.length,
      forwarded,
    });
    done.push({
      trigger: trigger.name,
      eventId: event.id,
      type: event.type,
      subject: event.subject,
      attempts: statuses.length,
      statuses,
      outcome: 'dead-lettered',
    });
  };

  const ingest = (incoming: CloudEvent<unknown>): void => {
    received += 1;
    const event = arrived(incoming);
    const lookup = lookupIn(event);
    for (const { trigger, filter } of compiled) {
      const result: FilterResult = filter(lookup);
      if (result !== 'fail') track(() => deliver(trigger, event));
    }
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const body = await readBody(req);
      let parsed: CloudEventV1<unknown> | CloudEventV1<unknown>[];
      try {
        parsed = HTTP.toEvent({ headers: req.headers, body });
      } catch (e) {
        res
          .writeHead(400, { 'content-type': 'text/plain' })
          .end(e instanceof Error ? e.message : 'not a CloudEvent');
        return;
      }
      for (const event of Array.isArray(parsed) ? parsed : [parsed]) ingest(new CloudEvent<unknown>(event));
      res.writeHead(202).end();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}/${options.namespace}/${options.name}`,
    deadLetters: () => [...dead],
    deliveries: () => [...done],
    received: () => received,
    publish: (event) => {
      ingest(event);
    },
    idle: () =>
      pending === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            idleWaiters.push(resolve);
          }),
    close: async () => {
      closing.abort();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
};

/** A new event id, for events the stand-ins make up (PingSource ticks). */
export const newEventId = (): string => randomUUID();
