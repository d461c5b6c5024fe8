// A CloudEvent off the wire, as the CloudEvents HTTP protocol binding (1.0) carries it, for the lean host
// (host/server.ts): binary mode (attributes in `ce-*` headers, the body is the data) or structured mode
// (`application/cloudevents+json`, the whole event is the JSON body). The result is the plain object a step's
// decoder reads (shared/events/envelope.ts): the attributes by name, extensions included, and `data`.
//
// Our own decoder rather than the cloudevents SDK's HTTP.toEvent: the SDK and its schema validator cost ~45 ms
// and ~5 MB at every cold start (bench/cold-start.ts), for checks that the Envelope codec already makes.
import * as E from 'fp-ts/lib/Either.js';
import { decodeEnvelope } from '../../shared/events/envelope.js';

export type CloudEventObject = Readonly<Record<string, unknown>>;

/** Left: why the request is a malformed CloudEvent (answered 400: poison, never retried). Right(undefined): no CloudEvent. */
export type Decoded = E.Either<string, CloudEventObject | undefined>;

export type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/** CloudEvents 1.0: attribute names are lower-case letters and digits. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

const header = (headers: Headers, name: string): string | undefined => {
  const v = headers[name];
  return typeof v === 'string' ? v : v?.[0];
};

/** The media type without parameters, lower-cased. */
const mediaType = (contentType: string | undefined): string =>
  (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

const isJson = (type: string): boolean =>
  type === '' || type === 'application/json' || type === 'text/json' || type.endsWith('+json');

const parseJson = (text: string): E.Either<string, unknown> => {
  try {
    return E.right(JSON.parse(text));
  } catch {
    return E.left('the body is not JSON');
  }
};

/** The checks every event gets, whatever its mode. */
const validated = (event: Record<string, unknown>): Decoded => {
  if (event.specversion !== '1.0')
    return E.left(`unsupported CloudEvents specversion ${JSON.stringify(event.specversion)}`);
  for (const name of Object.keys(event))
    if (name !== 'data' && name !== 'data_base64' && !ATTRIBUTE_NAME.test(name))
      return E.left(`the attribute name ${JSON.stringify(name)} is not lower-case letters and digits`);
  const envelope = decodeEnvelope(event);
  if (E.isLeft(envelope)) return E.left(envelope.left.message);
  if (typeof event.time === 'string' && Number.isNaN(Date.parse(event.time)))
    return E.left('the time attribute is not a timestamp');
  return E.right(event);
};

const binary = (headers: Headers, body: Buffer): Decoded => {
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('ce-') || value === undefined) continue;
    const attribute = name.slice(3);
    // The data is the body, never a header.
    if (attribute === 'data' || attribute === 'data_base64')
      return E.left(`binary mode: the header ${name} is not an attribute`);
    event[attribute] = typeof value === 'string' ? value : value.join(',');
  }
  const contentType = header(headers, 'content-type');
  if (contentType !== undefined) event.datacontenttype = contentType;
  if (body.length > 0) {
    if (isJson(mediaType(contentType))) {
      const data = parseJson(body.toString('utf8'));
      if (E.isLeft(data)) return E.left(`binary mode: ${data.left}`);
      event.data = data.right;
    } else event.data = body;
  }
  return validated(event);
};

const structured = (body: Buffer): Decoded => {
  const parsed = parseJson(body.toString('utf8'));
  if (E.isLeft(parsed)) return E.left(`structured mode: ${parsed.left}`);
  const u = parsed.right;
  if (u === null || typeof u !== 'object' || Array.isArray(u))
    return E.left('structured mode: the body is not a JSON object');
  const event: Record<string, unknown> = { ...(u as Record<string, unknown>) };
  for (const [name, value] of Object.entries(event))
    if (name !== 'data' && value !== null && typeof value === 'object')
      return E.left(
        `structured mode: the attribute ${JSON.stringify(name)} is not a string, number or boolean`,
      );
  if (event.data_base64 !== undefined) {
    if (event.data !== undefined) return E.left('structured mode: both data and data_base64');
    if (typeof event.data_base64 !== 'string') return E.left('structured mode: data_base64 is not a string');
    event.data = Buffer.from(event.data_base64, 'base64');
    delete event.data_base64;
  }
  return validated(event);
};

/**
 * The CloudEvent a request carries: structured mode by its content type, binary mode by its `ce-specversion`
 * header; anything else carries none (Right(undefined)).
 */
export const decodeCloudEvent = (headers: Headers, body: Buffer): Decoded => {
  const type = mediaType(header(headers, 'content-type'));
  if (type.startsWith('application/cloudevents'))
    return type === 'application/cloudevents+json'
      ? structured(body)
      : E.left(`the CloudEvents format ${type} is not served (batch mode and non-JSON formats)`);
  if (header(headers, 'ce-specversion') !== undefined) return binary(headers, body);
  return E.right(undefined);
};
