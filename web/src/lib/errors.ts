// Turning whatever a failed promise rejected with into what a page shows.

/** An unknown failure as a message, for the error next to a control. */
export const messageOf = (failure: unknown): string =>
  failure instanceof Error ? failure.message : String(failure);

/** An unknown failure as an Error, for a page's error state. */
export const asError = (failure: unknown): Error =>
  failure instanceof Error ? failure : new Error(String(failure));
