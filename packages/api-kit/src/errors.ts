/**
 * OpenStack error bodies. Every failed request of every service leaves through
 * `toStratusError` + `errorBody`, so the shape of an error is decided in one place.
 */
import {
  BadRequest,
  Conflict,
  Forbidden,
  HTTP_TITLES,
  InternalError,
  MethodNotAllowed,
  NotAcceptable,
  NotFound,
  PayloadTooLarge,
  StratusError,
  Unauthorized,
  UnsupportedMediaType,
  ValidationError,
  type ErrorClass,
} from '@stratus/common';

/** Which service's error body to write. Cinder uses Nova's. */
export type ErrorFormat = 'keystone' | 'nova' | 'neutron' | 'glance';

/** nova/api/openstack/wsgi.py `Fault._fault_names`; anything else is a `computeFault`. */
const NOVA_FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export function errorBody(format: ErrorFormat, err: StratusError): Record<string, unknown> {
  const { status, message } = err;
  const title = HTTP_TITLES[status] ?? err.title;
  switch (format) {
    case 'keystone':
      return { error: { code: status, title, message } };
    case 'nova':
      return { [NOVA_FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } };
    case 'neutron':
      return { NeutronError: { type: err.code, message, detail: '' } };
    case 'glance':
      return { message, code: `${status} ${title}`, title };
  }
}

/** The shape of the errors Fastify and its validators raise. */
interface FrameworkError {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
  validation?: ValidationIssue[];
  validationContext?: string;
}

interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const BY_STATUS: Record<number, ErrorClass> = {
  400: BadRequest,
  401: Unauthorized,
  403: Forbidden,
  404: NotFound,
  405: MethodNotAllowed,
  406: NotAcceptable,
  409: Conflict,
  413: PayloadTooLarge,
  415: UnsupportedMediaType,
};

const MALFORMED_BODY = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

/**
 * Turns anything a request can throw into a StratusError. Client errors raised by
 * Fastify (`FST_*`, and JSON.parse's SyntaxError) keep their message; anything else,
 * and any 500, becomes a generic 500: a 500 is a bug, and its message may carry
 * internals (SQL, paths, a remote process's exception).
 */
export function toStratusError(error: unknown): StratusError {
  if (error instanceof StratusError) return error.status === 500 ? new InternalError() : error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as FrameworkError;
  if (Array.isArray(e.validation)) {
    return new ValidationError(validationMessage(e.validation, e.validationContext));
  }
  const fromFastify = error instanceof SyntaxError || String(e.code).startsWith('FST_');
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (fromFastify && status >= 400 && status < 500) {
    const cls = BY_STATUS[status] ?? BadRequest;
    // A message that only repeats the reason phrase says less than our default one.
    const text =
      typeof e.message === 'string' && e.message !== HTTP_TITLES[status] ? e.message : undefined;
    const malformed = error instanceof SyntaxError || MALFORMED_BODY.has(String(e.code));
    return new cls(malformed ? `Malformed request body: ${text}` : text);
  }
  return new InternalError();
}

const PART_LABELS: Record<string, string> = {
  body: 'field',
  querystring: 'query parameter',
  params: 'path parameter',
  headers: 'header',
};

/**
 * Keystone's wording ("Invalid input for field 'server/name': ..."), naming the field
 * by its JSON path so a client can tell which of its inputs was refused.
 */
export function validationMessage(issues: ValidationIssue[], part = 'body'): string {
  // An unexpected property shows up both as a `false` sub-schema and as the clearer
  // additionalProperties issue; report the clearer one.
  const issue = issues.find((i) => i.keyword !== 'boolean') ?? issues[0];
  if (!issue) return 'Invalid input.';
  const path = (issue.instancePath ?? '').split('/').filter(Boolean);
  let message = issue.message ?? 'is invalid';
  const names = (key: string): string[] => {
    const value = issue.params?.[key];
    return Array.isArray(value) ? value.map(String) : [];
  };
  if (issue.keyword === 'required') {
    const missing = names('requiredProperties');
    path.push(...missing.slice(0, 1));
    message = `'${missing.join("', '")}' is a required property`;
  } else if (issue.keyword === 'additionalProperties') {
    const extra = names('additionalProperties');
    message = `Additional properties are not allowed ('${extra.join("', '")}' was unexpected)`;
  }
  const label = PART_LABELS[part] ?? 'field';
  const where = path.length > 0 ? `${label} '${path.join('/')}'` : part === 'body' ? 'body' : label;
  return `Invalid input for ${where}: ${message}`;
}
