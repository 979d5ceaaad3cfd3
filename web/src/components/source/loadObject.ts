// The object behind /source/:objId: a saved source's reply, or a candidate's where it is not one.
import { api, ApiError, unwrap, type ObjDetail } from "../../api";

export type LoadedObject = {
  obj: ObjDetail;
  /** Which route answered: a candidate not saved yet comes from /api/candidates. */
  via: "sources" | "candidates";
  /** The id asked for (while another object's reply is still shown, they differ). */
  asked: string;
};

const INCLUDE = {
  includePhotometry: "true",
  includeComments: "true",
  includeThumbnails: "true",
  includeRequested: "true",
} as const;

export async function loadObject(objId: string): Promise<LoadedObject> {
  try {
    const obj = await unwrap(
      api.GET("/api/sources/{obj_id}", { params: { path: { obj_id: objId }, query: INCLUDE } }),
    );
    return { obj, via: "sources", asked: objId };
  } catch (failure) {
    // 404 (unknown source) or 400: a scanner may still open a candidate that is not saved.
    if (!(failure instanceof ApiError) || (failure.status !== 404 && failure.status !== 400))
      throw failure;
    try {
      const obj = await unwrap(
        api.GET("/api/candidates/{obj_id}", {
          params: { path: { obj_id: objId }, query: { ...INCLUDE, includeAlerts: "true" } },
        }),
      );
      return { obj, via: "candidates", asked: objId };
    } catch {
      throw failure; // the source's own message says what is wrong
    }
  }
}
