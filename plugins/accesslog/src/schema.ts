// The accessLog static section (Traefik's `accessLog` options) and the field it adds under every entrypoint.
import { Type, Duration, MapOf, Section, StringList, type Static } from '@wharf/core';
import { otlpConnectionProperties } from '@wharf/otlp';

const FieldMode = (description: string) => Type.Union([Type.Literal('keep'), Type.Literal('drop')], { description });
const HeaderMode = (description: string) => Type.Union([Type.Literal('keep'), Type.Literal('drop'), Type.Literal('redact')], { description });

// The map and its values carry the same description: the help shows the `<name>` row, the README the map.
const FIELD_NAMES_DOC = 'Per-field mode, `<Field>=keep|drop`, e.g. `ClientUsername=drop`.';
const QUERY_NAMES_DOC = 'Per-parameter mode, `<param>=keep|drop|redact`, by the name as sent (case-sensitive), e.g. `token=redact`.';
const HEADER_NAMES_DOC =
  'Per-header mode, `<Header>=keep|drop|redact`. Authorization, Proxy-Authorization, Cookie and Set-Cookie are written only when named here, and then always as REDACTED.';

export const accessLogSchema = Type.Object(
  {
    filePath: Type.Optional(Type.String({ description: 'Append access-log lines to this file (directories are created); stdout when unset. SIGUSR1 reopens it.' })),
    format: Type.Union([Type.Literal('common'), Type.Literal('genericCLF'), Type.Literal('json')], {
      default: 'common',
      description: '`common` (Traefik extended CLF), `genericCLF` (plain combined log format) or `json` (default common).',
    }),
    bufferingSize: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'Lines to hold in memory before a write, counted as 256 bytes each and capped at 16 KiB, flushed at least every second (default 0: lines are written every 5 ms).',
    }),
    addInternals: Type.Boolean({
      default: false,
      description: 'Also log requests answered by `@internal` services or by entrypoint middlewares before routing, such as /ping (default false).',
    }),
    dualOutput: Type.Boolean({
      default: false,
      description: 'With otlp: also write lines to filePath or stdout (default false: OTLP only, as Traefik).',
    }),
    otlp: Type.Optional(
      Section(
        Type.Object(otlpConnectionProperties(), {
          additionalProperties: false,
          description: 'Send each line as an OpenTelemetry log record (OTLP over HTTP or gRPC): the line as body, every kept field as an attribute.',
        }),
      ),
    ),
    filters: Type.Object(
      {
        statusCodes: StringList({ default: [], description: 'Keep lines whose status is one of these codes or ranges, e.g. `200,300-302,500-599`.' }),
        retryAttempts: Type.Boolean({ default: false, description: 'Keep lines of requests that were retried at least once (default false).' }),
        minDuration: Duration({ default: 0, description: 'Keep lines of requests that took longer than this, e.g. `10ms` (default 0 = off).' }),
      },
      { additionalProperties: false, default: {}, description: 'A line is written when any configured filter matches; no filter set = every line.' },
    ),
    fields: Type.Object(
      {
        defaultMode: Type.Union([Type.Literal('keep'), Type.Literal('drop')], { default: 'keep', description: 'Whether fields are written unless named otherwise: keep or drop (default keep).' }),
        names: MapOf(FieldMode(FIELD_NAMES_DOC), { default: {}, description: FIELD_NAMES_DOC }),
        headers: Type.Object(
          {
            defaultMode: Type.Union([Type.Literal('keep'), Type.Literal('drop'), Type.Literal('redact')], {
              default: 'drop',
              description: 'Whether headers are written unless named otherwise: keep, drop or redact (default drop). Authorization, Proxy-Authorization, Cookie and Set-Cookie ignore it.',
            }),
            names: MapOf(HeaderMode(HEADER_NAMES_DOC), { default: {}, description: HEADER_NAMES_DOC }),
          },
          { additionalProperties: false, default: {} },
        ),
        queryParameters: Type.Object(
          {
            defaultMode: Type.Union([Type.Literal('keep'), Type.Literal('drop'), Type.Literal('redact')], {
              default: 'keep',
              description: "Query parameters in RequestPath unless named otherwise: keep, drop (Traefik's option: the path alone) or redact (`name=REDACTED`); default keep.",
            }),
            names: MapOf(HeaderMode(QUERY_NAMES_DOC), { default: {}, description: QUERY_NAMES_DOC }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type AccessLogConfig = Static<typeof accessLogSchema>;
export type HeaderModeValue = 'keep' | 'drop' | 'redact';

/** `entryPoints.<ep>.observability.accessLogs`: the default for routers on that entrypoint (and for unmatched requests). */
export const entryPointFields = {
  'observability.accessLogs': Type.Boolean({
    default: true,
    description: 'Write access-log lines for requests on this entrypoint unless a router says otherwise (default true).',
  }),
};
