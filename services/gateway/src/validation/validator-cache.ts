import { type CompileOptions, compileRequestValidator, type RequestValidator } from './request-validator.js';

/**
 * Compiled validators by OpenAPI content hash (`route.openapiHash`, the key of
 * `snapshot.openapi`), so a new snapshot compiles only the documents it did not have before
 * (issue 3, point 2: changing 1 of 10,000 versions must swap in well under a second).
 */
export interface ValidatorCache {
  /**
   * The validators for one snapshot's `openapi` map: reused when the hash was compiled before,
   * compiled otherwise. Hashes the snapshot no longer has are forgotten. The returned map is
   * new; the one handed out for the previous snapshot stays valid for requests still in flight.
   */
  compileSnapshot(openapi: Readonly<Record<string, object>>): ReadonlyMap<string, RequestValidator>;
  readonly size: number;
}

export function createValidatorCache(options: CompileOptions = {}): ValidatorCache {
  let compiled = new Map<string, RequestValidator>();
  return {
    compileSnapshot(openapi) {
      const next = new Map<string, RequestValidator>();
      for (const [hash, document] of Object.entries(openapi))
        next.set(hash, compiled.get(hash) ?? compileRequestValidator(document, options));
      compiled = next;
      return next;
    },
    get size() {
      return compiled.size;
    },
  };
}
