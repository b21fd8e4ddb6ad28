import { Compile } from 'typebox/compile';
import { SNAPSHOT_FORMAT, Snapshot, SnapshotNotice } from './snapshot-schema.js';

/** A document that is not a snapshot this code understands; `pointer` names where. */
export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
  constructor(
    message: string,
    readonly pointer = '',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// Compiled once, when the module loads: validating is then a plain function call.
const snapshotValidator = Compile(Snapshot);
const noticeValidator = Compile(SnapshotNotice);

/** Parses and validates snapshot JSON text (from the registry or from disk). */
export function parseSnapshot(text: string): Snapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SnapshotFormatError('snapshot is not JSON', '', { cause });
  }
  return checkSnapshot(value);
}

/** Validates an already parsed value against the wire schema. */
export function checkSnapshot(value: unknown): Snapshot {
  const format = (value as { format?: unknown } | null)?.format;
  if (format !== SNAPSHOT_FORMAT)
    throw new SnapshotFormatError(`unsupported snapshot format ${JSON.stringify(format)}`, '/format');
  if (snapshotValidator.Check(value)) return value;
  const [first] = snapshotValidator.Errors(value);
  throw new SnapshotFormatError(
    `snapshot does not match the schema: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim(),
    first?.instancePath ?? '',
  );
}

/** Parses a change notice from the Redis channel; null for anything else. */
export function parseSnapshotNotice(text: string): SnapshotNotice | null {
  try {
    const value = JSON.parse(text) as unknown;
    return noticeValidator.Check(value) ? value : null;
  } catch {
    return null;
  }
}
