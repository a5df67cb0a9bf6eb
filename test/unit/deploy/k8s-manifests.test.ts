import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aclEntries } from '../../../services/platform/acl-policy';
import { busGrants, busPrincipals, busTopics } from '../../../deploy/local/topics';
import { driftedFiles, renderBase } from '../../../deploy/k8s/generate';
import { topicResourceName, topicResources, userResources } from '../../../deploy/k8s/manifests';

describe('the Kubernetes base', () => {
  it('is what the declarations in code give: `npm run k8s:generate` was run and committed', () => {
    expect(driftedFiles()).toEqual([]);
  });

  it('names the file that drifted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-base-'));
    try {
      cpSync(join(__dirname, '../../../deploy/k8s/base'), dir, { recursive: true });
      expect(driftedFiles(dir)).toEqual([]);
      const users = renderBase()['users.yaml'] ?? '';
      expect(users).toContain('- Read');
      writeFileSync(join(dir, 'users.yaml'), users.replace('- Read', '- Write'));
      expect(driftedFiles(dir)).toEqual(['users.yaml']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a KafkaTopic per declared topic, under a valid object name, with its real name', () => {
    const declared = busTopics('_schemas');
    const topics = topicResources(declared) as unknown as {
      metadata: { name: string };
      spec: { topicName: string };
    }[];
    expect(topics.map((t) => t.spec.topicName)).toEqual(declared.map((d) => d.topic));
    const names = topics.map((t) => t.metadata.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(topicResourceName('_schemas')).not.toBe(topicResourceName('schemas'));
  });

  it('gives the subscriptions service a registry client of its own, which may register its derived subjects', () => {
    const subscriptions = renderBase()['subscriptions.yaml'] ?? '';
    expect(subscriptions).toMatch(/- name: SCHEMA_REGISTRY_CLIENT_ID\n\s+value: lienthong-subscriptions\n/);
    expect(subscriptions).toContain(
      'value: /etc/lienthong/secrets/lienthong-registry-clients/lienthong-subscriptions',
    );
    expect(renderBase()['sharing.yaml']).toMatch(
      /- name: SCHEMA_REGISTRY_CLIENT_ID\n\s+value: lienthong-reader\n/,
    );
  });

  it('gives the workloads their secrets as files, and mounts only the keys each reads', () => {
    const files = renderBase();
    for (const name of ['registry', 'sharing', 'lookup', 'subscriptions', 'console', 'connector-tax']) {
      const text = files[`${name}.yaml`] ?? '';
      expect({ name, secretKeyRef: text.includes('secretKeyRef') }).toEqual({ name, secretKeyRef: false });
    }
    // The store's secret holds the root's password too: a bus pod gets its `uri` only.
    expect(files['lookup.yaml']).toMatch(
      /secretName: lienthong-mongodb\n\s+items:\n\s+- key: uri\n\s+path: uri\n\s+- name/,
    );
  });

  it('gives each principal a KafkaUser holding exactly its ACLs', () => {
    const grants = busGrants('_schemas');
    const users = userResources(grants) as unknown as {
      metadata: { name: string };
      spec: { authorization?: { acls: { operations: string[] }[] } };
    }[];
    expect(users.map((u) => u.metadata.name)).toEqual(busPrincipals());
    for (const user of users) {
      const own = aclEntries(grants.filter((g) => g.principal === user.metadata.name));
      const listed = (user.spec.authorization?.acls ?? []).flatMap((a) => a.operations);
      expect(listed).toHaveLength(own.length);
    }
  });
});
