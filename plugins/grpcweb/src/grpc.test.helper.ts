// Real gRPC servers (@grpc/grpc-js, h2c or TLS) and clients for the HTTP/2 upstream and grpcWeb tests.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { tempDir, type Pem } from '@wharf/test-helpers';

const PROTO = `
syntax = "proto3";
package echo;
service Echo {
  rpc Unary (Msg) returns (Msg);
  rpc ServerStream (Msg) returns (stream Msg);
  rpc ClientStream (stream Msg) returns (Msg);
  rpc Bidi (stream Msg) returns (stream Msg);
  rpc Fail (Msg) returns (Msg);
  rpc Hang (Msg) returns (stream Msg);
}
message Msg { string text = 1; string server = 2; }
`;

export interface Msg {
  text: string;
  server?: string;
}

const dir = tempDir('wharf-grpc-');
const definition = protoLoader.loadSync(dir.write('echo.proto', PROTO), { defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as { echo: { Echo: grpc.ServiceClientConstructor } };
export const Echo = loaded.echo.Echo;

export interface EchoServer {
  readonly port: number;
  readonly name: string;
  /** Hang calls the server saw cancelled (client cancel or deadline, forwarded by the gateway). */
  readonly cancelled: string[];
  /** Deadlines Hang calls arrived with (Infinity: none). */
  readonly deadlines: number[];
  close(): Promise<void>;
}

/** An Echo server on 127.0.0.1: h2c without `tls`, TLS with it. */
export async function startEchoServer(name: string, tls?: Pem): Promise<EchoServer> {
  const server = new grpc.Server();
  const cancelled: string[] = [];
  const deadlines: number[] = [];
  server.addService(Echo.service, {
    Unary(call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) {
      const metadata = new grpc.Metadata();
      metadata.set('x-server', name);
      call.sendMetadata(metadata);
      callback(null, { text: call.request.text, server: name });
    },
    ServerStream(call: grpc.ServerWritableStream<Msg, Msg>) {
      for (let i = 1; i <= 3; i++) call.write({ text: `${call.request.text} ${i}`, server: name });
      call.end();
    },
    ClientStream(call: grpc.ServerReadableStream<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) {
      const texts: string[] = [];
      call.on('data', (m: Msg) => texts.push(m.text));
      call.on('end', () => callback(null, { text: texts.join('+'), server: name }));
    },
    Bidi(call: grpc.ServerDuplexStream<Msg, Msg>) {
      call.on('data', (m: Msg) => call.write({ text: `echo ${m.text}`, server: name }));
      call.on('end', () => call.end());
    },
    Fail(call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) {
      const metadata = new grpc.Metadata();
      metadata.set('x-detail', `missing ${call.request.text}`);
      callback({ code: grpc.status.NOT_FOUND, details: `no such thing: ${call.request.text}`, metadata });
    },
    Hang(call: grpc.ServerWritableStream<Msg, Msg>) {
      const deadline = call.getDeadline();
      deadlines.push(deadline instanceof Date ? deadline.getTime() : Number(deadline));
      call.write({ text: 'started', server: name });
      call.on('cancelled', () => cancelled.push(call.request.text));
    },
  });
  const credentials = tls ? grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }]) : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    name,
    cancelled,
    deadlines,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

export type EchoClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** A client calling the gateway's TLS entrypoint on 127.0.0.1 as `authority` (SNI and :authority), trusting `ca`. */
export function gatewayClient(port: number, authority: string, ca: Pem): EchoClient {
  return new Echo(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(ca.cert)), {
    'grpc.ssl_target_name_override': authority,
    'grpc.default_authority': authority,
  }) as unknown as EchoClient;
}

/** A unary call as a promise, with the response's metadata. */
export function unary(client: EchoClient, method: 'Unary' | 'Fail', text: string, options: grpc.CallOptions = {}): Promise<{ reply: Msg; metadata: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    let metadata = new grpc.Metadata();
    const call = client[method]!({ text }, new grpc.Metadata(), options, (err: grpc.ServiceError | null, reply: Msg) => (err ? reject(err) : resolve({ reply, metadata }))) as grpc.ClientUnaryCall;
    call.on('metadata', (m: grpc.Metadata) => (metadata = m));
  });
}

/** Every message of a response stream, once it ended. */
export function collect(call: grpc.ClientReadableStream<Msg>): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const messages: Msg[] = [];
    call.on('data', (m: Msg) => messages.push(m));
    call.on('error', reject);
    call.on('end', () => resolve(messages));
  });
}

export { grpc };
