// Downloads: a protected API file (fetched with the token) or text made here, saved as a file.
import { blobUrl } from "../../api";

function save(url: string, filename: string): void {
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
  // The browser reads the object URL when the click is handled; free it a little later.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** Fetches `path` with the caller's token and saves it as `filename`. */
export async function downloadFromApi(path: string, filename: string): Promise<void> {
  save(await blobUrl(path), filename);
}

export function downloadText(text: string, filename: string, type: string): void {
  save(URL.createObjectURL(new Blob([text], { type })), filename);
}
