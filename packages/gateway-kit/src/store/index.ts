export {
  FileKeyvAdapter,
  FileStoreError,
  type FileKeyvAdapterOptions,
  type FileStoreClock,
} from './file-adapter.js';
export { EmbeddedStore, type EmbeddedStoreOptions } from './embedded.js';
export { SocketStore, type SocketStoreOptions } from './socket-store.js';
export {
  serveStore,
  socketAnswers,
  StoreInUseError,
  type StoreSocketServer,
  type StoreSocketServerOptions,
} from './store-socket-server.js';
export { storeSocketPath } from './store-socket-protocol.js';
