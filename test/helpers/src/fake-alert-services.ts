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

/** A mail as the SMTP server received it: `raw` as sent, `text` its body as a reader sees it (transfer encoding undone). */
export interface ReceivedMail {
  readonly to: string[];
  readonly raw: string;
  readonly text: string;
}

/** A real SMTP server in this process that keeps every mail it receives. */
export async function smtpServer(): Promise<{ url: string; mails: ReceivedMail[]; close: () => Promise<void> }> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => { raw += chunk.toString('utf8'); });
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, text: bodyText(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// Mailers wrap long lines and escape `=` and non-ASCII (quoted-printable) or encode the body (base64): a link in
// an email is only found whole once that is undone.
function bodyText(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split === -1 ? '' : raw.slice(0, split);
  const body = split === -1 ? raw : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const encoding = /^content-transfer-encoding:\s*(\S+)/im.exec(head)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8');
  if (encoding !== 'quoted-printable') return body;
  const escaped = body.replaceAll('%', '%25').replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, '%$1');
  try {
    return decodeURIComponent(escaped);
  } catch {
    return body; // not UTF-8 after all: the raw body is the best we have
  }
}
