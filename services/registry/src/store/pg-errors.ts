/** PostgreSQL error codes (Appendix A) the registry maps to domain errors; pg and PGlite both set `code`. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23505';
}

export function isForeignKeyViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23503';
}
