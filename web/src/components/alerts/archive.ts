// The alert archive's query API (POST /api/queries), read so that 64-bit candids stay exact,
// and the page's loads made of it.
import { api, ApiError, messageOf } from "../../api";
import {
  alertCatalogs,
  auxQuery,
  candidQuery,
  catalogNamesQuery,
  coneObjects,
  coneQuery,
  DEFAULT_CATALOGS,
  objectAlertsQuery,
  parseJsonExact,
  surveyOf,
  text,
  type ArchiveQuery,
  type ConeObject,
  type Doc,
  type Json,
} from "../../lib/alerts";
import type { Position } from "../../lib/search";

/** The `data` of Kowalski's answer to one query; an ApiError with its message otherwise. */
export async function queryArchive(request: ArchiveQuery): Promise<Json> {
  const { data, error, response } = await api.POST("/api/queries", {
    // The generator types the protobuf Structs `query` and `kwargs` as empty objects; the body
    // is Kowalski's free-form JSON, so the serializer writes the whole request.
    body: { query_type: request.query_type },
    bodySerializer: () => JSON.stringify(request),
    // As text: JSON.parse would round the candids (19 digits) to the nearest double.
    parseAs: "text",
  });
  if (error !== undefined || !response.ok) {
    const message = (error as { message?: string } | undefined)?.message;
    throw new ApiError(message ?? `${response.status} ${response.statusText}`, response.status);
  }
  const reply = parseJsonExact(data);
  if (typeof reply !== "object" || reply === null || Array.isArray(reply)) {
    throw new ApiError("The archive's answer is not a JSON object.", response.status);
  }
  if (reply.status !== "success") {
    throw new ApiError(String(reply.message ?? "The archive refused the query."), response.status);
  }
  return reply.data ?? null;
}

export type ObjectResult = {
  kind: "object";
  catalog: string;
  objectId: string;
  alerts: Doc[];
  /** The aux document (history, cross-matches); null when the archive has none. */
  aux: Doc | null;
  /** Why the history could not be read (e.g. streams that restrict the caller), if so. */
  auxError?: string;
  /** The candid searched for, to point out among the alerts. */
  candid?: string;
};
export type ConeResult = {
  kind: "cone";
  catalog: string;
  centre: Position;
  radius: number;
  objects: ConeObject[];
  /** How many alerts the cone held (at most MAX_CONE_ALERTS are read). */
  alerts: number;
};
export type MissingResult = { kind: "missing"; catalog: string; what: string };
export type AlertsResult = ObjectResult | ConeResult | MissingResult;

const asDocs = (value: Json): Doc[] =>
  Array.isArray(value)
    ? value.filter(
        (item): item is Doc => typeof item === "object" && item !== null && !Array.isArray(item),
      )
    : [];

/** An object's alerts and, beside them, its aux document (which a restricted caller may not read). */
export async function loadObject(
  catalog: string,
  objectId: string,
  candid?: string,
): Promise<AlertsResult> {
  const [alerts, aux] = await Promise.all([
    queryArchive(objectAlertsQuery(catalog, objectId)),
    queryArchive(auxQuery(catalog, objectId)).then(
      (value) => ({ value }),
      (error: unknown) => ({ error: messageOf(error) }),
    ),
  ]);
  const docs = asDocs(alerts);
  if (docs.length === 0) return { kind: "missing", catalog, what: `object ${objectId}` };
  const auxDoc =
    "value" in aux && aux.value && typeof aux.value === "object" && !Array.isArray(aux.value)
      ? aux.value
      : null;
  return {
    kind: "object",
    catalog,
    objectId,
    alerts: docs,
    aux: auxDoc,
    auxError: "error" in aux ? aux.error : undefined,
    candid,
  };
}

/** The object of an alert, by candid; or, as Rubin's object ids are digits too, the object
 * of that id when no alert has it. */
export async function loadCandid(catalog: string, candid: string): Promise<AlertsResult> {
  const [alert] = asDocs(await queryArchive(candidQuery(catalog, candid)));
  const objectId = alert ? text(alert, surveyOf(catalog).idField) : undefined;
  if (objectId) return loadObject(catalog, objectId, candid);
  const object = await loadObject(catalog, candid);
  return object.kind === "object"
    ? object
    : { kind: "missing", catalog, what: `alert or object ${candid}` };
}

export async function loadCone(
  catalog: string,
  centre: Position,
  radius: number,
): Promise<AlertsResult> {
  const data = await queryArchive(coneQuery(catalog, centre, radius));
  const objects = coneObjects(data, catalog, centre);
  return {
    kind: "cone",
    catalog,
    centre,
    radius,
    objects,
    alerts: objects.reduce((sum, o) => sum + o.alerts, 0),
  };
}

/** The archive's alert collections; the two bundled surveys when it cannot say. */
export async function loadCatalogs(): Promise<string[]> {
  const names = alertCatalogs(await queryArchive(catalogNamesQuery()));
  return names.length ? names : DEFAULT_CATALOGS;
}
