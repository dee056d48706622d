export type { Store } from './types.js';
export { keyvStore, MemoryStore, type KeyvStoreOptions } from './keyv.js';
export { StoreUnavailableError, isStoreUnavailable } from './errors.js';
