// The OAuth scopes of quay-bridge's token, and why each (Quay enforces a scope as a cap on the user's roles,
// docs/quay-api.md#scopes). Nothing more: super:user is never asked for (no /api/v1/superuser/ call).
export const BRIDGE_SCOPES = [
  // Administer the organizations <prefix>_<namespace>: robots, default permissions, deletion.
  'org:admin',
  // Repository permissions of the robots, repository deletion (deleteRepositoriesWithImageStreams).
  'repo:admin',
  // Create the repository of each ImageStream.
  'repo:create',
  // Read repositories and their tags (the import after a build, the resync).
  'repo:read',
  // Write to repositories (implied by repo:admin; asked for as QBO documented it, so one token serves both).
  'repo:write',
  // Create organizations: Quay checks the user's own account for that, not org:admin.
  'user:admin',
  // GET /api/v1/user/: the token check behind CredentialsValid, and the organizations the resync sweeps.
  'user:read',
] as const;

export const BRIDGE_SCOPE_STRING = BRIDGE_SCOPES.join(' ');
