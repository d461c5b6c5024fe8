// Robot accounts (data/model/user.py: create_robot, lookup_robot, regenerate_robot_token, delete_robot).
import type { Json, JsonObject } from './json.js';
import { failure, success, usernameIssue, type ModelResult } from './model-namespaces.js';
import type { Account, World } from './state.js';

export const ROBOT_NOT_FOUND = 'Could not find robot with specified username';

export const createRobot = (
  world: World,
  owner: string,
  shortname: string,
  description: string,
  metadata: Json | undefined,
): ModelResult<Account> => {
  const issue = usernameIssue(shortname);
  if (issue !== undefined) return failure(`The name for the robot '${shortname}' is invalid: ${issue}`);
  const username = `${owner}+${shortname}`;
  if (world.account(username) !== undefined) return failure(`Existing robot with name: ${username}`);
  // Quay's User.username is a Postgres varchar(255); the database refuses longer robot names.
  if (username.length > 255) return failure('value too long for type character varying(255)\n');
  const robot: Account = {
    id: world.nextId(),
    username,
    email: world.random.uuid4(),
    kind: 'robot',
    enabled: true,
    verified: false,
    createdMs: world.now(),
    lastAccessedMs: null,
    tagExpirationS: 0,
    invoiceEmail: false,
    invoiceEmailAddress: null,
    password: null,
    robot: {
      token: world.random.token(64),
      description: description.slice(0, 255),
      metadata:
        metadata !== undefined && metadata !== null && typeof metadata === 'object'
          ? (metadata as JsonObject)
          : {},
    },
  };
  world.accounts.set(robot.id, robot);
  return success(robot);
};

export const lookupRobot = (world: World, username: string): ModelResult<Account> => {
  const a = world.account(username);
  return a?.kind === 'robot' ? success(a) : failure(ROBOT_NOT_FOUND);
};

/** A new token (the old one stops working) and, as in Quay, a new e-mail and so a new avatar. */
export const regenerateRobotToken = (world: World, username: string): ModelResult<Account> => {
  const found = lookupRobot(world, username);
  if (found.ok && found.value.robot !== null) {
    found.value.robot.token = world.random.token(64);
    found.value.email = world.random.uuid4();
  }
  return found;
};

/** Deleting a robot removes its permissions, team memberships and prototypes. */
export const deleteRobot = (world: World, username: string): ModelResult<undefined> => {
  const found = lookupRobot(world, username);
  if (!found.ok) return failure(ROBOT_NOT_FOUND);
  world.deleteAccountRows(found.value.id);
  return success(undefined);
};

/** Robots of a namespace in Quay's list order: `last_accessed DESC`, never-used robots last (SQLite's NULL order). */
export const listRobots = (world: World, namespace: string): Account[] =>
  world
    .robotsOf(namespace)
    .sort((a, b) => (b.lastAccessedMs ?? -Infinity) - (a.lastAccessedMs ?? -Infinity) || a.id - b.id);
