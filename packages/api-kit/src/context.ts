/**
 * Who is making a request, as oslo.context describes it. Field names are oslo's
 * (snake_case) because policy rules refer to them by name: `project_id:%(project_id)s`.
 */
export interface RequestContext {
  request_id: string;
  /** A caller-supplied `X-OpenStack-Request-ID` that ties one operation across services. */
  global_request_id?: string;
  user_id?: string;
  user_name?: string;
  user_domain_id?: string;
  project_id?: string;
  project_name?: string;
  project_domain_id?: string;
  /** Set for a domain-scoped token. */
  domain_id?: string;
  /** `all` for a system-scoped token. */
  system_scope?: string;
  roles: string[];
  is_admin: boolean;
  auth_token?: string;
}

/** The context of a request nobody authenticated: no identity, no roles. */
export function anonymousContext(requestId: string, globalRequestId?: string): RequestContext {
  return {
    request_id: requestId,
    ...(globalRequestId !== undefined ? { global_request_id: globalRequestId } : {}),
    roles: [],
    is_admin: false,
  };
}
