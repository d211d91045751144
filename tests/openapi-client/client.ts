// A client of the billflow gateway typed by the node's own OpenAPI document:
// `generated/schema.d.ts` is written by openapi-typescript from
// GET /v1/openapi.json (tests/schemathesis/run.sh), then tsc compiles this
// file against it. A route, parameter or field that the document declares
// wrongly (a query parameter as a path one, a missing field) fails here.

import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type BlockView = components["schemas"]["BlockView"];
type ErrorBody = components["schemas"]["ErrorBody"];

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:8080" });

function failed(error: ErrorBody): Error {
  return new Error(`${error.code}: ${error.message} (request ${error.request_id})`);
}

export async function tip(): Promise<number> {
  const { data, error } = await client.GET("/v1/health");
  if (error) throw failed(error);
  return data.height;
}

export async function block(height: number): Promise<BlockView> {
  const { data, error } = await client.GET("/v1/blocks/{height}", { params: { path: { height } } });
  if (error) throw failed(error);
  return data;
}

export async function recent(limit: number) {
  const { data, error } = await client.GET("/v1/explorer/recent-txs", { params: { query: { limit } } });
  if (error) throw failed(error);
  return data.txs.map((t) => t.tx_id);
}

export async function search(q: string) {
  const { data, error } = await client.GET("/v1/explorer/search", { params: { query: { q } } });
  if (error) throw failed(error);
  return data;
}
