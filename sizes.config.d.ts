// Types of sizes.config.js (plain JavaScript so that tooling can read it without a build).
export declare const MAX_FILE_LINES: number;
export declare const MAX_FUNCTION_LINES: number;
/** Keys: a file's path, or `path#function`; values: why it may be longer. */
export declare const sizeExceptions: Record<string, string>;
