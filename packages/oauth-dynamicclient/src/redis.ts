/**
 * `@mcp-gateway/oauth-dynamicclient/redis`: the Redis {@link Store}, kept out of the main entry so
 * that memory, Keyv and edge users install and load no Redis client. Needs the optional peer
 * dependency `@keyv/redis` (`npm i @keyv/redis`).
 *
 * @packageDocumentation
 */
export { RedisStore, type RedisStoreOptions } from './store/redis.js';
