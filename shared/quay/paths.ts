// Every Quay API path the client uses, spelled exactly as Quay routes it (docs/quay-api.md#routing): the list and
// create routes that end in "/" are sent with it, because the form without it costs a 308 round trip.
// Each name is one path segment and is percent-encoded, so "+" in robot names goes as %2B (Quay accepts both,
// docs/quay-api.md#repository-permissions) and a name can never reach another route. Repository names may contain "/" (FEATURE_EXTENDED_REPOSITORY_NAMES),
// which stays a separator.

const API = '/api/v1';
const seg = (s: string): string => encodeURIComponent(s);
const repoPath = (org: string, repo: string): string =>
  `${API}/repository/${seg(org)}/${repo.split('/').map(seg).join('/')}`;

export const paths = {
  currentUser: () => `${API}/user/`,
  organizations: () => `${API}/organization/`,
  organization: (org: string) => `${API}/organization/${seg(org)}`,
  robots: (org: string) => `${API}/organization/${seg(org)}/robots`,
  robot: (org: string, shortname: string) => `${API}/organization/${seg(org)}/robots/${seg(shortname)}`,
  robotRegenerate: (org: string, shortname: string) =>
    `${API}/organization/${seg(org)}/robots/${seg(shortname)}/regenerate`,
  prototypes: (org: string) => `${API}/organization/${seg(org)}/prototypes`,
  prototype: (org: string, id: string) => `${API}/organization/${seg(org)}/prototypes/${seg(id)}`,
  repositories: () => `${API}/repository`,
  repository: repoPath,
  userPermissions: (org: string, repo: string) => `${repoPath(org, repo)}/permissions/user/`,
  userPermission: (org: string, repo: string, username: string) =>
    `${repoPath(org, repo)}/permissions/user/${seg(username)}`,
  tags: (org: string, repo: string) => `${repoPath(org, repo)}/tag/`,
} as const;

const ROUTES: readonly (readonly [RegExp, string])[] = [
  [/^\/api\/v1\/user\/$/, '/api/v1/user/'],
  [/^\/api\/v1\/organization\/$/, '/api/v1/organization/'],
  [/^\/api\/v1\/organization\/[^/]+$/, '/api/v1/organization/{org}'],
  [/^\/api\/v1\/organization\/[^/]+\/robots$/, '/api/v1/organization/{org}/robots'],
  [/^\/api\/v1\/organization\/[^/]+\/robots\/[^/]+$/, '/api/v1/organization/{org}/robots/{robot}'],
  [
    /^\/api\/v1\/organization\/[^/]+\/robots\/[^/]+\/regenerate$/,
    '/api/v1/organization/{org}/robots/{robot}/regenerate',
  ],
  [/^\/api\/v1\/organization\/[^/]+\/prototypes$/, '/api/v1/organization/{org}/prototypes'],
  [
    /^\/api\/v1\/organization\/[^/]+\/prototypes\/[^/]+$/,
    '/api/v1/organization/{org}/prototypes/{prototype}',
  ],
  [/^\/api\/v1\/repository$/, '/api/v1/repository'],
  [/^\/api\/v1\/repository\/[^/]+\/.+\/permissions\/user\/$/, '/api/v1/repository/{repo}/permissions/user/'],
  [
    /^\/api\/v1\/repository\/[^/]+\/.+\/permissions\/user\/[^/]+$/,
    '/api/v1/repository/{repo}/permissions/user/{username}',
  ],
  [/^\/api\/v1\/repository\/[^/]+\/.+\/tag\/$/, '/api/v1/repository/{repo}/tag/'],
  [/^\/api\/v1\/repository\/[^/]+\/.+$/, '/api/v1/repository/{repo}'],
];

/**
 * The route template of a path the client sent (query ignored), named as the Quay emulator names its routes: a
 * metric label that never carries an organization, robot or repository name. A path of no known route is "other".
 */
export const routeOf = (path: string): string => {
  const bare = path.split('?')[0] ?? path;
  for (const [pattern, route] of ROUTES) if (pattern.test(bare)) return route;
  return 'other';
};
