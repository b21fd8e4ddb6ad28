import { loadConfig } from '@spl/env-config';
import { type Static, Type } from 'typebox';

/** The demo upstream's environment. */
export const DemoConfigSchema = Type.Object({
  SPL_HOST: Type.String({ default: '127.0.0.1' }),
  SPL_DEMO_UPSTREAM_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8090 }),
  /** The demo event subscription's `whsec_…` secret, written by the quick start (0600). */
  SPL_DEMO_WEBHOOK_SECRET_FILE: Type.Optional(Type.String({ minLength: 1 })),
  SPL_LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
  }),
});
export type DemoConfig = Static<typeof DemoConfigSchema>;

export function loadDemoConfig(env: Record<string, string | undefined>): DemoConfig {
  return loadConfig(DemoConfigSchema, env);
}
