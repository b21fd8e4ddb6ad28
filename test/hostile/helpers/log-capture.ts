import { Writable } from 'node:stream';

/**
 * Collects every log line a service writes (pino JSON, one per line) so a test can check that
 * no secret, token or `dikecualikan` value it used reached the log (ARCHITECTURE: "No secret,
 * token or restricted field … is ever written to a log"; BKS 59(9)(c)).
 */
export class LogCapture {
  readonly lines: string[] = [];
  private partial = '';
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      const text = this.partial + chunk.toString();
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) if (line) this.lines.push(line);
      done();
    },
  });

  /** Fastify logger options writing here at `trace`, so every line a request can cause is seen. */
  get logger(): { stream: Writable; level: string } {
    return { stream: this.stream, level: 'trace' };
  }

  /** Lines that contain any of `values` (also JSON-escaped), with the value found. */
  leaks(values: Iterable<string>): Array<{ value: string; line: string }> {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    const found: Array<{ value: string; line: string }> = [];
    for (const value of values) {
      if (value.length < 6) continue;
      const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
      for (const line of all)
        for (const form of forms)
          if (line.includes(form)) {
            found.push({ value: value.slice(0, 12), line: line.slice(0, 300) });
            break;
          }
    }
    return found;
  }
}
