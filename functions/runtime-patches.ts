// faas-js-runtime validates each incoming CloudEvent with its own copy of the cloudevents SDK, in a fastify hook
// that passes the SDK's ValidationError on with no status, which fastify answers with 500, and a broker retries a
// 500. An event the SDK refuses (empty type, a structured body that is not an object, …) is poison, so it must be
// a 4xx (design.md §2: dead-lettered, never retried). fastify takes the status from `error.statusCode`, and the
// runtime offers no hook of its own, so the SDK that the runtime itself resolves gets one on its ValidationError.
import { createRequire } from 'node:module';

export const answerInvalidCloudEventsWith400 = (): void => {
  const fromRuntime = createRequire(createRequire(import.meta.url).resolve('faas-js-runtime'));
  const sdk = fromRuntime('cloudevents') as { ValidationError?: { prototype: object } };
  if (sdk.ValidationError === undefined)
    throw new Error("faas-js-runtime's cloudevents has no ValidationError");
  Object.defineProperty(sdk.ValidationError.prototype, 'statusCode', { value: 400, configurable: true });
};
