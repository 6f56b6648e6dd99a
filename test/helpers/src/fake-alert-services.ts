// Stand-ins for what cannot run here: Slack's servers (a local HTTP server speaking the incoming-webhook
// contract) and a mail server (a real SMTP server, in-process).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A local Slack incoming webhook: `POST` JSON with `text` → `ok`; answers `status.code` instead when it is not 200. */
export async function slackWebhook(): Promise<{ url: string; messages: Array<{ text: string; blocks: unknown[]; raw: string }>; failures: () => number; status: { code: number }; close: () => Promise<void> }> {
  const messages: Array<{ text: string; blocks: unknown[]; raw: string }> = [];
  const status = { code: 200 };
  let failures = 0;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
    request.on('end', () => {
      if (request.method !== 'POST' || request.headers['content-type'] !== 'application/json') {
        response.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
        return;
      }
      if (status.code !== 200) {
        failures += 1;
        response.writeHead(status.code, { 'content-type': 'text/plain' }).end('internal_error');
        return;
      }
      const payload = JSON.parse(body) as { text?: string; blocks?: unknown[] };
      if (typeof payload.text !== 'string' || payload.text === '') {
        response.writeHead(400, { 'content-type': 'text/plain' }).end('no_text');
        return;
      }
      messages.push({ text: payload.text, blocks: payload.blocks ?? [], raw: body });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXXSECRETXXXX`,
    messages,
    failures: () => failures,
    status,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A real SMTP server in this process that keeps every mail it receives. */
export async function smtpServer(): Promise<{ url: string; mails: Array<{ to: string[]; raw: string }>; close: () => Promise<void> }> {
  const mails: Array<{ to: string[]; raw: string }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => { raw += chunk.toString('utf8'); });
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
