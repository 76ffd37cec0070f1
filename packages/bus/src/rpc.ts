import { RpcVersionCapError, UnsupportedRpcMethod, UnsupportedVersion } from './errors.js';
import type { RpcDispatcher, RpcRequest, Target, Transport } from './transport.js';
import { compareVersions, isCompatible, parseVersion } from './version.js';

/** The shape of an RPC interface: methods taking one arguments object, returning a promise. */
export type RpcInterface<T> = { [K in keyof T]: (args: never) => Promise<unknown> };
export type RpcMethod<T> = Extract<keyof T, string>;
export type RpcArgs<T, K extends keyof T> = T[K] extends (args: infer A) => unknown ? A : never;
export type RpcResult<T, K extends keyof T> = T[K] extends (args: never) => Promise<infer R>
  ? R
  : never;

export interface RpcMethodSpec<A> {
  /** The API version that introduced the method. */
  since: string;
  /** The version that introduced each argument added after the method itself. */
  args?: { readonly [P in keyof A]?: string };
}

export interface RpcApi<T> {
  /** `<service>.<role>`; servers also listen on `<topic>.<host>`. */
  readonly topic: string;
  /** The newest version this code speaks. */
  readonly version: string;
  readonly methods: { readonly [K in RpcMethod<T>]: RpcMethodSpec<RpcArgs<T, K>> };
}

type AnySpec = RpcMethodSpec<Record<string, unknown>>;

/**
 * Declares a versioned RPC API, shared by its client (the role's `rpcapi.ts`, which
 * imports only the *type* of the interface) and its server (`manager.ts`, which
 * implements it).
 *
 * Versions follow Nova's rpcapi.py. Keep the history in the doc comment of the
 * definition, one line per version, newest last:
 *
 *     API version history:
 *       * 1.0 - Initial version.
 *       * 1.1 - Add ping()
 *       * 1.2 - Add new_arg to select_destinations()
 *
 * - A compatible change is a minor bump. A new method gets `since: '<new version>'`; a
 *   new argument gets its version in the method's `args` map and must be optional in
 *   the interface, because older clients, and clients capped below it, leave it out.
 * - An incompatible change (removing or renaming a method or argument, changing what one
 *   means) is a major bump: servers refuse messages of another major, and every `since`
 *   restarts at `<major>.0`.
 * - During a rolling upgrade, cap clients (`versionCap`) at the version of the oldest
 *   server still running. A capped client drops arguments newer than its cap and refuses
 *   to call methods newer than it. A message is sent as the lowest version that describes
 *   it (the method's `since`, raised by the newest argument it carries), so a 1.2 client
 *   calling a 1.0 method still reaches 1.0 servers.
 */
export function defineRpcApi<T extends RpcInterface<T>>(api: RpcApi<T>): RpcApi<T> {
  const own = parseVersion(api.version);
  if (!own) throw new TypeError(`${api.topic}: invalid RPC API version ${api.version}`);
  const check = (what: string, version: string, floor: string): void => {
    const v = parseVersion(version);
    const ok = v && v.major === own.major && compareVersions(version, floor) >= 0;
    if (!ok || compareVersions(version, api.version) > 0) {
      throw new TypeError(
        `${api.topic}: ${what} has version ${version}, outside ${floor}..${api.version}`,
      );
    }
  };
  for (const [method, spec] of Object.entries<AnySpec>(api.methods)) {
    check(method, spec.since, `${own.major}.0`);
    for (const [arg, since] of Object.entries(spec.args ?? {})) {
      if (since !== undefined) check(`${method}(${arg})`, since, spec.since);
    }
  }
  return Object.freeze({ ...api });
}

export interface RpcClientOptions {
  /** Never send a message newer than this: the version of the oldest server in service. */
  versionCap?: string;
  /** How long a call waits for its reply; 60 s by default, as oslo's rpc_response_timeout. */
  timeoutMs?: number;
}

export interface RpcPrepareOptions extends RpcClientOptions {
  /** Send to this host's server (`<topic>.<host>`) rather than any server of the topic. */
  server?: string;
}

