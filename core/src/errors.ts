// Error type with stable codes (WHARF_ERR_*) so callers, logs and the API can tell failures apart.

export type WharfErrorCode =
  | 'WHARF_ERR_STATIC_CONFIG'
  | 'WHARF_ERR_DYNAMIC_CONFIG'
  | 'WHARF_ERR_RULE_SYNTAX'
  | 'WHARF_ERR_PLUGIN'
  | 'WHARF_ERR_PLUGIN_LOAD'
  | 'WHARF_ERR_PROVIDER'
  | 'WHARF_ERR_DECODE'
  | 'WHARF_ERR_LISTEN';

export class WharfError extends Error {
  readonly code: WharfErrorCode;
  constructor(code: WharfErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WharfError';
    this.code = code;
  }
}

/** Message of any thrown value, for logs and error lists. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
