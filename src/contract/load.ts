import { z } from 'zod';

// Live load figures of an instance and of a service (GET /v1/services…, list_services, get_service_*),
// and a service's time series (GET /v1/services/:name/series). Kept in the proxy's memory only.

const count = z.number().int().min(0);

/** The last failed call (outcome error or timeout) of an instance or service. */
export const LastErrorSchema = z.object({
  /** When the call ended (ms since epoch, the proxy's clock). */
  at: z.number(),
  message: z.string(),
  /** Its MeshErrorCode (CALL_TIMEOUT, SERVICE_UNAVAILABLE…). */
  code: z.string().optional(),
});
export type LastError = z.infer<typeof LastErrorSchema>;

/**
 * What an instance or service is carrying now: calls in flight, calls in the last 1 and 5 minutes
 * (10-second buckets: the current one and the 5 or 29 before it), p50/p95 latency and error rate
 * over the last 5 minutes (null latency when no call), restarts of its child. A client's own
 * mistakes (unknown tool, bad arguments, cancelled) are not load and are not counted.
 */
export const LoadSchema = z.object({
  inFlight: count,
  calls1m: count,
  calls5m: count,
  p50Ms: z.number().nullable(),
  p95Ms: z.number().nullable(),
  /** Calls that ended as error or timeout over calls, last 5 minutes, 0..1 (a tool's own isError result is an answer, not an error). */
  errorRate: z.number().min(0).max(1),
  /** Child restarts as its sidecar last said (a service sums its instances'). */
  restarts: count,
  lastError: LastErrorSchema.optional(),
});
export type Load = z.infer<typeof LoadSchema>;

/** One 10-second bucket of a service's series. */
export const SeriesPointSchema = z.object({
  /** Start of the bucket (ms since epoch). */
  at: z.number(),
  calls: count,
  errors: count,
  p50Ms: z.number().nullable(),
  p95Ms: z.number().nullable(),
});
export type SeriesPoint = z.infer<typeof SeriesPointSchema>;

/** GET /v1/services/:name/series' answer: oldest bucket first, empty buckets as zeros. */
export const SeriesAnswerSchema = z.object({
  service: z.string(),
  bucketMs: z.number().int().positive(),
  points: z.array(SeriesPointSchema),
});
export type SeriesAnswer = z.infer<typeof SeriesAnswerSchema>;

/** GET /v1/services/:name/series' query: how many minutes back (1..15, default 15). */
export const SeriesQuerySchema = z.object({
  minutes: z.coerce.number().int().min(1).max(15).default(15),
});
export type SeriesQuery = z.infer<typeof SeriesQuerySchema>;
