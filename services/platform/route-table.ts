import FindMyWay from 'find-my-way';

/** Which methods a service routes, by path: what a 405 lists in `Allow`. */
export interface RouteTable {
  /** Records a route as fastify declares it (`/v1/imports/:id`). */
  add(method: string, url: string): void;
  /**
   * The methods routed for a concrete path (`/v1/imports/3f…`), in a stable order; empty when
   * the path is routed for no method at all, which is a 404 rather than a 405.
   */
  allowed(path: string): string[];
}

/**
 * A route table matched by find-my-way, the router fastify itself uses, with the same options,
 * so that a path matches here exactly when fastify would route it for some method.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-405-method-not-allowed
 */
export function createRouteTable(options: { maxParamLength: number }): RouteTable {
  const router = FindMyWay({ maxParamLength: options.maxParamLength });
  const methods = new Set<string>();
  const declared = new Set<string>();
  return {
    add(method, url) {
      const key = `${method} ${url}`;
      // fastify reports a route once per method; a re-declared one would make find-my-way throw.
      if (declared.has(key)) return;
      declared.add(key);
      methods.add(method);
      router.on(method as FindMyWay.HTTPMethod, url, () => undefined);
    },
    allowed(path) {
      const found: string[] = [];
      for (const method of [...methods].sort()) {
        try {
          if (router.find(method as FindMyWay.HTTPMethod, path)) found.push(method);
        } catch {
          // A path find-my-way cannot decode matches no route.
        }
      }
      return found;
    },
  };
}
