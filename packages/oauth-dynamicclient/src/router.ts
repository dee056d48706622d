import type { HttpMethod, Route } from './context.js';

interface Compiled {
  route: Route;
  methods: HttpMethod[];
  segments: string[];
}

/** What {@link Router.match} found. */
export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: HttpMethod[]; cors: boolean }
  | { kind: 'not-found' };

const split = (path: string) => path.split('/').slice(1);

/** Method + path → route. Nothing else. */
export class Router {
  private readonly table: Compiled[] = [];

  constructor(routes: Route[] = []) {
    for (const r of routes) this.add(r);
  }

  /** Adds a route. Later routes never shadow earlier ones with the same method and path. */
  add(route: Route): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    this.table.push({ route, methods, segments: split(route.path) });
  }

  /** Finds the route for `method` on `pathname`. */
  match(method: string, pathname: string): Match {
    const parts = split(pathname);
    const allow = new Set<HttpMethod>();
    let cors = false;
    for (const c of this.table) {
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      if ((c.methods as string[]).includes(method)) return { kind: 'found', route: c.route, params };
      for (const m of c.methods) allow.add(m);
      cors ||= !!c.route.cors;
    }
    return allow.size ? { kind: 'method-not-allowed', allow: [...allow], cors } : { kind: 'not-found' };
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(':')) {
      if (v.length === 0) return undefined;
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return undefined;
      }
    } else if (p !== v) return undefined;
  }
  return params;
}
