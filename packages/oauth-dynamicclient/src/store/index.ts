export type { Store } from './types.js';
export { keyvStore, MemoryStore, type KeyvStoreOptions } from './keyv.js';
export { StoreUnavailableError, isStoreUnavailable, storeUnavailable } from './errors.js';
