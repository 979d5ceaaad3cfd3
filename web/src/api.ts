// The mesh's REST API, typed from gateway/openapi.json (generated from proto/ by `make openapi`).
import createClient from "openapi-fetch";
import type { components, paths } from "../generated/api";

export type Schemas = components["schemas"];
export type Candidate = Schemas["skymesh.portal.v1.CandidateEntryJson"];
export type CandidatesPage = Schemas["skymesh.portal.v1.CandidatesPageJson"];
export type ObjDetail = Schemas["skymesh.portal.v1.ObjDetailJson"];
export type SourceEntry = Schemas["skymesh.portal.v1.SourceEntryJson"];
export type Thumbnail = Schemas["skymesh.portal.v1.ThumbnailJson"];
export type Annotation = Schemas["skymesh.portal.v1.AnnotationJson"];
export type Photometry = Schemas["skymesh.portal.v1.PhotometryJson"];
export type Comment = Schemas["skymesh.portal.v1.CommentJson"];
export type Classification = Schemas["skymesh.portal.v1.ClassificationJson"];
export type Group = Schemas["skymesh.portal.v1.GroupJson"];
export type SavedGroup = Schemas["skymesh.portal.v1.SavedGroupJson"];
export type Profile = Schemas["skymesh.portal.v1.ProfileJson"];
export type Token = Schemas["skymesh.portal.v1.TokenJson"];
export type Spectrum = Schemas["skymesh.portal.v1.SpectrumJson"];
export type Instrument = Schemas["skymesh.portal.v1.InstrumentJson"];
export type Taxonomy = Schemas["skymesh.portal.v1.TaxonomyJson"];
export type Allocation = Schemas["skymesh.portal.v1.AllocationJson"];
export type FollowupRequest = Schemas["skymesh.portal.v1.FollowupRequestJson"];
export type PassingAlert = Schemas["skymesh.portal.v1.PassingAlertJson"];
export type Listing = Schemas["skymesh.portal.v1.ListingJson"];
export type Groups = Schemas["skymesh.portal.v1.GroupsJson"];
export type GroupDetail = Schemas["skymesh.portal.v1.GroupDetailJson"];
export type GroupMember = Schemas["skymesh.portal.v1.GroupMemberJson"];
export type Stream = Schemas["skymesh.portal.v1.StreamJson"];
export type PortalFilter = Schemas["skymesh.portal.v1.FilterJson"];
export type AdmissionRequestEntry = Schemas["skymesh.portal.v1.AdmissionRequestJson"];

const TOKEN_KEY = "skymesh.token";

/** The caller's token lives for the browser session (tab) only. */
export const session = {
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An error answer of the API, in the gateway's envelope ({status: "error", message}). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const listeners = new Set<() => void>();
/** Called when the API says the token is no longer valid (expired, revoked). */
export function onUnauthorized(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use({
  onRequest({ request }) {
    const token = session.token();
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && session.token()) {
      session.clear();
      listeners.forEach((listener) => listener());
    }
    return response;
  },
});

type Envelope = { status?: string; message?: string; data?: unknown };

/** The `data` of a successful answer; an ApiError with the server's message otherwise. */
export async function unwrap<T extends Envelope>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T["data"]>> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) {
    const message =
      (error as Envelope | undefined)?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status);
  }
  return (data as T).data as NonNullable<T["data"]>;
}

/** Fetches a protected binary resource (thumbnail, attachment) as an object URL. */
export async function blobUrl(path: string): Promise<string> {
  const response = await fetch(path, {
    headers: { Authorization: `Bearer ${session.token() ?? ""}` },
  });
  if (!response.ok) {
    throw new ApiError(`${response.status} ${response.statusText}`, response.status);
  }
  return URL.createObjectURL(await response.blob());
}

export { asError, messageOf } from "./lib/errors";

/** Every group id list the API takes is comma-joined. */
export const joinIds = (ids: Iterable<number>): string => [...ids].join(",");
