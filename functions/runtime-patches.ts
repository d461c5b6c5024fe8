// faas-js-runtime validates each incoming CloudEvent with its own copy of the cloudevents SDK, in a fastify hook
// that passes the SDK's ValidationError on with no status, which fastify answers with 500, and a broker retries a
// 500. An event the SDK refuses (empty type, a structured body that is not an object, …) is poison, so it must be
// a 4xx (docs/design.md#event-delivery: dead-lettered, never retried). fastify takes the status from `error.statusCode`, and the
// runtime offers no hook of its own, so the SDK that the runtime itself resolves gets one on its ValidationError.
//
// That only works on the runtime's own copy: the one in node_modules that the CLI (or step-server.ts) loaded. A
// build that bundled faas-js-runtime would run another copy, with another SDK, and the patch would miss it without
// a word; so the patch first checks that the runtime it resolves is the one loaded, and fails the start otherwise
// (functions/bundle.ts keeps the runtime out of the image's bundle for this reason).
import { createRequire } from 'node:module';

export const answerInvalidCloudEventsWith400 = (): void => {
  const fromHere = createRequire(import.meta.url);
  const runtime = fromHere.resolve('faas-js-runtime');
  if (fromHere.cache[runtime] === undefined)
    throw new Error(
      `faas-js-runtime at ${runtime} is not the runtime serving this process (a bundled copy?): invalid CloudEvents would be answered 500`,
    );
  const sdk = createRequire(runtime)('cloudevents') as { ValidationError?: { prototype: object } };
  if (sdk.ValidationError === undefined)
    throw new Error("faas-js-runtime's cloudevents has no ValidationError");
  Object.defineProperty(sdk.ValidationError.prototype, 'statusCode', { value: 400, configurable: true });
};
