// Request schemas and the discovery document, read from the Swagger 2.0 copy recorded from the reference Quay
// (`test/fixtures/quay/`, see its README): the emulator validates with the very
// schemas Quay publishes, so its 400 texts match a real Quay's.
import { readFileSync } from 'node:fs';
import { isJsonObject, type JsonObject } from './json.js';

export const DISCOVERY_DOCUMENT_URL = new URL('../fixtures/quay/discovery-swagger2.json', import.meta.url);

export const loadDiscoveryDocument = (): JsonObject => {
  const doc: unknown = JSON.parse(readFileSync(DISCOVERY_DOCUMENT_URL, 'utf8'));
  if (!isJsonObject(doc) || !isJsonObject(doc['definitions'])) {
    throw new Error(`${DISCOVERY_DOCUMENT_URL.pathname} is not a Swagger document with definitions`);
  }
  return doc;
};

// PUT /organization/{org} validates against the organization resource's own `UpdateOrg`. The Swagger document has
// one definition per name and kept the superuser resource's `UpdateOrg` ({name}), so this one is spelled out.
const ORGANIZATION_UPDATE: JsonObject = {
  type: 'object',
  description: 'Description of updates for an existing organization',
  properties: {
    email: { type: 'string', description: 'Organization contact email' },
    contact_email: { type: ['string', 'null'], description: 'Organization contact email' },
    invoice_email: {
      type: 'boolean',
      description: 'Whether the organization desires to receive emails for invoices',
    },
    invoice_email_address: {
      type: ['string', 'null'],
      description: 'The email address at which to receive invoices',
    },
    tag_expiration_s: {
      type: 'integer',
      minimum: 0,
      description: 'The number of seconds for tag expiration',
    },
  },
};

/** A request schema by the name its endpoint uses; `OrgUpdate` and `SuperUserUpdateOrg` untangle the clash. */
export const requestSchemas = (doc: JsonObject): ((name: string) => JsonObject) => {
  const definitions = isJsonObject(doc['definitions']) ? doc['definitions'] : {};
  return (name) => {
    if (name === 'OrgUpdate') return ORGANIZATION_UPDATE;
    const schema = definitions[name === 'SuperUserUpdateOrg' ? 'UpdateOrg' : name];
    if (!isJsonObject(schema)) throw new Error(`no request schema ${name} in the discovery document`);
    return schema;
  };
};
