/**
 * OpenTelemetry traces across the queue: BullMQ's own telemetry (bullmq-otel)
 * makes a span for each step job queued and one for each processed, the
 * latter linked to the former through the job, so a trace follows a job
 * from one worker process to the next. Off unless configured; when on, the
 * SDK (loaded only then: it is heavy) exports with the standard OTEL_*
 * variables (endpoint, protocol, headers), which it reads itself.
 *
 * The SDK is global to the process, so it is started once and shut down
 * (flushing what is buffered) when the last app using it closes.
 */
import type { Telemetry } from 'bullmq';
import type { ObservabilityConfig } from '../config.ts';

export type Tracing = {
  /** Given to every BullMQ Queue and Worker; undefined when tracing is off. */
  telemetry: Telemetry | undefined;
  /** Exports what is still buffered and, for the process's last user, stops the SDK. */
  close(): Promise<void>;
};

type Sdk = { shutdown(): Promise<void> };

let shared: { sdk: Promise<Sdk>; users: number } | undefined;

export async function startTracing(config: ObservabilityConfig['tracing']): Promise<Tracing> {
  if (!config) return { telemetry: undefined, close: async () => undefined };
  shared ??= { sdk: startSdk(config.serviceName), users: 0 };
  const current = shared;
  current.users += 1;
  await current.sdk;
  const { BullMQOtel } = await import('bullmq-otel');
  let closed = false;
  return {
    telemetry: new BullMQOtel({ tracerName: config.serviceName }),
    async close() {
      if (closed) return;
      closed = true;
      current.users -= 1;
      if (current.users > 0) return;
      if (shared === current) shared = undefined;
      await (await current.sdk).shutdown();
      const api = await import('@opentelemetry/api');
      // Unregistered, so a later start in this process registers its own providers.
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    },
  };
}

async function startSdk(serviceName: string): Promise<Sdk> {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName,
    // Traces only: metrics are Prometheus's (/metrics) and logs are pino's.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return sdk;
}
