import { SpanStatusCode, type Span } from '@opentelemetry/api';

/**
 * Runs `work` and ends `span` after it. A failure is recorded on the span (exception and ERROR status)
 * and thrown on unchanged.
 */
export async function endSpanAfter<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}
