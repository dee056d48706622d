import pkg from '../package.json' with { type: 'json' };

/** The gateway-kit version. */
export const VERSION: string = pkg.version;
