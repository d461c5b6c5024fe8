// GET /api/v1/error/{type} and GET /api/v1/discovery.
import { param, type Handler } from '../context.js';
import { isJsonObject, type JsonObject } from '../json.js';
import { ERROR_DESCRIPTIONS, errorTypeUrl, notFound, restful } from '../replies.js';

export const getErrorDescription: Handler = (ctx) => {
  const type = param(ctx, 'type');
  if (!(type in ERROR_DESCRIPTIONS)) return notFound(ctx.req.baseUrl);
  return restful({
    type: errorTypeUrl(ctx.req.baseUrl, type),
    title: type,
    description: ERROR_DESCRIPTIONS[type as keyof typeof ERROR_DESCRIPTIONS],
  });
};

/**
 * The Swagger 2.0 document of the recorded Quay, with this server's host in it. Quay generates it per request
 * from its URL map; `?internal=true` would add internal endpoints, which the recorded copy does not have.
 */
export const getDiscovery: Handler = (ctx) => {
  const doc = ctx.services.discovery();
  const url = new URL(ctx.req.baseUrl);
  const security = isJsonObject(doc['securityDefinitions']) ? doc['securityDefinitions'] : {};
  const oauth = isJsonObject(security['oauth2_implicit']) ? security['oauth2_implicit'] : {};
  const withHost: JsonObject = {
    ...doc,
    host: url.host,
    schemes: [url.protocol.replace(':', '')],
    securityDefinitions: {
      ...security,
      oauth2_implicit: { ...oauth, authorizationUrl: `${ctx.req.baseUrl}/oauth/authorize` },
    },
  };
  return restful(withHost);
};
