import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DEPLOY, requireTool, run } from './helpers/tools.js';

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    scaleTargetRef?: { kind: string; name: string };
    minReplicas?: number;
    minAvailable?: number;
    template?: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** `kubectl kustomize` of a folder under deploy/k8s, as objects. */
function render(folder: string): Resource[] {
  const kubectl = requireTool('kubectl', 'kubernetes-client');
  const result = run(kubectl, ['kustomize', join(DEPLOY, 'k8s', folder)]);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${folder} failed:\n${result.output}`);
  return parseAllDocuments(result.output).map((doc) => doc.toJS() as Resource);
}

const named = (resources: Resource[], kind: string) =>
  new Map(resources.filter((r) => r.kind === kind).map((r) => [r.metadata.name, r]));

describe.each(['base', 'overlays/production'])('the Kubernetes manifests (%s)', (folder) => {
  let resources: Resource[];
  let deployments: Map<string, Resource>;
  beforeAll(() => {
    resources = render(folder);
    deployments = named(resources, 'Deployment');
  });

  it('run the registry on two replicas or more, the gateway, the broker API and its worker', () => {
    expect([...deployments.keys()].sort()).toEqual([
      'spl-broker',
      'spl-broker-worker',
      'spl-gateway',
      'spl-registry',
    ]);
    expect(deployments.get('spl-registry')!.spec!.replicas).toBeGreaterThanOrEqual(2);
  });

  it('give every container /healthz as liveness, /readyz as readiness, and resource requests and limits', () => {
    const problems: string[] = [];
    for (const [name, deployment] of deployments)
      for (const c of deployment.spec!.template!.spec.containers) {
        const where = `${name}/${c.name}`;
        const ports = new Set((c.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
        if (c.livenessProbe?.httpGet?.path !== '/healthz')
          problems.push(`${where}: liveness is not /healthz`);
        if (c.readinessProbe?.httpGet?.path !== '/readyz')
          problems.push(`${where}: readiness is not /readyz`);
        for (const probe of [c.livenessProbe, c.readinessProbe])
          if (probe?.httpGet && !ports.has(probe.httpGet.port))
            problems.push(`${where}: probe port ${probe.httpGet.port} is not a container port`);
        for (const kind of ['requests', 'limits'] as const)
          for (const resource of ['cpu', 'memory'])
            if (!c.resources?.[kind]?.[resource]) problems.push(`${where}: no ${resource} ${kind}`);
      }
    expect(problems).toEqual([]);
  });

  it('give the gateway, the broker API and the worker an autoscaler and a disruption budget', () => {
    const hpas = named(resources, 'HorizontalPodAutoscaler');
    const pdbs = [...named(resources, 'PodDisruptionBudget').values()];
    for (const name of ['spl-gateway', 'spl-broker', 'spl-broker-worker']) {
      const hpa = [...hpas.values()].find((h) => h.spec!.scaleTargetRef!.name === name);
      expect(hpa?.spec?.scaleTargetRef?.kind, name).toBe('Deployment');
      expect(hpa!.spec!.minReplicas, name).toBeGreaterThanOrEqual(2);
      const labels = deployments.get(name)!.spec!.template!.metadata.labels;
      const pdb = pdbs.find((p) => {
        const selector = (p.spec!.selector as { matchLabels: Record<string, string> }).matchLabels;
        return Object.entries(selector).every(([k, v]) => labels[k] === v);
      });
      expect(pdb?.spec?.minAvailable, name).toBeGreaterThanOrEqual(1);
    }
  });

  it('refer only to ConfigMaps and Secrets it defines, with the master key in a Secret', () => {
    const defined = new Set(
      resources.filter((r) => r.kind === 'ConfigMap' || r.kind === 'Secret').map((r) => r.metadata.name),
    );
    const referred = [...deployments.values()].flatMap((d) =>
      d.spec!.template!.spec.containers.flatMap((c) =>
        (c.envFrom ?? []).map((e) => e.configMapRef?.name ?? e.secretRef?.name ?? '?'),
      ),
    );
    expect(referred.filter((name) => !defined.has(name))).toEqual([]);
    const secrets = resources.filter((r) => r.kind === 'Secret');
    const keys = secrets.flatMap((s) => Object.keys({ ...s.stringData, ...s.data }));
    expect(keys).toEqual(
      expect.arrayContaining(['SPL_MASTER_KEY', 'SPL_BOOTSTRAP_CLIENT_SECRET', 'DATABASE_URL']),
    );
    // The gateway reads neither the database password nor the bootstrap secret.
    const gatewayRefs = deployments
      .get('spl-gateway')!
      .spec!.template!.spec.containers.flatMap((c) => (c.envFrom ?? []).map((e) => e.secretRef?.name))
      .filter(Boolean);
    for (const name of gatewayRefs) {
      const secret = secrets.find((s) => s.metadata.name === name)!;
      expect(Object.keys(secret.stringData ?? {})).not.toContain('DATABASE_URL');
      expect(Object.keys(secret.stringData ?? {})).not.toContain('SPL_BOOTSTRAP_CLIENT_SECRET');
    }
  });

  it('configure production mode behind a TLS proxy with an https public URL', () => {
    const config = named(resources, 'ConfigMap').get('spl-config')!.data!;
    expect(config.SPL_MODE).toBe('production');
    expect(config.SPL_PUBLIC_URL).toMatch(/^https:\/\//);
    expect(config.SPL_BEHIND_TLS_PROXY).toBe('true');
  });

  it('have a Service in front of every Deployment, selecting its pods', () => {
    const services = [...named(resources, 'Service').values()];
    for (const [name, deployment] of deployments) {
      const labels = deployment.spec!.template!.metadata.labels;
      const service = services.find((s) =>
        Object.entries(s.spec!.selector as Record<string, string>).every(([k, v]) => labels[k] === v),
      );
      expect(service?.metadata.name, name).toBe(name);
    }
  });
});

describe('the production overlay', () => {
  it('puts everything in its namespace, pins the image and keeps the evidence logs on a volume', () => {
    const resources = render('overlays/production');
    const namespaced = resources.filter((r) => r.kind !== 'Namespace');
    expect(namespaced.every((r) => r.metadata.namespace === 'spl')).toBe(true);
    const images = resources
      .filter((r) => r.kind === 'Deployment')
      .flatMap((d) => d.spec!.template!.spec.containers.map((c) => c.image));
    expect(new Set(images)).toEqual(new Set(['registry.example.go.id/spl/spl:0.1.0']));
    const gateway = resources.find((r) => r.kind === 'Deployment' && r.metadata.name === 'spl-gateway')!;
    expect(JSON.stringify(gateway)).toContain('"claimName":"spl-gateway-evidence"');
    expect(resources.some((r) => r.kind === 'PersistentVolumeClaim')).toBe(true);
  });
});
