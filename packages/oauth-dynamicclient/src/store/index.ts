export type { Store } from './types.js';
export { keyvStore, MemoryStore, type KeyvStoreOptions } from './keyv.js';
export { RedisStore, type RedisStoreOptions } from './redis.js';
export { StoreUnavailableError, isStoreUnavailable } from './errors.js';
