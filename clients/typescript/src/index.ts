// The skymesh client for TypeScript: the services generated from proto/ (./gen), called over
// gRPC-web through the Envoy gateway, the caller's token sent with every call, and helpers
// for the Kowalski- and SkyPortal-style JSON answers. Runs in browsers and in Node 20+.

import { type Client, type Interceptor, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { create } from "@bufbuild/protobuf";

import { ArchiveService } from "./gen/skymesh/archive/v1/archive_pb.js";
import { BrokerService } from "./gen/skymesh/broker/v1/broker_pb.js";
import { FiltersService } from "./gen/skymesh/filters/v1/filters_pb.js";
import { MLService } from "./gen/skymesh/ml/v1/ml_pb.js";
import {
  ListCandidatesRequestSchema,
  PortalService,
} from "./gen/skymesh/portal/v1/portal_pb.js";
import { parseExact, stringifyExact } from "./exact-json.js";

export { parseExact, stringifyExact } from "./exact-json.js";
export * as archive from "./gen/skymesh/archive/v1/archive_pb.js";
export * as filters from "./gen/skymesh/filters/v1/filters_pb.js";
export * as portal from "./gen/skymesh/portal/v1/portal_pb.js";
export * as ml from "./gen/skymesh/ml/v1/ml_pb.js";
export * as broker from "./gen/skymesh/broker/v1/broker_pb.js";

/** A MongoDB document as the mesh answers it; integers beyond 2^53 are bigint. */
export type Document = Record<string, unknown>;

/** An answer whose status is "error" (the call itself went through). */
export class ApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Options {
  /** An existing token (a JWT from login, or a SkyPortal API token). */
  token?: string;
  /** fetch to use (the global one by default). */
  fetch?: typeof globalThis.fetch;
}

/** A named sky position in degrees (ICRS). */
export interface Position {
  name: string;
  ra: number;
  dec: number;
}

/** A new version of a group's filter (a MongoDB aggregation pipeline). */
export interface FilterVersion {
  groupId: number;
  filterId: number;
  catalog: string;
  /** Programids the group's stream may read. */
  permissions: number[];
  /** The stages; sent as JSON text, so that the order of keys in a stage is kept. */
  pipeline: object[] | string;
}

export interface FilterTest {
  message: string;
  passed: Document[];
  errors: { alerts_evaluated: number; count: number };
}

export interface CandidatesPage {
  candidates: Document[];
  totalMatches: number;
  pageNumber: number;
  numPerPage: number;
  queryID: string;
}

interface Envelope {
  status: string;
  message?: string;
  data?: unknown;
  [key: string]: unknown;
}

const decoder = new TextDecoder();

function envelope(body: Uint8Array): Envelope {
  const answer = parseExact(decoder.decode(body)) as Envelope;
  if (answer.status !== "success") throw new ApiError(answer.message ?? "error");
  return answer;
}

/** One client of one gateway: a stub per service and helpers for the common calls. */
export class Skymesh {
  token: string;
  readonly archive: Client<typeof ArchiveService>;
  readonly filters: Client<typeof FiltersService>;
  readonly portal: Client<typeof PortalService>;
  readonly ml: Client<typeof MLService>;
  readonly broker: Client<typeof BrokerService>;

  /** baseUrl: the gateway, e.g. "http://127.0.0.1:8080". */
  constructor(baseUrl: string, options: Options = {}) {
    this.token = options.token ?? "";
    const authorize: Interceptor = (next) => (request) => {
      if (this.token) request.header.set("authorization", `Bearer ${this.token}`);
      return next(request);
    };
    const transport = createGrpcWebTransport({
      baseUrl,
      interceptors: [authorize],
      fetch: options.fetch,
    });
    this.archive = createClient(ArchiveService, transport);
    this.filters = createClient(FiltersService, transport);
    this.portal = createClient(PortalService, transport);
    this.ml = createClient(MLService, transport);
    this.broker = createClient(BrokerService, transport);
  }

  /** Exchanges a username and password for a JWT, sent with every later call. */
  async login(username: string, password: string): Promise<void> {
    const answer = await this.portal.auth({ username, password });
    if (!answer.token) throw new ApiError("login answered without a token");
    this.token = answer.token;
  }

  /** One query of Kowalski's API (find, find_one, count_documents, aggregate, cone_search,
   * near, info); answers its data. */
  async query<T = unknown>(queryType: string, query: object, kwargs?: object): Promise<T> {
    const answer = await this.archive.query({
      queryType,
      queryJson: stringifyExact(query),
      kwargsJson: kwargs ? stringifyExact(kwargs) : "",
    });
    if (answer.status !== "success") throw new ApiError(answer.message);
    return parseExact(answer.dataJson) as T;
  }

  async find(
    catalog: string,
    filter: object = {},
    projection?: object,
    limit?: number,
  ): Promise<Document[]> {
    const query = projection ? { catalog, filter, projection } : { catalog, filter };
    return this.query<Document[]>("find", query, limit ? { limit } : undefined);
  }

  async count(catalog: string, filter: object = {}): Promise<number> {
    return Number(await this.query("count_documents", { catalog, filter }));
  }

  /** Each catalog's documents within radiusArcsec of each position:
   * answer[catalog][position name], nearest first. */
  async coneSearch(
    positions: Position[],
    radiusArcsec: number,
    catalogs: string[],
    filter: object = {},
    projection?: object,
  ): Promise<Record<string, Record<string, Document[]>>> {
    const radec = Object.fromEntries(positions.map((p) => [p.name, [p.ra, p.dec]]));
    const spec = projection ? { filter, projection } : { filter };
    return this.query("cone_search", {
      object_coordinates: { cone_search_radius: radiusArcsec, cone_search_unit: "arcsec", radec },
      catalogs: Object.fromEntries(catalogs.map((c) => [c, spec])),
    });
  }

  /** Saves a new active version of a filter; answers its id (fid). */
  async createFilter(version: FilterVersion): Promise<string> {
    const pipeline =
      typeof version.pipeline === "string" ? version.pipeline : JSON.stringify(version.pipeline);
    const answer = await this.filters.createFilter({
      groupId: version.groupId,
      filterId: version.filterId,
      catalog: version.catalog,
      permissions: version.permissions,
      pipeline: { kind: { case: "stringValue", value: pipeline } },
    });
    if (answer.status !== "success") throw new ApiError(answer.message);
    const data = answer.data?.kind;
    const fid =
      data?.case === "structValue" ? data.value.fields.fid?.kind : undefined;
    if (fid?.case !== "stringValue") throw new ApiError("the new version has no fid");
    return fid.value;
  }

  /** Runs the filter's active version on archived alerts (of objectIds, if given); posts
   * nothing. */
  async testFilter(filterId: number, objectIds: string[] = []): Promise<FilterTest> {
    const body = await this.filters.testFilter({ filterId, objectIds });
    const answer = envelope(body.data);
    const errors = answer.errors as { alerts_evaluated: number; count: number };
    return { message: answer.message ?? "", passed: answer.data as Document[], errors };
  }

  /** A page of the objects the filters of groupIds passed (every group of the caller when
   * none are given). */
  async listCandidates(groupIds: number[] = [], page = 1, perPage = 25): Promise<CandidatesPage> {
    const request = create(ListCandidatesRequestSchema, {
      groupIDs: groupIds.join(","),
      pageNumber: String(page),
      numPerPage: String(perPage),
    });
    const body = await this.portal.listCandidates(request);
    return envelope(body.data).data as CandidatesPage;
  }
}
