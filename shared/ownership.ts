// Which Quay organizations, robots and repositories are this cluster's. Names alone prove nothing: clusterIDs that
// differ only in case share a prefix, an organizationPrefix may equal another cluster's clusterID, and any Quay user
// may create `<prefix>_<namespace>` before the namespace exists. So the bridge marks what it makes with the
// cluster's identity (the kube-system namespace's UID and the clusterID), in places Quay keeps and that the calls it
// already makes read back:
//   - an organization: its e-mail (set in the POST that creates it; read with GET /organization/{org}; an
//     adoption changes it with PUT), `<hash of the name>.<owner token>@quay-bridge.invalid`;
//   - a robot: its description, which GET and list of robots return (robots are made only in an organization
//     proven ours, so a marked robot proves its organization without another call);
//   - a repository: its description, which GET /repository/{repo} returns.
// Everything here is pure; effects are in shared/sync/organization.ts.
import { createHash } from 'node:crypto';

/** Who this bridge is: the cluster (kube-system's UID) and the clusterID it was given (case kept: C1 is not c1). */
export interface ClusterIdentity {
  readonly uid: string;
  readonly clusterID: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The short token that stands for a ClusterIdentity in every mark: `qb-` and 20 hex digits. */
export const ownerToken = (id: ClusterIdentity): string =>
  `qb-${sha256(`${id.uid}/${id.clusterID}`).slice(0, 20)}`;

const TOKEN = /qb-[0-9a-f]{20}/;

/** `.invalid` is reserved (RFC 2606): the address can never reach anyone. */
export const MARK_EMAIL_DOMAIN = 'quay-bridge.invalid';

/** An organization's mark. Quay wants e-mails unique, so a hash of the name comes first. */
export const organizationEmail = (id: ClusterIdentity, org: string): string =>
  `${sha256(org).slice(0, 12)}.${ownerToken(id)}@${MARK_EMAIL_DOMAIN}`;

/** The owner token an e-mail carries, if it is a quay-bridge mark. */
export const tokenOfEmail = (email: string): string | undefined => {
  const m = new RegExp(`\\.(${TOKEN.source})@${MARK_EMAIL_DOMAIN.replace('.', '\\.')}$`).exec(email);
  return m?.[1];
};

const DESCRIPTION_MAX = 255;

/** A robot's or repository's description: the mark first, then what it is for, cut to Quay's 255 characters. */
export const markedDescription = (id: ClusterIdentity, what: string): string =>
  `quay-bridge owner=${ownerToken(id)} cluster=${id.clusterID}: ${what}`.slice(0, DESCRIPTION_MAX);

/** The owner token a description carries, if it is a quay-bridge mark. */
export const tokenOfDescription = (description: string): string | undefined =>
  new RegExp(`^quay-bridge owner=(${TOKEN.source})\\b`).exec(description)?.[1];

/**
 * What Quay shows about an organization, as far as ownership goes:
 * `Ours` carries this cluster's mark; `Unmarked` carries none (made by QBO, by an earlier quay-bridge, or by
 * anybody); `Foreign` carries another cluster's; `NotAdmin`: the token's user may not administer it (so it cannot
 * have made it); `Missing`: there is no such organization.
 */
export type Ownership =
  | { readonly _tag: 'Ours' }
  | { readonly _tag: 'Unmarked' }
  | { readonly _tag: 'Foreign'; readonly token: string }
  | { readonly _tag: 'NotAdmin' }
  | { readonly _tag: 'Missing' };

export const OURS: Ownership = { _tag: 'Ours' };

/** The evidence an organization's GET gives: its e-mail (empty unless the caller is an admin). */
export interface OrganizationEvidence {
  readonly email: string;
  readonly isAdmin: boolean;
}

/** The decisions, in one record: the steps take the strict one; tests build a weakened one to show each attack. */
export interface Judge {
  readonly organization: (id: ClusterIdentity, org: string, evidence: OrganizationEvidence) => Ownership;
  /** From robots' descriptions alone; undefined when they do not tell (no marked robot). */
  readonly robots: (id: ClusterIdentity, descriptions: readonly string[]) => Ownership | undefined;
  /** Whether a repository with this description was made by this cluster's bridge. */
  readonly repository: (id: ClusterIdentity, description: string) => boolean;
}

const fromToken = (id: ClusterIdentity, token: string | undefined): Ownership =>
  token === undefined ? { _tag: 'Unmarked' } : token === ownerToken(id) ? OURS : { _tag: 'Foreign', token };

export const strictJudge: Judge = {
  organization: (id, org, { email, isAdmin }) => {
    if (!isAdmin) return { _tag: 'NotAdmin' };
    const token = tokenOfEmail(email);
    // Ours only as made for this very name: an e-mail copied from another organization does not count.
    if (token === ownerToken(id) && email !== organizationEmail(id, org)) return { _tag: 'Unmarked' };
    return fromToken(id, token);
  },
  robots: (id, descriptions) => {
    const tokens = new Set(descriptions.flatMap((d) => tokenOfDescription(d) ?? []));
    const mine = ownerToken(id);
    const other = [...tokens].find((t) => t !== mine);
    // A robot of another cluster beside ours (both made it, racing): let the organization's e-mail decide.
    if (other !== undefined) return tokens.has(mine) ? undefined : { _tag: 'Foreign', token: other };
    return tokens.has(mine) ? OURS : undefined;
  },
  repository: (id, description) => tokenOfDescription(description) === ownerToken(id),
};

/** The adoption annotation on the QuayIntegration: namespaces whose unmarked organization becomes this cluster's. */
export const ADOPT_ANNOTATION = 'quay.redhat.com/adopt-organizations';

/** The namespaces the annotation names: comma- or whitespace-separated; anything else is ignored. */
export const adoptedNamespaces = (annotation: string | undefined): ReadonlySet<string> =>
  new Set(
    (annotation ?? '')
      .split(/[\s,]+/)
      .filter((n) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n) && n.length <= 63),
  );

/**
 * What to do with an organization, from its ownership: use it; adopt it first (an unmarked organization of a
 * namespace the QuayIntegration names for adoption); or refuse it, with why. Never adopts a foreign mark.
 */
export type Claim =
  | { readonly _tag: 'Use' }
  | { readonly _tag: 'Adopt' }
  | { readonly _tag: 'Create' }
  | { readonly _tag: 'Refuse'; readonly why: string };

export const claimOf = (
  ownership: Ownership,
  org: string,
  namespace: string,
  adopt: ReadonlySet<string>,
): Claim => {
  switch (ownership._tag) {
    case 'Ours':
      return { _tag: 'Use' };
    case 'Missing':
      return { _tag: 'Create' };
    case 'Unmarked':
      return adopt.has(namespace)
        ? { _tag: 'Adopt' }
        : {
            _tag: 'Refuse',
            why: `organization ${org} exists without this cluster's mark (made by someone else, by QBO or by an earlier quay-bridge); annotate the QuayIntegration with ${ADOPT_ANNOTATION}: ${namespace} to adopt it`,
          };
    case 'Foreign':
      return {
        _tag: 'Refuse',
        why: `organization ${org} carries another cluster's mark (${ownership.token}): it is never used, adopted or deleted`,
      };
    case 'NotAdmin':
      return {
        _tag: 'Refuse',
        why: `organization ${org} exists and the token's user is not its administrator: someone else made it`,
      };
  }
};
