import type { Static, TObject } from 'typebox';
import { Value } from 'typebox/value';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`invalid configuration: ${variable} ${message}`, options);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Reads a service's environment through one TypeBox schema: defaults applied, strings
 * converted to the declared types, the result checked once and frozen. A bad value
 * throws a ConfigError naming the variable, so start-up stops with a clear message.
 * Variables not in the schema are ignored.
 */
export function loadConfig<S extends TObject>(schema: S, env: Record<string, string | undefined>): Static<S> {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const raw = env[key];
    if (raw !== undefined && raw !== '') picked[key] = raw;
  }
  const withDefaults = Value.Default(schema, picked);
  const converted = Value.Convert(schema, withDefaults);
  const first = Value.Errors(schema, converted)[0];
  if (first) {
    const variable =
      first.instancePath.split('/')[1] ||
      String((first.params as { requiredProperties?: string[] }).requiredProperties?.[0] ?? '(unknown)');
    throw new ConfigError(variable, first.message);
  }
  return deepFreeze(converted as Static<S>);
}
export { ServerTimeoutSettings, serverTimeouts } from './http-server-timeouts.js';
