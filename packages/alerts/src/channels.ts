import { IncomingWebhook, type IncomingWebhookSendArguments } from '@slack/webhook';
import nodemailer from 'nodemailer';
import type { Logger } from '@nightshift/core';
import type { Alert } from './alert.ts';
import { alertText, alertTitle, slackMessage } from './render.ts';

/** Where alerts go. `send` resolves once the channel took the alert and rejects when it did not. */
export interface AlertChannel {
  /** `slack`, `email`, `log`: the outbox entries and metrics of this channel carry it. */
  readonly name: string;
  /** `id` is the outbox entry's, stable across retries (email uses it as Message-ID). */
  send(alert: Alert, delivery: { readonly id: string }): Promise<void>;
  close?(): Promise<void>;
}

export interface SlackChannelOptions {
  /** The incoming-webhook URL (`NIGHTSHIFT_SLACK_WEBHOOK_URL`). It is a secret: keep it out of logs. */
  readonly webhookUrl: string;
  /** How long one post may take. Default: `10000` ms. */
  readonly timeoutMs?: number;
}

/** Posts to a Slack incoming webhook. Retries are the outbox's: the client itself does not retry. */
export function slackChannel(options: SlackChannelOptions): AlertChannel {
  const webhook = new IncomingWebhook(options.webhookUrl, { timeout: options.timeoutMs ?? 10_000 });
  return {
    name: 'slack',
    async send(alert) {
      try {
        const { text, blocks } = slackMessage(alert);
        await webhook.send({ text, blocks: blocks as unknown as IncomingWebhookSendArguments['blocks'] });
      } catch (error) {
        // The client's errors may carry the request; keep only what says why.
        const status = (error as { statusCode?: number }).statusCode;
        const body = (error as { body?: string }).body;
        throw new Error(status !== undefined ? `Slack answered HTTP ${status}${body ? ` ${body.slice(0, 200)}` : ''}` : `Slack is not reachable (${(error as Error).message})`, { cause: error });
      }
    },
  };
}

export interface EmailChannelOptions {
  /** `smtp://user:pass@host:587` or `smtps://…` (`NIGHTSHIFT_SMTP_URL`). */
  readonly smtpUrl: string;
  /** `NIGHTSHIFT_ALERT_EMAIL_FROM`. */
  readonly from: string;
  /** `NIGHTSHIFT_ALERT_EMAIL_TO`: one or more addresses. */
  readonly to: readonly string[];
  /** How long connecting and each SMTP step may take. Default: `10000` ms. */
  readonly timeoutMs?: number;
}

/** Sends plain-text email over SMTP. The Message-ID comes from the outbox entry, so a resend is recognizably the same mail. */
export function emailChannel(options: EmailChannelOptions): AlertChannel {
  const timeout = options.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    url: options.smtpUrl, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout, disableFileAccess: true, disableUrlAccess: true,
  });
  const domain = options.from.split('@')[1]?.replace(/>.*$/, '') || 'nightshift.local';
  return {
    name: 'email',
    async send(alert, delivery) {
      await transport.sendMail({
        from: options.from,
        to: [...options.to],
        subject: `[nightshift] ${alertTitle(alert)}`,
        text: alertText(alert),
        messageId: `<alert-${delivery.id}@${domain}>`,
      });
    },
    async close() {
      transport.close();
    },
  };
}

/** Writes each alert as one log line (error for a page or a schedule's trouble, warn for a summary or a recovery). Always on, so no page goes nowhere. */
export function logChannel(logger: Logger): AlertChannel {
  return {
    name: 'log',
    async send(alert) {
      const line = { component: 'alerts', alert: { ...alert, text: alertText(alert) } };
      const good = alert.kind === 'schedule' && (alert.event === 'recovered' || (alert.event === 'steady' && alert.status === 'healthy'));
      if (alert.kind === 'page' || (alert.kind === 'schedule' && !good)) logger.error(line, alertTitle(alert));
      else logger.warn(line, alertTitle(alert));
    },
  };
}
