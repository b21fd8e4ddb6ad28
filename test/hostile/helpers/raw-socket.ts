import { connect } from 'node:net';

export interface Exchange {
  /** The bytes the server answered, as text. */
  answer: string;
  /** The status of the first answer, or 0 if none came. */
  status: number;
  /** Whether the server closed the connection before `waitMs` ran out. */
  closedByServer: boolean;
  elapsedMs: number;
}

/**
 * Writes `chunks` to a fresh TCP connection (`gapMs` apart) and reads until the server
 * closes it or `waitMs` passes: the wire as an attacker sees it, with no client library
 * tidying the request up.
 */
export function exchange(
  port: number,
  chunks: Array<string | Buffer>,
  options: { gapMs?: number; waitMs?: number } = {},
) {
  const started = performance.now();
  return new Promise<Exchange>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let closedByServer = false;
    let timer: NodeJS.Timeout;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const answer = Buffer.concat(received).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
      resolve({ answer, status, closedByServer, elapsedMs: performance.now() - started });
    };
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      closedByServer = true;
      finish();
    });
    timer = setTimeout(finish, options.waitMs ?? 2_000);
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (options.gapMs) await new Promise((ok) => setTimeout(ok, options.gapMs));
      }
    });
  });
}

/** A request head: the lines joined by CRLF, ended by an empty line. */
export function head(lines: string[]): string {
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Refused as the contract says: a 4xx, or the connection closed without an answer. */
export function isRefused(res: Exchange): boolean {
  return res.status === 0 ? res.closedByServer : res.status >= 400 && res.status < 500;
}
