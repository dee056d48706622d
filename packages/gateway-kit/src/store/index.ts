export {
  FileKeyvAdapter,
  FileStoreError,
  type FileKeyvAdapterOptions,
  type FileStoreClock,
} from './file-adapter.js';
