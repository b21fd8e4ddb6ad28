import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OwnRedis } from '../../services/broker/test/helpers/own-redis.js';
import { freePort, HubProcess, root, sleep } from './hub-processes.js';
import { keepRunLogs } from './run-logs.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** What scripts/start.ts writes to demo.json and the suites use. */
export interface DemoCredentials {
  operator: ClientCredentials;
  consumer: ClientCredentials;
  publisher: ClientCredentials;
  gateway: ClientCredentials;
  broker: ClientCredentials;
}

export interface DemoHubOptions {
  /** The state folder (PGlite unless `databaseUrl`, demo.json, service logs under logs/, Redis under redis/). */
  state: string;
  /** Where the demo upstream and webhook receiver are: the caller's stand-in takes it. */
  upstreamPort: number;
  /** A hub file other than demo/hub.yaml (scripts/start.ts SPL_DEMO_HUB_FILE). */
  hubFile?: string;
  /** A PostgreSQL for the registry (DATABASE_URL) instead of PGlite in the state folder. */
  databaseUrl?: string;
  /** Environment added to one service's (e.g. shorter circuit or retry times). */
  gatewayEnv?: Record<string, string>;
  brokerEnv?: Record<string, string>;
  registryEnv?: Record<string, string>;
}

/**
 * The whole hub as separate processes, each killable and restartable alone: the demo is
 * loaded through its approval gates by `scripts/start.ts` (free ports, the caller's state
 * folder, a Redis of its own with a random key prefix), which is then stopped, and every
 * service is started again here with the environment `start.ts` gives it.
 */
export class DemoHub {
  readonly host = '127.0.0.1';
  readonly logs: string;
  readonly prefix = `hub-${randomBytes(4).toString('hex')}`;
  readonly redis = new OwnRedis();
  demo!: DemoCredentials;
  registry!: HubProcess;
  gateway!: HubProcess;
  brokerApi!: HubProcess;
  brokerWorker!: HubProcess;
  registryUrl = '';
  gatewayUrl = '';
  brokerUrl = '';
  brokerWorkerUrl = '';

  constructor(private readonly options: DemoHubOptions) {
    this.logs = join(options.state, 'logs');
    mkdirSync(this.logs, { recursive: true });
    this.redis.dir = join(options.state, 'redis');
    mkdirSync(this.redis.dir, { recursive: true });
  }

  get services(): HubProcess[] {
    return [this.registry, this.gateway, this.brokerApi, this.brokerWorker].filter(Boolean);
  }

