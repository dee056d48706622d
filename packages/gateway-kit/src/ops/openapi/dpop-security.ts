/** How the gateway takes DPoP-bound tokens (RFC 9449), as `/openapi.json` describes it. */
export type DpopMode = 'off' | 'allowed' | 'required';

/** The `dpop` security scheme: `Authorization: DPoP <token>` with a proof in the `DPoP` header. */
export const dpopScheme = {
  type: 'http',
  scheme: 'dpop',
  description:
    'RFC 9449: the access token as `Authorization: DPoP <token>` with a `DPoP` proof header (htm, htu, iat, jti, ath) signed by the key the token is bound to (`cnf.jkt`).',
} as const;

type Requirement = Record<string, string[]>;

/**
 * A security requirement list with DPoP: beside each requirement naming an OAuth token (`oauth2`
 * or `bearer`) the same one presented with DPoP; with `required`, only the DPoP form.
 */
function withDpop(security: Requirement[], mode: DpopMode): Requirement[] {
  const out: Requirement[] = [];
  for (const req of security) {
    const token = 'oauth2' in req || 'bearer' in req;
    if (!token) {
      out.push(req);
      continue;
    }
    const { bearer: _bearer, ...rest } = req;
    const dpop = { ...rest, dpop: [] };
    if (mode === 'allowed') out.push(req);
    out.push(dpop);
  }
  return out;
}

/**
 * Adds the `dpop` scheme to an OpenAPI document's `components.securitySchemes` and to every
 * operation secured by an OAuth token; `off` leaves the document as it is. With `required`, a
 * bare Bearer presentation is no longer listed (the gateway refuses it).
 */
export function applyDpop<
  D extends { components: { securitySchemes: object }; paths: Record<string, unknown> },
>(doc: D, mode: DpopMode): D & { components: { securitySchemes: { dpop?: typeof dpopScheme } } } {
  if (mode === 'off') return doc;
  (doc.components.securitySchemes as Record<string, unknown>).dpop = dpopScheme;
  for (const item of Object.values(doc.paths)) {
    if (!item || typeof item !== 'object') continue;
    for (const op of Object.values(item)) {
      const o = op as { security?: Requirement[] };
      if (o && typeof o === 'object' && Array.isArray(o.security)) o.security = withDpop(o.security, mode);
    }
  }
  return doc;
}
