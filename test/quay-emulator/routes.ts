// Every endpoint the emulator serves, by path template.
import * as apps from './handlers/applications.js';
import * as meta from './handlers/meta.js';
import * as oauth from './handlers/oauth.js';
import * as orgs from './handlers/organizations.js';
import * as perms from './handlers/permissions.js';
import * as protos from './handlers/prototypes.js';
import * as registry from './handlers/registry.js';
import * as v2 from './handlers/registry-v2.js';
import * as repos from './handlers/repositories.js';
import * as signin from './handlers/signin.js';
import { robotRoutes as robots } from './handlers/robots.js';
import * as su from './handlers/superuser.js';
import * as tags from './handlers/tags.js';
import * as teams from './handlers/teams.js';
import * as user from './handlers/user.js';
import type { RouteSpec } from './router.js';

const ORG = '/api/v1/organization/{org}';
const REPO = '/api/v1/repository/{repo*}';

export const ROUTES: readonly RouteSpec[] = [
  { template: '/api/v1/user/', handlers: { GET: user.getUser } },
  { template: '/api/v1/user/initialize', handlers: { POST: user.postInitialize }, csrf: false },
  { template: '/api/v1/user/robots', handlers: { GET: robots.userList } },
  {
    template: '/api/v1/user/robots/{robot}',
    handlers: { GET: robots.userGet, PUT: robots.userCreate, DELETE: robots.userDelete },
  },
  { template: '/api/v1/user/robots/{robot}/regenerate', handlers: { POST: robots.userRegenerate } },
  { template: '/api/v1/user/robots/{robot}/permissions', handlers: { GET: robots.userPermissions } },

  { template: '/api/v1/organization/', handlers: { POST: orgs.createOrganizationHandler } },
  {
    template: ORG,
    handlers: { GET: orgs.getOrganization, PUT: orgs.updateOrganization, DELETE: orgs.deleteOrganization },
  },
  { template: `${ORG}/applications`, handlers: { GET: apps.listApplications, POST: apps.createApplication } },
  { template: `${ORG}/robots`, handlers: { GET: robots.orgList } },
  {
    template: `${ORG}/robots/{robot}`,
    handlers: { GET: robots.orgGet, PUT: robots.orgCreate, DELETE: robots.orgDelete },
  },
  { template: `${ORG}/robots/{robot}/regenerate`, handlers: { POST: robots.orgRegenerate } },
  { template: `${ORG}/robots/{robot}/permissions`, handlers: { GET: robots.orgPermissions } },
  { template: `${ORG}/team/{team}`, handlers: { PUT: teams.putTeam, DELETE: teams.deleteTeam } },
  { template: `${ORG}/team/{team}/members`, handlers: { GET: teams.listTeamMembers } },
  {
    template: `${ORG}/team/{team}/members/{member}`,
    handlers: { PUT: teams.putTeamMember, DELETE: teams.deleteTeamMember },
  },
  { template: `${ORG}/prototypes`, handlers: { GET: protos.listPrototypes, POST: protos.createPrototype } },
  {
    template: `${ORG}/prototypes/{prototype}`,
    handlers: { PUT: protos.updatePrototype, DELETE: protos.deletePrototype },
  },

  {
    template: '/api/v1/repository',
    handlers: { GET: repos.listRepositories, POST: repos.createRepositoryHandler },
  },
  {
    template: REPO,
    handlers: { GET: repos.getRepository, PUT: repos.updateRepository, DELETE: repos.deleteRepository },
  },
  { template: `${REPO}/changevisibility`, handlers: { POST: repos.changeVisibility } },
  { template: `${REPO}/permissions/user/`, handlers: { GET: perms.listUserPermissions } },
  {
    template: `${REPO}/permissions/user/{username}`,
    handlers: {
      GET: perms.getUserPermission,
      PUT: perms.putUserPermission,
      DELETE: perms.deleteUserPermission,
    },
  },
  {
    template: `${REPO}/permissions/user/{username}/transitive`,
    handlers: { GET: perms.getTransitivePermission },
  },
  { template: `${REPO}/permissions/team/`, handlers: { GET: perms.listTeamPermissions } },
  {
    template: `${REPO}/permissions/team/{team}`,
    handlers: {
      GET: perms.getTeamPermission,
      PUT: perms.putTeamPermission,
      DELETE: perms.deleteTeamPermission,
    },
  },
  { template: `${REPO}/tag/`, handlers: { GET: tags.listTags } },

  { template: '/api/v1/superuser/users/', handlers: { GET: su.listUsers, POST: su.createUserHandler } },
  {
    template: '/api/v1/superuser/users/{username}',
    handlers: { GET: su.getUserHandler, PUT: su.updateUserHandler, DELETE: su.deleteUserHandler },
  },
  { template: '/api/v1/superuser/organizations/', handlers: { GET: su.listOrganizations } },
  {
    template: '/api/v1/superuser/organizations/{name}',
    handlers: { PUT: su.renameOrganizationHandler, DELETE: su.deleteOrganizationHandler },
  },

  { template: '/api/v1/error/{type}', handlers: { GET: meta.getErrorDescription } },
  { template: '/api/v1/discovery', handlers: { GET: meta.getDiscovery } },

  // The web UI's sign-in (endpoints/api/user.py; the API pipeline checks its CSRF token) and the web blueprint's
  // OAuth implicit grant (which checks CSRF itself, on the consent POST only).
  { template: '/csrf_token', handlers: { GET: signin.getCsrfToken }, csrf: false },
  { template: '/api/v1/signin', handlers: { POST: signin.postSignin } },
  { template: '/api/v1/signout', handlers: { POST: signin.postSignout } },
  { template: '/oauth/authorize', handlers: { GET: oauth.getAuthorize }, csrf: false },
  { template: '/oauth/authorizeapp', handlers: { POST: oauth.postAuthorizeApp }, csrf: false },
  { template: oauth.LOCAL_OAUTH_HANDLER, handlers: { GET: oauth.getLocalApp }, csrf: false },

  { template: '/v2/', handlers: { GET: registry.registryBase }, csrf: false },
  { template: '/v2/auth', handlers: { GET: registry.registryAuth }, csrf: false },
  { template: '/v2/{repo*}/blobs/{digest}', handlers: { GET: v2.getBlob }, csrf: false },
  { template: '/v2/{repo*}/blobs/uploads/', handlers: { POST: v2.startUpload }, csrf: false },
  {
    template: '/v2/{repo*}/blobs/uploads/{uuid}',
    handlers: { PATCH: v2.patchUpload, PUT: v2.finishUpload },
    csrf: false,
  },
  {
    template: '/v2/{repo*}/manifests/{reference}',
    handlers: { GET: v2.getManifest, PUT: v2.putManifest },
    csrf: false,
  },
  { template: '/v2/{repo*}/tags/list', handlers: { GET: v2.listTags }, csrf: false },
];