  /** Loads the demo and starts the four services; the upstream port must be free by now. */
  async start(): Promise<void> {
    const { state, upstreamPort } = this.options;
    const [registryPort, gatewayPort, brokerPort, workerPort, redisPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    // A Redis of the hub's own (AOF fsynced before each answer, noeviction), killable.
    this.redis.port = redisPort;
    await this.redis.start();
    this.registryUrl = `http://${this.host}:${registryPort}`;
    this.gatewayUrl = `http://${this.host}:${gatewayPort}`;
    this.brokerUrl = `http://${this.host}:${brokerPort}`;
    this.brokerWorkerUrl = `http://${this.host}:${workerPort}`;
    const base = {
      REDIS_URL: this.redis.url,
      SPL_REDIS_PREFIX: this.prefix,
      SPL_LOG_LEVEL: 'warn',
    };
    await this.loadDemo({
      ...base,
      SPL_STATE_DIR: state,
      SPL_REGISTRY_PORT: String(registryPort),
      SPL_DEMO_UPSTREAM_PORT: String(upstreamPort),
      SPL_GATEWAY_PORT: String(gatewayPort),
      SPL_BROKER_PORT: String(brokerPort),
      SPL_BROKER_WORKER_PORT: String(workerPort),
      ...(this.options.hubFile ? { SPL_DEMO_HUB_FILE: this.options.hubFile } : {}),
      ...(this.options.databaseUrl ? { DATABASE_URL: this.options.databaseUrl } : {}),
    });
    const demo = this.demo;
    const data = join(state, 'data');
    const service = { ...base, SPL_EGRESS_ALLOW: this.host };
    this.registry = HubProcess.tsx(
      'registry',
      'services/registry/src/server.ts',
      {
        ...service,
        ...(this.options.databaseUrl ? { DATABASE_URL: this.options.databaseUrl } : {}),
        SPL_REGISTRY_PORT: String(registryPort),
        SPL_DATA_DIR: data,
        SPL_BOOTSTRAP_CLIENT_ID: demo.operator.clientId,
        SPL_BOOTSTRAP_CLIENT_SECRET: demo.operator.clientSecret,
        SPL_DEMO_FILE: join(state, 'demo.json'),
        SPL_PUBLIC_URL: this.gatewayUrl,
        ...this.options.registryEnv,
      },
      `${this.registryUrl}/readyz`,
      this.logs,
    );
    this.gateway = HubProcess.tsx(
      'gateway',
      'services/gateway/src/server.ts',
      {
        ...service,
        SPL_GATEWAY_PORT: String(gatewayPort),
        SPL_REGISTRY_URL: this.registryUrl,
        SPL_PUBLIC_URL: this.gatewayUrl,
        SPL_GATEWAY_CLIENT_ID: demo.gateway.clientId,
        SPL_GATEWAY_CLIENT_SECRET: demo.gateway.clientSecret,
        SPL_DATA_DIR: data,
        ...this.options.gatewayEnv,
      },
      `${this.gatewayUrl}/readyz`,
      this.logs,
    );
    const brokerEnv = {
      ...service,
      SPL_BROKER_PORT: String(brokerPort),
      SPL_BROKER_WORKER_PORT: String(workerPort),
      SPL_REGISTRY_URL: this.registryUrl,
      SPL_PUBLIC_URL: this.gatewayUrl,
      SPL_BROKER_CLIENT_ID: demo.broker.clientId,
      SPL_BROKER_CLIENT_SECRET: demo.broker.clientSecret,
      SPL_DATA_DIR: data,
      ...this.options.brokerEnv,
    };
    this.brokerApi = HubProcess.tsx(
      'broker-api',
      'services/broker/src/server.ts',
      brokerEnv,
      `${this.brokerUrl}/readyz`,
      this.logs,
    );
    this.brokerWorker = HubProcess.tsx(
      'broker-worker',
      'services/broker/src/worker.ts',
      brokerEnv,
      `${this.brokerWorkerUrl}/readyz`,
      this.logs,
    );
    await this.registry.start();
    await Promise.all([this.gateway.start(), this.brokerApi.start(), this.brokerWorker.start()]);
  }

  /** `scripts/start.ts` until "SPL is running", then stopped (its process group, demo upstream too). */
  private async loadDemo(env: Record<string, string>): Promise<void> {
    const hub: ChildProcess = spawn(
      process.execPath,
      [join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/start.ts'],
      { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let output = '';
    hub.stdout!.on('data', (c) => {
      output += c;
    });
    hub.stderr!.on('data', (c) => {
      output += c;
    });
    const exited = new Promise((ok) => hub.once('exit', ok));
    const until = Date.now() + 150_000;
    while (!output.includes('SPL is running') && Date.now() < until) {
      if (hub.exitCode !== null) throw new Error(`scripts/start.ts exited:\n${output}`);
      await sleep(250);
    }
    try {
      process.kill(-hub.pid!, 'SIGTERM');
      await exited;
    } catch {
      // it had exited already
    }
    if (!output.includes('SPL is running')) throw new Error(`scripts/start.ts did not finish:\n${output}`);
    this.demo = JSON.parse(readFileSync(join(this.options.state, 'demo.json'), 'utf8')) as DemoCredentials;
  }

  /**
   * SIGTERM to every service (reverse start order), SIGKILL to one still running after
   * `graceMs` — as a supervisor would: a broker worker whose Redis is already gone (Ctrl-C
   * reaches redis-server too) waits in its close for a reconnect — then Redis. Safe to call twice.
   */
  async stop(graceMs = 10_000): Promise<void> {
    for (const p of this.services.reverse()) {
      const stopped = p.kill('SIGTERM').then(() => true);
      if (!(await Promise.race([stopped, sleep(graceMs).then(() => false)]))) await p.kill('SIGKILL');
    }
    await this.redis.kill();
    keepRunLogs(this.logs, 'demo-hub');
  }
}
