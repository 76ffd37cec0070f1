/**
 * Which methods each registered path pattern accepts. Fastify's router answers only
 * "is there a route for this method and path", so to tell a 405 (known path, wrong
 * method, with an `Allow` header) from a 404 we keep our own table of patterns.
 */
export class RouteTable {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, methods: string | string[]): void {
    const key = trimSlash(url);
    let entry = this.routes.get(key);
    if (!entry) {
      entry = { pattern: compile(key), methods: new Set() };
      this.routes.set(key, entry);
    }
    for (const m of Array.isArray(methods) ? methods : [methods]) entry.methods.add(m);
  }

  /** The methods accepted by any pattern matching `path` (no query string), sorted. */
  allowedMethods(path: string): string[] {
    const target = trimSlash(path);
    const allowed = new Set<string>();
    for (const { pattern, methods } of this.routes.values()) {
      if (pattern.test(target)) for (const m of methods) allowed.add(m);
    }
    return [...allowed].sort();
  }
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** find-my-way syntax: `:name`, `:name(regex)`, `*`, and `::` for a literal colon. */
function compile(url: string): RegExp {
  let source = '';
  for (let i = 0; i < url.length; i++) {
    const ch = url.charAt(i);
    if (ch === ':' && url.charAt(i + 1) === ':') {
      source += ':';
      i++;
    } else if (ch === ':') {
      const name = /^:\w*/.exec(url.slice(i))?.[0] ?? ':';
      i += name.length - 1;
      if (url.charAt(i + 1) === '(') {
        const close = url.indexOf(')', i + 1);
        source += `(?:${url.slice(i + 2, close).replace(/^\^|\$$/g, '')})`;
        i = close;
      } else {
        source += '[^/]+?';
      }
    } else if (ch === '*') {
      source += '.*';
    } else {
      source += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}
