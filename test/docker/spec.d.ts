// Types for spec.js, which is plain ESM because the test project compiles only e2e/ and bench/*.ts.
/** Where the spec is read from: $DOCKER_API_SPEC, else the copy in test/docker/engine-api/. */
export declare function specPath(): string;

export interface SpecViolation {
  method: string;
  path: string;
  status: number;
  errors: string[];
}

export declare class EngineSpec {
  private readonly operations;
  private readonly ajv;
  private readonly validators;
  readonly version: string;
  private constructor();

  /** Loads the spec, or throws saying where to get it. */
  static load(): EngineSpec;

  /** The spec's path template for a request path (`/v1.41/containers/abc/json` → `/containers/{id}/json`). */
  operationOf(path: string): string | undefined;

  /** Problems with one GET response; empty when it matches the spec. `body` is parsed JSON (or text for /_ping). */
  validate(path: string, status: number, body: unknown): string[];
}
