// Which providers a static configuration turns on.
import type { StaticConfig } from '../config/static.js';
import { FileProvider, type FileProviderConfig } from './file.js';
import type { Provider } from './provider.js';

export function providersFor(config: StaticConfig): Provider[] {
  const providers: Provider[] = [];
  const file = config.providers.file as FileProviderConfig | undefined;
  if (file) providers.push(new FileProvider(file));
  return providers;
}
