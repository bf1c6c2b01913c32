// Options of circuitBreaker: Traefik's names and defaults (dynamic.CircuitBreaker.SetDefaults).
import { Duration, Type, type Static } from '@wharf/core';

export const schema = Type.Object(
  {
    expression: Type.String({
      minLength: 1,
      description:
        'When it holds, the circuit opens: NetworkErrorRatio(), ResponseCodeRatio(from, to, dividedByFrom, dividedByTo), LatencyAtQuantileMS(quantile), RequestThreshold() compared with numbers (> < >= <= == !=), joined with && and ||. Required.',
    }),
    checkPeriod: Duration({ default: '100ms', description: 'How often the expression is evaluated while closed or recovering (default 100ms; 0 = the default).' }),
    fallbackDuration: Duration({ default: '10s', description: 'How long the circuit stays open, answering responseCode, before recovering (default 10s; 0 = the default).' }),
    recoveryDuration: Duration({ default: '10s', description: 'How long recovery lets traffic back in, linearly, before the circuit closes (default 10s; 0 = the default).' }),
    responseCode: Type.Integer({ minimum: 100, maximum: 999, default: 503, description: 'Status answered while the circuit is open, with its reason phrase as the body (default 503).' }),
  },
  { additionalProperties: false },
);

export type CircuitBreakerConfig = Static<typeof schema>;
