// The Wharf distribution: which plugins and providers the `wharf` command ships, the command itself, and
// startGateway with them registered. Core names none of them; a build of your own can list others.
import { readFileSync } from 'node:fs';
import { startGateway as startCore, type EmbeddedGateway, type Plugin, type StartOptions } from '@wharf/core';
import { type ProviderDefinition } from '@wharf/core/provider';
import { main as runCommand } from '@wharf/core/cli';
import accessLog, { logOtlp } from '@wharf/plugin-accesslog';
import addPrefix from '@wharf/plugin-addprefix';
import api from '@wharf/plugin-api';
import basicAuth from '@wharf/plugin-basicauth';
import digestAuth from '@wharf/plugin-digestauth';
import forwardAuth from '@wharf/plugin-forwardauth';
import headers from '@wharf/plugin-headers';
import healthCheck from '@wharf/plugin-healthcheck';
import inFlightReq from '@wharf/plugin-inflightreq';
import inFlightConn from '@wharf/plugin-inflightconn';
import ipAllowList, { ipWhiteList } from '@wharf/plugin-ipallowlist';
import metrics from '@wharf/plugin-metrics';
import passTLSClientCert from '@wharf/plugin-passtlsclientcert';
import ping from '@wharf/plugin-ping';
import rateLimit from '@wharf/plugin-ratelimit';
import redirectRegex from '@wharf/plugin-redirectregex';
import redirectScheme from '@wharf/plugin-redirectscheme';
import replacePath from '@wharf/plugin-replacepath';
import replacePathRegex from '@wharf/plugin-replacepathregex';
import retry from '@wharf/plugin-retry';
import stripPrefix from '@wharf/plugin-stripprefix';
import stripPrefixRegex from '@wharf/plugin-stripprefixregex';
import tls from '@wharf/plugin-tls';
import acme from '@wharf/plugin-acme';
import circuitBreaker from '@wharf/plugin-circuitbreaker';
import contentType from '@wharf/plugin-contenttype';
import grpcWeb from '@wharf/plugin-grpcweb';
import compress from '@wharf/plugin-compress';
import buffering from '@wharf/plugin-buffering';
import tracing from '@wharf/plugin-tracing';
import { dockerProvider, swarmProvider } from '@wharf/provider-docker';
import chain from '@wharf/plugin-chain';
import errors from '@wharf/plugin-errors';
import { healthcheckCommand } from './healthcheck.js';

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The built-in plugins, in the order their process hooks are set up. */
export const builtinPlugins: readonly Plugin[] = [
  logOtlp, // first: what the other plugins log while setting up is exported too
  stripPrefix, headers, ping, accessLog, rateLimit, api, metrics, healthCheck, retry, tls, redirectScheme,
  addPrefix, replacePath, replacePathRegex, stripPrefixRegex, redirectRegex,
  ipAllowList, ipWhiteList, basicAuth, digestAuth, inFlightReq, passTLSClientCert,
  acme,
  chain, errors,
  forwardAuth,
  circuitBreaker, contentType, grpcWeb,
  compress,
  buffering,
  tracing,
  inFlightConn,
] as Plugin[];

/** The built-in providers besides core's `file`. */
export const builtinProviders: readonly ProviderDefinition[] = [dockerProvider, swarmProvider] as ProviderDefinition[];

/** What Traefik stacks may carry that Wharf does not run yet, with the reason (`wharf --help`, README). */
export const UNSUPPORTED: readonly string[] = [
  'Health checks of TCP services (tcp.services.<name>.loadBalancer.healthCheck): issue #21; the field is refused as unknown.',
  'SPIFFE (serversTransport.spiffe, serversTransports.<name>.spiffe): no workload API client; refused with an error.',
  'Providers other than file, docker and swarm (Kubernetes, Consul, ECS, …): not planned; Wharf is for Docker and Swarm stacks.',
];

/** The `wharf` command: runs until a signal stops the gateway; resolves to the exit code for start-up errors. */
export function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  return runCommand(argv, { version: VERSION, plugins: builtinPlugins, providers: builtinProviders, commands: { healthcheck: healthcheckCommand }, unsupported: UNSUPPORTED }, env);
}

export interface DistributionStartOptions extends StartOptions {
  /** Register the built-in plugins and providers (default true); `false` leaves only `plugins`/`providers`. */
  builtins?: boolean;
}

/** Core's startGateway with the distribution's plugins and providers registered before `options.plugins`. */
export function startGateway(options: DistributionStartOptions = {}): Promise<EmbeddedGateway> {
  const { builtins = true, ...rest } = options;
  if (!builtins) return startCore(rest);
  return startCore({
    ...rest,
    plugins: [...builtinPlugins, ...(rest.plugins ?? [])],
    providers: [...builtinProviders, ...(rest.providers ?? [])],
  });
}
