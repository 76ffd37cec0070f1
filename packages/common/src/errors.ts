/**
 * The one error registry of Stratus. Every error a service raises on purpose is a
 * subclass of StratusError with a stable code (its class name), an HTTP status and a
 * default message. The API layer maps them to each service's OpenStack error body, and
 * the bus serialises them across processes and rebuilds the same class on the far side.
 */

export interface SerializedError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface ErrorClass {
  new (message?: string, details?: Record<string, unknown>): StratusError;
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly defaultMessage: string;
}

export class StratusError extends Error {
  static readonly code: string = 'StratusError';
  static readonly status: number = 500;
  static readonly title: string = 'Internal Server Error';
  static readonly defaultMessage: string = 'An unexpected error prevented the request.';

  readonly details: Record<string, unknown> | undefined;

  constructor(message?: string, details?: Record<string, unknown>) {
    const cls = new.target as unknown as ErrorClass;
    super(message ?? cls.defaultMessage);
    this.name = cls.code;
    this.details = details;
  }

  get code(): string {
    return (this.constructor as ErrorClass).code;
  }

  get status(): number {
    return (this.constructor as ErrorClass).status;
  }

  get title(): string {
    return (this.constructor as ErrorClass).title;
  }

  toJSON(): SerializedError {
    return serializeError(this);
  }
}

const registry = new Map<string, ErrorClass>();

/**
 * Defines and registers an error class. Codes are global: defining the same code twice
 * is a programming error, because the bus could no longer tell the two apart.
 */
export function defineError(
  code: string,
  status: number,
  defaultMessage: string,
  options: { title?: string; parent?: ErrorClass } = {},
): ErrorClass {
  if (registry.has(code)) throw new Error(`error code ${code} is already defined`);
  const Parent = options.parent ?? StratusError;
  const cls = {
    [code]: class extends Parent {
      static override readonly code = code;
      static override readonly status = status;
      static override readonly title = options.title ?? HTTP_TITLES[status] ?? 'Error';
      static override readonly defaultMessage = defaultMessage;
    },
  }[code] as ErrorClass;
  registry.set(code, cls);
  return cls;
}

export function lookupError(code: string): ErrorClass | undefined {
  return registry.get(code);
}

/** Reason phrases as OpenStack services print them in error titles. */
export const HTTP_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const BadRequest = defineError('BadRequest', 400, 'The request is malformed.');
export const ValidationError = defineError('ValidationError', 400, 'Invalid input.', {
  parent: BadRequest,
});
export const Unauthorized = defineError(
  'Unauthorized',
  401,
  'The request you have made requires authentication.',
);
export const Forbidden = defineError(
  'Forbidden',
  403,
  'You are not authorized to perform the requested action.',
);
export const PolicyNotAuthorized = defineError(
  'PolicyNotAuthorized',
  403,
  'Policy does not allow this action to be performed.',
  { parent: Forbidden },
);
export const NotFound = defineError('NotFound', 404, 'The resource could not be found.');
export const MethodNotAllowed = defineError(
  'MethodNotAllowed',
  405,
  'The method is not allowed for this resource.',
);
export const NotAcceptable = defineError(
  'NotAcceptable',
  406,
  'The requested version or format is not acceptable.',
);
export const Conflict = defineError(
  'Conflict',
  409,
  'The request conflicts with the current state of the resource.',
);
export const OverQuota = defineError('OverQuota', 413, 'Quota exceeded for resources.', {
  title: 'Request Entity Too Large',
});
export const PayloadTooLarge = defineError(
  'PayloadTooLarge',
  413,
  'The request body is too large.',
);
export const UnsupportedMediaType = defineError(
  'UnsupportedMediaType',
  415,
  'The media type of the request body is not supported.',
);
export const NotImplemented = defineError(
  'NotImplemented',
  501,
  'This feature is not implemented.',
);
export const ServiceUnavailable = defineError(
  'ServiceUnavailable',
  503,
  'The service is temporarily unavailable.',
);
export const Timeout = defineError('Timeout', 504, 'The operation timed out.');
/** An error that crossed a process boundary but whose class is unknown on this side. */
export const RemoteError = defineError('RemoteError', 500, 'A remote operation failed.');
export const InternalError = defineError(
  'InternalError',
  500,
  'An unexpected error prevented the request.',
);

export function isStratusError(err: unknown): err is StratusError {
  return err instanceof StratusError;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof StratusError) {
    return {
      code: err.code,
      message: err.message,
      ...(err.details !== undefined ? { details: err.details } : {}),
    };
  }
  const name = err instanceof Error ? err.name : typeof err;
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'RemoteError', message: `${name}: ${message}`, details: { remoteType: name } };
}

/** Rebuilds an error from its serialised form as the registered class, else a RemoteError. */
export function deserializeError(data: SerializedError): StratusError {
  const cls = registry.get(data.code);
  if (cls) return new cls(data.message, data.details);
  return new RemoteError(data.message, { ...data.details, remoteCode: data.code });
}
