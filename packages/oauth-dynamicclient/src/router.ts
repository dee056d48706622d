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

const compile = (route: Route): Compiled => ({
  route,
  methods: Array.isArray(route.method) ? route.method : [route.method],
  segments: split(route.path),
});

/** Routes read from a function on each match, compiled again when it returns a new array. */
interface LiveTable {
  source: () => readonly Route[];
  seen: readonly Route[] | undefined;
  compiled: Compiled[];
}

/** Method + path → route. Nothing else. */
export class Router {
  private readonly table: Compiled[] = [];
  private readonly live: LiveTable[] = [];

  constructor(routes: Route[] = []) {
    for (const r of routes) this.add(r);
  }

  /** Adds a route. Later routes never shadow earlier ones with the same method and path. */
  add(route: Route): void {
    this.table.push(compile(route));
  }

  /**
   * Adds routes that change at runtime (one per protected resource):
   * `source` is read on each match and must return the same array until
   * its routes change. They come after the fixed routes.
   */
  addLive(source: () => readonly Route[]): void {
    this.live.push({ source, seen: undefined, compiled: [] });
  }

  /** Finds the route for `method` on `pathname`. */
  match(method: string, pathname: string): Match {
    const parts = split(pathname);
    const allow = new Set<HttpMethod>();
    let cors = false;
    const scan = (table: Compiled[]): Match | undefined => {
      for (const c of table) {
        const params = matchSegments(c.segments, parts);
        if (!params) continue;
        if ((c.methods as string[]).includes(method)) return { kind: 'found', route: c.route, params };
        for (const m of c.methods) allow.add(m);
        cors ||= !!c.route.cors;
      }
      return undefined;
    };
    const found = scan(this.table) ?? this.scanLive(scan);
    if (found) return found;
    return allow.size ? { kind: 'method-not-allowed', allow: [...allow], cors } : { kind: 'not-found' };
  }

  private scanLive(scan: (table: Compiled[]) => Match | undefined): Match | undefined {
    for (const l of this.live) {
      const routes = l.source();
      if (routes !== l.seen) {
        l.seen = routes;
        l.compiled = routes.map(compile);
      }
      const found = scan(l.compiled);
      if (found) return found;
    }
    return undefined;
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
