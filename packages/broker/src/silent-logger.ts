import type { Logger } from '@nightshift/core';

const ignore = (): void => {};

/** A logger that drops everything, for callers that pass none. */
export const silentLogger: Logger = Object.freeze({ debug: ignore, info: ignore, warn: ignore, error: ignore });
