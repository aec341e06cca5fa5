import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobStatus } from '#shared/contracts/jobs';

/**
 * Prometheus metrics of one core, exposed at `/metrics`. A registry per core (not prom-client's global one)
 * so that several cores in one test process do not collide.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly jobDuration: Histogram<'type' | 'outcome'>;
  /**
   * The HTTP histogram's series by "method route status": bound once, as prom-client hashes a label object on
   * every observe. Bounded by the routes (patterns, not URLs) and statuses the server answers.
   */
  private readonly httpSeries = new Map<string, { observe(value: number): void }>();

  constructor() {
    // The event-loop lag histogram samples on a libuv timer: prom-client's default 10 ms woke an idle app 100 times a
    // second (a desktop app's battery); 100 ms still shows every stall that matters to a user.
    collectDefaultMetrics({ register: this.registry, prefix: 'aidos_', eventLoopMonitoringPrecision: 100 });
    this.httpDuration = new Histogram({
      name: 'aidos_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.jobDuration = new Histogram({
      name: 'aidos_job_duration_seconds',
      help: 'Job run time by type and outcome',
      labelNames: ['type', 'outcome'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
      registers: [this.registry],
    });
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let series = this.httpSeries.get(key);
    if (!series) {
      series = this.httpDuration.labels(method, route, String(status));
      this.httpSeries.set(key, series);
    }
    series.observe(seconds);
  }

  observeJob(type: string, outcome: string, seconds: number): void {
    this.jobDuration.observe({ type, outcome }, seconds);
  }

  /** The queue reports its depth when scraped, so the gauge is never stale. */
  registerQueueDepth(read: () => Record<JobStatus, number>): void {
    new Gauge({
      name: 'aidos_queue_jobs',
      help: 'Jobs in the queue by status',
      labelNames: ['status'],
      registers: [this.registry],
      collect() {
        for (const [status, n] of Object.entries(read())) this.set({ status }, n);
      },
    });
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
