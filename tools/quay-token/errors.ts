// Everything that can stop `quay-token`, as tagged values, and the one place that turns each into the sentence
// the user reads: what happened and what to do about it. No message ever carries the password or a token.
import type { KubeError } from '../../shared/kube/errors.js';

export type TokenError =
  | { readonly _tag: 'Usage'; readonly message: string }
  | { readonly _tag: 'PasswordUnavailable'; readonly message: string }
  | { readonly _tag: 'QuayUnreachable'; readonly url: string; readonly cause: string }
  | { readonly _tag: 'TlsRefused'; readonly url: string; readonly cause: string }
  | { readonly _tag: 'NotQuay'; readonly url: string; readonly detail: string }
  | { readonly _tag: 'WrongPassword'; readonly user: string }
  | { readonly _tag: 'EmailNotVerified'; readonly user: string }
  | {
      readonly _tag: 'SigninThrottled';
      readonly user: string;
      readonly retryAfterSeconds: number | undefined;
    }
  | { readonly _tag: 'SigninUnavailable'; readonly url: string }
  | { readonly _tag: 'CsrfRefused'; readonly during: string }
  | { readonly _tag: 'SessionLost'; readonly during: string }
  | { readonly _tag: 'OrganizationNotFound'; readonly org: string }
  | { readonly _tag: 'NotOrganizationAdmin'; readonly user: string; readonly org: string }
  | { readonly _tag: 'InitializeUnavailable'; readonly url: string }
  | { readonly _tag: 'AlreadyInitialized' }
  | { readonly _tag: 'InitializeRefused'; readonly message: string }
  | { readonly _tag: 'AuthorizationRefused'; readonly error: string }
  | { readonly _tag: 'TokenRejected'; readonly detail: string }
  | {
      readonly _tag: 'QuayUnexpected';
      readonly request: string;
      readonly status: number;
      readonly body: string;
    }
  | { readonly _tag: 'NoQuayIntegration' }
  | { readonly _tag: 'SeveralQuayIntegrations'; readonly names: readonly string[] }
  | { readonly _tag: 'KubeConfigMissing'; readonly message: string }
  | { readonly _tag: 'Kube'; readonly during: string; readonly error: KubeError };

/** Exit status: 2 for a wrong command line, 1 for everything else. */
export const exitCodeOf = (e: TokenError): number => (e._tag === 'Usage' ? 2 : 1);

export const describe = (e: TokenError): string => {
  switch (e._tag) {
    case 'Usage':
      return `${e.message}\n(npm run quay-token -- --help for the options)`;
    case 'PasswordUnavailable':
      return e.message;
    case 'QuayUnreachable':
      return `cannot reach Quay at ${e.url}: ${e.cause}. Check --quay (scheme, host and port) and that this machine or pod can reach it.`;
    case 'TlsRefused':
      return (
        `TLS to ${e.url} failed: ${e.cause}. If Quay's certificate is issued by a private CA, pass its PEM with ` +
        '--ca-file <file> (the QuayIntegration then needs it in spec.quayCABundle too); --insecure skips the check, ' +
        'for a test Quay only.'
      );
    case 'NotQuay':
      return `${e.url} does not answer like Quay (${e.detail}). Is --quay the URL of Quay's web UI and API, without a path?`;
    case 'WrongPassword':
      return (
        `Quay refused the user name or password of "${e.user}". Check --user and the password (a password file's ` +
        'trailing newline is ignored). Each failed attempt makes Quay wait longer before the next one.'
      );
    case 'EmailNotVerified':
      return `Quay refuses to sign in "${e.user}" until its e-mail address is verified: open the verification mail, then run this again.`;
    case 'SigninThrottled':
      return (
        `Quay refuses sign-ins of "${e.user}" for ${e.retryAfterSeconds === undefined ? 'a while' : `${e.retryAfterSeconds} more s`} ` +
        'after failed attempts ("Too many login attempts"). Wait, check the password, and run this again.'
      );
    case 'SigninUnavailable':
      return (
        `${e.url} does not offer password sign-in (POST /api/v1/signin answers 404: FEATURE_DIRECT_LOGIN is off, e.g. ` +
        "a Quay that signs in through SSO only). Create the token in Quay's UI instead (README, the fallback)."
      );
    case 'CsrfRefused':
      return (
        `Quay refused the session's CSRF token while ${e.during} (403 "CSRF token was invalid or missing"). The ` +
        'session cookie (_csrf_token) or the X-CSRF-Token header did not reach Quay unchanged: point --quay at Quay ' +
        'itself rather than at a proxy that drops cookies or headers.'
      );
    case 'SessionLost':
      return (
        `Quay no longer knew the signed-in session while ${e.during}. A proxy or load balancer in front of Quay may ` +
        'drop the session cookie or send requests to Quay instances with different SECRET_KEYs: point --quay at one Quay.'
      );
    case 'OrganizationNotFound':
      return `Quay has no organization "${e.org}". Check --org, or add --create-org to create it (you become its admin).`;
    case 'NotOrganizationAdmin':
      return (
        `"${e.user}" is not an admin of the organization "${e.org}", so it cannot create or use OAuth applications ` +
        `there. Run this as a member of ${e.org}'s owners team (--user), or have one add "${e.user}" to it.`
      );
    case 'InitializeUnavailable':
      return (
        `${e.url} does not offer POST /api/v1/user/initialize (404): FEATURE_USER_INITIALIZE is off, or the ` +
        "authentication is not Quay's database. Run without --initialize, as an admin of the organization."
      );
    case 'AlreadyInitialized':
      return (
        'Quay already has users ("Cannot initialize user in a non-empty database"); --initialize only works on a ' +
        'brand-new Quay. Run without --initialize, as an admin of the organization.'
      );
    case 'InitializeRefused':
      return `Quay refused to create the first user: ${e.message}`;
    case 'AuthorizationRefused':
      return `Quay refused to issue the token (${e.error}). ${authorizationHint(e.error)}`;
    case 'TokenRejected':
      return `Quay issued a token but does not accept it: ${e.detail}. Nothing was written.`;
    case 'QuayUnexpected':
      return `unexpected answer from Quay to ${e.request}: HTTP ${e.status} ${e.body}`;
    case 'NoQuayIntegration':
      return (
        'the cluster has no QuayIntegration to take the credentials Secret from: apply the QuayIntegration first, ' +
        'or name the Secret with --secret <namespace>/<name>, or use --print.'
      );
    case 'SeveralQuayIntegrations':
      return `the cluster has several QuayIntegrations (${e.names.join(', ')}): name the Secret with --secret <namespace>/<name>.`;
    case 'KubeConfigMissing':
      return `${e.message}. Pass --kubeconfig <file>, run inside the cluster, or use --print.`;
    case 'Kube':
      return `Kubernetes refused ${e.during}: ${e.error.message}${kubeHint(e.error)}`;
  }
};

const authorizationHint = (error: string): string => {
  switch (error) {
    case 'unauthorized_client':
      return "The user must be an admin of the application's organization.";
    case 'invalid_scope':
      return 'This Quay does not know one of the scopes quay-bridge needs.';
    case 'redirect_uri_mismatch':
    case 'invalid_request':
      return "The application's redirect URI does not match Quay's URL: use --app-name to make a new application.";
    default:
      return "See Quay's log for the reason.";
  }
};

const kubeHint = (e: KubeError): string =>
  e._tag === 'KubeForbidden'
    ? ' (the credentials in use may not read QuayIntegrations or write that Secret: see knative/quay-token/ for the rights the Job has)'
    : '';