export interface RpcClient<T> {
  readonly topic: string;
  /** Sends to one server and resolves with its result, or rejects with its error. */
  call<K extends RpcMethod<T>>(method: K, args: RpcArgs<T, K>): Promise<RpcResult<T, K>>;
  /** Sends to one server without waiting for it; resolves once the bus holds the message. */
  cast<K extends RpcMethod<T>>(method: K, args: RpcArgs<T, K>): Promise<void>;
  /** Casts to every server listening on the topic (a prepared `server` does not apply). */
  fanout<K extends RpcMethod<T>>(method: K, args: RpcArgs<T, K>): Promise<void>;
  /** The same client with some options changed, as oslo's `prepare()`. */
  prepare(options: RpcPrepareOptions): RpcClient<T>;
  /** Whether the version cap allows a message of this version (Nova's can_send_version). */
  canSendVersion(version: string): boolean;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export function rpcClient<T extends RpcInterface<T>>(
  transport: Transport,
  api: RpcApi<T>,
  options: RpcClientOptions = {},
): RpcClient<T> {
  return new Client(transport, api, options);
}

class Client<T extends RpcInterface<T>> implements RpcClient<T> {
  constructor(
    private readonly transport: Transport,
    private readonly api: RpcApi<T>,
    private readonly options: RpcPrepareOptions,
  ) {
    if (options.versionCap !== undefined && !parseVersion(options.versionCap)) {
      throw new TypeError(`${api.topic}: invalid RPC version cap ${options.versionCap}`);
    }
  }

  get topic(): string {
    return this.api.topic;
  }

  async call<K extends RpcMethod<T>>(method: K, args: RpcArgs<T, K>): Promise<RpcResult<T, K>> {
    const request = this.request(method, args);
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return (await this.transport.call(this.target(), request, timeoutMs)) as RpcResult<T, K>;
  }

  async cast<K extends RpcMethod<T>>(method: K, args: RpcArgs<T, K>): Promise<void> {
    await this.transport.cast(this.target(), this.request(method, args));
  }

  async fanout<K extends RpcMethod<T>>(method: K, args: RpcArgs<T, K>): Promise<void> {
    await this.transport.cast({ topic: this.api.topic, fanout: true }, this.request(method, args));
  }

  prepare(options: RpcPrepareOptions): RpcClient<T> {
    return new Client(this.transport, this.api, { ...this.options, ...options });
  }

  canSendVersion(version: string): boolean {
    return isCompatible(this.options.versionCap ?? this.api.version, version);
  }

  private target(): Target {
    const { server } = this.options;
    return server === undefined ? { topic: this.api.topic } : { topic: this.api.topic, server };
  }

  private request(method: string, args: unknown): RpcRequest {
    const { topic } = this.api;
    const spec = lookup(this.api, method);
    if (!spec) throw new UnsupportedRpcMethod(`${topic} has no RPC method ${method}.`);
    const cap = this.options.versionCap;
    if (!this.canSendVersion(spec.since)) {
      throw new RpcVersionCapError(
        `${topic}.${method} needs RPC API version ${spec.since}, above the version cap ${cap}.`,
        { topic, method, version: spec.since, versionCap: cap },
      );
    }
    let version = spec.since;
    const sent: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(args as Record<string, unknown>)) {
      if (value === undefined) continue;
      const since = spec.args?.[name];
      if (since !== undefined) {
        // Peers at the cap do not know this argument yet: leave it out, as Nova does.
        if (!this.canSendVersion(since)) continue;
        if (compareVersions(since, version) > 0) version = since;
      }
      sent[name] = value;
    }
    return { method, version, args: sent };
  }
}

function lookup<T>(api: RpcApi<T>, method: unknown): AnySpec | undefined {
  const methods = api.methods as Record<string, AnySpec>;
  return typeof method === 'string' && Object.hasOwn(methods, method) ? methods[method] : undefined;
}

export interface RpcServerOptions {
  /** This node's name: the server also takes the messages sent to `<topic>.<host>`. */
  host: string;
}

export interface RpcServer {
  readonly topic: string;
  readonly host: string;
  /** Stops taking messages and waits for the handlers still running. */
  stop(): Promise<void>;
}

/** Serves the API's topic with the implementation (a manager object or class instance). */
export async function rpcServer<T extends RpcInterface<T>>(
  transport: Transport,
  api: RpcApi<T>,
  implementation: NoInfer<T>,
  options: RpcServerOptions,
): Promise<RpcServer> {
  const { topic } = api;
  const dispatch: RpcDispatcher = async (request) => {
    // The message came off the wire: trust nothing in it.
    const { method, version, args } = (request ?? {}) as Partial<RpcRequest>;
    if (typeof version !== 'string' || !isCompatible(api.version, version)) {
      throw new UnsupportedVersion(
        `${topic} speaks RPC API ${api.version} and cannot handle version ${String(version)} ` +
          `(method ${String(method)}).`,
        { topic, method, version, supported: api.version },
      );
    }
    // Only the API's methods can be reached, never other properties of the object.
    const handler = lookup(api, method)
      ? (implementation as Record<string, unknown>)[method as string]
      : undefined;
    if (typeof handler !== 'function') {
      throw new UnsupportedRpcMethod(`${topic} has no RPC method ${String(method)}.`, {
        topic,
        method,
        version,
      });
    }
    return (await handler.call(implementation, args ?? {})) as unknown;
  };
  const listener = await transport.listen(topic, options.host, dispatch);
  return { topic, host: options.host, stop: () => listener.stop() };
}
