import { expect } from 'chai';
import {
  dockercfgLinkPatch,
  dockercfgSecretName,
  isDockercfgSecretOf,
  projectServiceAccounts,
} from '../../openshift-standin/service-accounts.js';

describe('the stand-in project ServiceAccounts', () => {
  it('are builder, deployer and default, as OpenShift creates them', () => {
    expect(projectServiceAccounts).to.deep.equal(['builder', 'deployer', 'default']);
  });

  it('name the pull Secret <sa>-dockercfg-<5 hex>, the same for the same ServiceAccount uid', () => {
    const name = dockercfgSecretName('builder', 'uid-1');
    expect(name).to.match(/^builder-dockercfg-[0-9a-f]{5}$/);
    expect(dockercfgSecretName('builder', 'uid-1')).to.equal(name);
    expect(dockercfgSecretName('builder', 'uid-2')).to.not.equal(name);
    expect(isDockercfgSecretOf('builder', name)).to.equal(true);
    expect(isDockercfgSecretOf('deployer', name)).to.equal(false);
  });

  it('links the pull Secret after every existing entry, locked to the resourceVersion read', () => {
    const patch = dockercfgLinkPatch(
      {
        metadata: { name: 'builder', resourceVersion: '12' },
        secrets: [{ name: 'builder-quay-openshift' }],
        imagePullSecrets: [{ name: 'builder-quay-openshift' }, { name: 'other' }],
      },
      'builder-dockercfg-abcde',
    );
    expect(patch).to.deep.equal({
      metadata: { resourceVersion: '12' },
      secrets: [{ name: 'builder-quay-openshift' }, { name: 'builder-dockercfg-abcde' }],
      imagePullSecrets: [
        { name: 'builder-quay-openshift' },
        { name: 'other' },
        { name: 'builder-dockercfg-abcde' },
      ],
    });
  });

  it('touches only the list that lacks the link, and nothing when both have it', () => {
    const sa = {
      metadata: { name: 'default', resourceVersion: '3' },
      secrets: [{ name: 'default-dockercfg-abcde' }],
    };
    expect(dockercfgLinkPatch(sa, 'default-dockercfg-abcde')).to.deep.equal({
      metadata: { resourceVersion: '3' },
      imagePullSecrets: [{ name: 'default-dockercfg-abcde' }],
    });
    expect(
      dockercfgLinkPatch(
        { ...sa, imagePullSecrets: [{ name: 'default-dockercfg-abcde' }] },
        'default-dockercfg-abcde',
      ),
    ).to.equal(undefined);
  });
});
