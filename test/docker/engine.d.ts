// Types for engine.js, which is plain ESM because the test project compiles only e2e/ and bench/*.ts.
/** The start/stop script beside this module. */
export declare const ENGINE_SCRIPT: string;

export interface Engine {
  /** unix:///…/docker.sock */
  host: string;
  socketPath: string;
  image: string;

  /** Runs the docker CLI against this engine; rejects with its stderr on failure. */
  docker(...args: string[]): Promise<string>;

  /** SIGKILLs dockerd (containers keep running) / starts it again on the same state. */
  kill(): Promise<void>;
  revive(): Promise<void>;
  stop(): Promise<void>;
}

export declare function startEngine(): Promise<Engine>;
