// What a TypeScript integration writes against the types openapi-typescript generates from
// /api/schema/ (docs/clients.md). tests/clients/test_generated_clients.py generates them into
// ./darkroom.d.ts beside a copy of this file and runs `tsc --strict --noEmit`: a change of the
// schema that breaks this code, or lets through a body the server refuses (the
// lines marked ts-expect-error), fails the test.
import type { components, operations } from "./darkroom";

type Schemas = components["schemas"];
type CreateJob = operations["jobs_create"];
export type JobBody = NonNullable<CreateJob["requestBody"]>["content"]["application/json"];
export type BulkBody = NonNullable<operations["jobs_bulk_create"]["requestBody"]>["content"]["application/json"];
export type Job = CreateJob["responses"][202]["content"]["application/json"];
export type Problem = CreateJob["responses"][400]["content"]["application/problem+json"];
type Page = operations["jobs_list"]["responses"][200]["content"]["application/json"];
type Webhook = Schemas["WebhookCreatedOutput"];

export const byUrl: JobBody = {
  kind: "transform",
  image_url: "https://images.example.com/dress.jpg",
  params: { width: 800, format: "webp" },
};

export const pipeline: JobBody = {
  kind: "pipeline",
  record: 42,
  params: { steps: [{ kind: "remove_bg" }, { kind: "transform", params: { trim: true, width: 512 } }] },
};

export const bulk: BulkBody = {
  kind: "remove_bg",
  image_urls: ["https://images.example.com/1.jpg", "https://images.example.com/2.jpg"],
  priority: "high",
};

// @ts-expect-error a pipeline's params must give its steps
export const noSteps: JobBody = { kind: "pipeline", image_url: "https://images.example.com/a.jpg" };

// @ts-expect-error there is no such kind
export const unknownKind: JobBody = { kind: "sharpen", image_url: "https://images.example.com/a.jpg" };

// @ts-expect-error a step is one of the kinds a pipeline runs, not a pipeline
export const nested: JobBody = { kind: "pipeline", record: 1, params: { steps: [{ kind: "pipeline" }] } };

/** `kind` tells the bodies apart: each branch sees its own kind's params. */
export function describe(body: JobBody): string {
  switch (body.kind) {
    case "pipeline":
      return body.params.steps.map((step) => step.kind).join(" → ");
    case "transform":
      return `transform ${JSON.stringify(body.params ?? {})}`;
    default:
      return body.kind;
  }
}

const BASE = "https://darkroom.example.com";

function headers(apiKey: string, more: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Token ${apiKey}`, Accept: "application/json, application/problem+json", ...more };
}

export class DarkroomProblem extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.code}${problem.field ? ` (${problem.field})` : ""}: ${problem.detail}`);
  }
}

async function answer<T>(response: Response): Promise<T> {
  if (response.headers.get("content-type")?.startsWith("application/problem+json")) {
    throw new DarkroomProblem((await response.json()) as Problem);
  }
  return (await response.json()) as T;
}

/** One job; the same idempotency key again answers the same job instead of a second one. */
export async function createJob(apiKey: string, body: JobBody, idempotencyKey: string): Promise<Job> {
  const key: NonNullable<CreateJob["parameters"]["header"]>["Idempotency-Key"] = idempotencyKey;
  const response = await fetch(`${BASE}/api/v1/jobs/`, {
    method: "POST",
    headers: headers(apiKey, { "Content-Type": "application/json", "Idempotency-Key": key ?? "" }),
    body: JSON.stringify(body),
  });
  return answer<Job>(response);
}

/** Every job of a batch, a page at a time: follow `next` until it is null. */
export async function* jobsOf(apiKey: string, batch: string): AsyncGenerator<Job> {
  let url: string | null | undefined = `${BASE}/api/v1/jobs/?batch=${batch}&page_size=100`;
  while (url) {
    const page: Page = await answer<Page>(await fetch(url, { headers: headers(apiKey) }));
    yield* page.results;
    url = page.next;
  }
}

export async function untilFinished(apiKey: string, id: string): Promise<Job> {
  for (;;) {
    const job = await answer<Job>(await fetch(`${BASE}/api/v1/jobs/${id}/`, { headers: headers(apiKey) }));
    if (job.state === "succeeded" || job.state === "failed" || job.state === "cancelled") {
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export function resultUrl(job: Job): string | null {
  return job.result?.url ?? null;
}

export async function createWebhook(apiKey: string, url: string): Promise<Webhook["secret"]> {
  const body: Schemas["WebhookCreateInputRequest"] = { url, events: ["job.succeeded", "job.failed"] };
  const response = await fetch(`${BASE}/api/v1/webhooks/`, {
    method: "POST",
    headers: headers(apiKey, { "Content-Type": "application/json" }),
    body: JSON.stringify(body),
  });
  return (await answer<Webhook>(response)).secret; // shown this once: keep it for verification
}
