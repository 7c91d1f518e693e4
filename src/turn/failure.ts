import { type ChatError, StoreError } from "../errors.js";
import type { Logger } from "../log.js";

/**
 * A turn that failed because the memory store did gets an error line of its
 * own, naming the backend's error (`SQLITE_BUSY`, `ECONNREFUSED`…) and what
 * the store was doing, so an operator is not sent looking at the model.
 */
export function logStoreFailure(log: Logger, conversationId: string, err: ChatError): void {
  if (!(err instanceof StoreError)) return;
  log.error(
    { err: err.cause, conversationId, backendCode: err.backendCode, operation: err.operation },
    `memory store failed (${err.backendCode}) during ${err.operation}`,
  );
}
