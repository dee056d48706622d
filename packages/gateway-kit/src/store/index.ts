export {
  FileKeyvAdapter,
  FileStoreError,
  type FileKeyvAdapterOptions,
  type FileStoreClock,
} from './file-adapter.js';
export { EmbeddedStore, type EmbeddedStoreOptions } from './embedded.js';
