/** For the examples: a loopback HTTP receiver that hands each request's raw body to `verify`. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NodeReceiver {
  url: string;
  /** One entry per request: whether `verify` accepted it, and the parsed body. */
  received: Array<{ verified: boolean; body: unknown }>;
  stop(): Promise<void>;
}

export async function startNodeReceiver(
  verify: (headers: IncomingHttpHeaders, rawBody: string) => boolean,
): Promise<NodeReceiver> {
  const received: NodeReceiver['received'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const verified = verify(req.headers, raw);
      received.push({ verified, body: JSON.parse(raw) });
      res.statusCode = verified ? 200 : 401;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    received,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
