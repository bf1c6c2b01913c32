// Where the Engine API is and how to reach it: --providers.docker.endpoint, else DOCKER_HOST, else the
// default unix socket; tcp:// with optional TLS files. Bad settings fail at start-up, naming the flag.
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import type Dockerode from 'dockerode';
import { WharfError, messageOf } from '@wharf/core';
import { DEFAULT_ENDPOINT, type DockerOptions } from './options.js';

/** dockerode's options plus `agent`, which docker-modem passes to http(s).request but the types omit. */
export type DockerodeOptions = Dockerode.DockerOptions & { agent?: HttpsAgent };

export interface EngineEndpoint {
  /** For logs: the endpoint as configured (`unix:///var/run/docker.sock`). */
  display: string;
  /** Connection options for dockerode (without `version` and `timeout`, set per client). */
  connection: DockerodeOptions;
}

/** Resolves the endpoint; `flag` is the option prefix used in errors (`--providers.docker`). */
export function resolveEndpoint(options: DockerOptions, flag: string, env: NodeJS.ProcessEnv = process.env): EngineEndpoint {
  const fromEnv = !options.endpoint && env.DOCKER_HOST ? env.DOCKER_HOST : undefined;
  const endpoint = options.endpoint ?? fromEnv ?? DEFAULT_ENDPOINT;
  const source = options.endpoint ? `${flag}.endpoint` : fromEnv ? 'DOCKER_HOST' : `${flag}.endpoint (default)`;
  const connection = parseEndpoint(endpoint, source);
  if (connection.socketPath === undefined) applyTLS(connection, options, flag, fromEnv ? env : undefined);
  return { display: endpoint, connection };
}

function parseEndpoint(endpoint: string, source: string): DockerodeOptions {
  const scheme = /^([a-z0-9+]+):\/\//i.exec(endpoint)?.[1]?.toLowerCase();
  if (scheme === 'unix' || scheme === 'npipe') {
    const path = endpoint.slice(scheme.length + 3);
    if (!path) throw endpointError(source, endpoint, 'the socket path is missing');
    return { socketPath: path };
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    let url: URL;
    try {
      url = new URL(endpoint.replace(/^tcp:/i, 'http:'));
    } catch (err) {
      throw endpointError(source, endpoint, messageOf(err));
    }
    if (!url.hostname) throw endpointError(source, endpoint, 'the host is missing');
    const port = url.port || (scheme === 'https' ? '2376' : '2375');
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port, protocol: scheme === 'https' ? 'https' : 'http' };
  }
  throw endpointError(source, endpoint, 'expected unix:///path/to/docker.sock, tcp://host:port, http://host:port or https://host:port');
}

/** TLS from the tls.* options, or from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH when DOCKER_HOST is used. */
function applyTLS(connection: DockerodeOptions, options: DockerOptions, flag: string, env?: NodeJS.ProcessEnv): void {
  const tls = options.tls;
  const certPath = env?.DOCKER_CERT_PATH;
  const envTLS = env !== undefined && (env.DOCKER_TLS_VERIFY === '1' || certPath !== undefined);
  if (!tls && !envTLS && connection.protocol !== 'https') return;
  const read = (file: string | undefined, option: string): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new WharfError('WHARF_ERR_STATIC_CONFIG', `${option}: cannot read ${file}: ${messageOf(err)}`, { cause: err });
    }
  };
  const fromEnv = (name: string) => (!tls && certPath ? `${certPath}/${name}` : undefined);
  const ca = read(tls?.ca ?? fromEnv('ca.pem'), `${flag}.tls.ca`);
  const cert = read(tls?.cert ?? fromEnv('cert.pem'), `${flag}.tls.cert`);
  const key = read(tls?.key ?? fromEnv('key.pem'), `${flag}.tls.key`);
  if ((cert === undefined) !== (key === undefined)) {
    throw new WharfError('WHARF_ERR_STATIC_CONFIG', `${flag}.tls: cert and key go together; set both or neither`);
  }
  connection.protocol = 'https';
  // dockerode passes ca/cert/key through, but not rejectUnauthorized: an agent carries all of them.
  connection.agent = new HttpsAgent({ ca, cert, key, rejectUnauthorized: !(tls?.insecureSkipVerify ?? false), keepAlive: true });
}

function endpointError(source: string, endpoint: string, why: string): WharfError {
  return new WharfError('WHARF_ERR_STATIC_CONFIG', `${source}: invalid engine endpoint ${JSON.stringify(endpoint)}: ${why}`);
}
