// Organization teams and their members (endpoints/api/team.py, data/model/team.py), with FEATURE_MAILING off as in
// the recording: members are added directly, never invited.
import { can } from '../access.js';
import { badRequest, deny, param, validatedBody, type Ctx, type Handler } from '../context.js';
import { isJsonObject, type JsonObject } from '../json.js';
import { usernameIssue } from '../model-namespaces.js';
import { dataModelError, noContent, notFound, restful, type Reply } from '../replies.js';
import { capTeamRole, type TeamRole } from '../scopes.js';
import type { Account, Team } from '../state.js';
import { accountAvatar, teamAvatar } from '../views.js';

/** ViewTeamPermission: a (scope-capped) role on the team itself, or organization admin. */
const mayViewTeam = (ctx: Ctx, org: string, team: Team | undefined): boolean =>
  can.administerOrganization(ctx.world, ctx.caller, org) ||
  (ctx.caller !== undefined &&
    team?.members.has(ctx.caller.user.id) === true &&
    capTeamRole(ctx.caller.scopes, team.role) !== undefined);

const teamView = (ctx: Ctx, org: string, team: Team, isNew: boolean): JsonObject => ({
  name: team.name,
  description: team.description,
  can_view: mayViewTeam(ctx, org, team),
  role: team.role,
  avatar: teamAvatar(team),
  new_team: isNew,
});

const memberView = (member: Account): JsonObject => ({
  name: member.username,
  kind: 'user',
  is_robot: member.kind === 'robot',
  avatar: accountAvatar(member),
  invited: false,
});

/** The admin teams of `org` the caller belongs to. */
const callerAdminTeams = (ctx: Ctx, org: Account): Team[] =>
  ctx.world
    .teamsOf(org.id)
    .filter((t) => t.role === 'admin' && ctx.caller !== undefined && t.members.has(ctx.caller.user.id));

const adminContext = (ctx: Ctx): { readonly name: string; readonly org: Account | undefined } | Reply => {
  const name = param(ctx, 'org');
  if (!can.administerOrganization(ctx.world, ctx.caller, name)) return deny(ctx);
  return { name, org: ctx.world.organization(name) };
};
const isReply = (v: object): v is Reply => 'status' in v;

/** An upsert: creates the team, or changes its description and role. */
export const putTeam: Handler = (ctx) => {
  const body = validatedBody(ctx, 'TeamDescription');
  if (!body.ok) return body.reply;
  const admin = adminContext(ctx);
  if (isReply(admin)) return admin;
  const data = isJsonObject(body.value) ? body.value : {};
  const teamName = param(ctx, 'team');
  const role = data['role'] as TeamRole;
  const description = typeof data['description'] === 'string' ? data['description'] : undefined;
  const existing = admin.org === undefined ? undefined : ctx.world.team(admin.org.id, teamName);
  if (existing === undefined) {
    if (admin.org === undefined) return dataModelError(`Organization does not exist: ${admin.name}`);
    const issue = usernameIssue(teamName)?.replace('Namespace must be between', 'Team must be between');
    if (issue !== undefined) return dataModelError(`Invalid team name ${teamName}: ${issue}`);
    const team: Team = {
      id: ctx.world.nextId(),
      orgId: admin.org.id,
      name: teamName,
      description: description ?? '',
      role,
      members: new Set(),
    };
    ctx.world.teams.set(team.id, team);
    return restful(teamView(ctx, admin.name, team, true));
  }
  if (description !== undefined) existing.description = description;
  if (existing.role !== role) {
    const mine = admin.org === undefined ? [] : callerAdminTeams(ctx, admin.org);
    if (existing.role === 'admin' && mine.some((t) => t.id === existing.id) && mine.length <= 1) {
      return dataModelError(
        `Cannot remove admin from team '${existing.name}' because calling user would no longer have admin on org '${admin.name}'`,
      );
    }
    existing.role = role;
  }
  return restful(teamView(ctx, admin.name, existing, false));
};

export const deleteTeam: Handler = (ctx) => {
  const admin = adminContext(ctx);
  if (isReply(admin)) return admin;
  const teamName = param(ctx, 'team');
  const team = admin.org === undefined ? undefined : ctx.world.team(admin.org.id, teamName);
  if (team === undefined || admin.org === undefined) {
    return dataModelError(`Team '${teamName}' is not a team in org '${admin.name}'`);
  }
  const mine = callerAdminTeams(ctx, admin.org);
  if (team.role === 'admin' && mine.length <= 1 && mine[0]?.id === team.id) {
    return dataModelError(
      `Deleting team '${teamName}' would remove admin ability for user '${ctx.caller?.user.username ?? ''}' in organization '${admin.name}'`,
    );
  }
  ctx.world.deleteTeamRows(team.id);
  return noContent();
};

export const listTeamMembers: Handler = (ctx) => {
  const orgName = param(ctx, 'org');
  const org = ctx.world.organization(orgName);
  const team = org === undefined ? undefined : ctx.world.team(org.id, param(ctx, 'team'));
  if (!mayViewTeam(ctx, orgName, team)) return deny(ctx);
  if (team === undefined) return notFound(ctx.req.baseUrl);
  const members = [...team.members].flatMap((id) => {
    const a = ctx.world.accounts.get(id);
    return a === undefined ? [] : [a];
  });
  return restful({
    name: team.name,
    members: members.sort((a, b) => a.id - b.id).map(memberView),
    can_edit: can.administerOrganization(ctx.world, ctx.caller, orgName),
  });
};

/** Adds a user or robot; a second add is a 400 B. */
export const putTeamMember: Handler = (ctx) => {
  const admin = adminContext(ctx);
  if (isReply(admin)) return admin;
  const team = admin.org === undefined ? undefined : ctx.world.team(admin.org.id, param(ctx, 'team'));
  if (team === undefined) return notFound(ctx.req.baseUrl);
  const user = ctx.world.userOrRobot(param(ctx, 'member'));
  if (user === undefined) return badRequest(ctx, 'Unknown user');
  if (team.members.has(user.id)) {
    return dataModelError(`User ${user.username} is already a member of team ${team.name}`);
  }
  team.members.add(user.id);
  return restful(memberView(user));
};

export const deleteTeamMember: Handler = (ctx) => {
  const admin = adminContext(ctx);
  if (isReply(admin)) return admin;
  const team = admin.org === undefined ? undefined : ctx.world.team(admin.org.id, param(ctx, 'team'));
  if (team === undefined || admin.org === undefined) return notFound(ctx.req.baseUrl);
  const member = ctx.world.userOrRobot(param(ctx, 'member'));
  if (member === undefined) return notFound(ctx.req.baseUrl);
  if (!team.members.has(member.id)) {
    return dataModelError(`User ${member.username} does not belong to team ${team.name}`);
  }
  if (member.id === ctx.caller?.user.id) {
    const mine = callerAdminTeams(ctx, admin.org);
    if (mine.some((t) => t.id === team.id) && mine.length <= 1) {
      return dataModelError('User cannot remove themselves from their only admin team.');
    }
  }
  team.members.delete(member.id);
  return noContent();
};
