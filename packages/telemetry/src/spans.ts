import { context, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';

/**
 * Runs `work` with `span` active, as a child of `parent`, and ends the span after it. `work` is given the
 * context holding the span, to carry it on (into message headers, an outbox row). A failure is recorded on the
 * span (exception and ERROR status) and thrown on unchanged.
 */
export async function runInSpan<T>(span: Span, parent: Context, work: (inSpan: Context) => Promise<T>): Promise<T> {
  const inSpan = trace.setSpan(parent, span);
  try {
    return await context.with(inSpan, () => work(inSpan));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}
