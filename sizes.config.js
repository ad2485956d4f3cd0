// The size rules of the floor plan (docs/architecture.md, "Sizes"): no source file over
// MAX_FILE_LINES lines and no function over MAX_FUNCTION_LINES, apart from the exceptions named
// here, each with its reason. Checked by test/unit/architecture/sizes.test.ts, which also fails
// on an exception no longer needed. Keys: a file's path, or `path#function`.
export const MAX_FILE_LINES = 300;
export const MAX_FUNCTION_LINES = 80;

/** @type {Record<string, string>} */
export const sizeExceptions = {};
