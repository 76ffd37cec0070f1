import type { TestContext } from 'node:test';
import { imageHarness, type ImageHarness } from '../testing/harness.js';

/** A fresh image API for one test, closed when the test ends. */
export async function metadefHarness(t: TestContext): Promise<ImageHarness> {
  const h = await imageHarness();
  t.after(() => h.close());
  return h;
}

export const NS = '/v2/metadefs/namespaces';

/** Creates a namespace as `token` (an admin by default); returns its document. */
export async function createNamespace(
  h: ImageHarness,
  namespace: string,
  fields: Record<string, unknown> = {},
  token = 'admin@p1',
): Promise<Record<string, unknown>> {
  const res = await h.call(token, 'POST', NS, { ...fields, namespace });
  if (res.status !== 201)
    throw new Error(`namespace create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Record<string, unknown>;
}
