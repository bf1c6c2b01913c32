// Core's one built-in provider as a definition: `providers.file.{filename,directory,watch}`.
import { Type } from '../config/schema.js';
import { FileProvider, type FileProviderConfig } from './file.js';
import { defineProvider } from './provider.js';

export const fileProvider = defineProvider({
  name: 'file',
  description: 'Dynamic configuration from a YAML/JSON file or a directory of them, watched for changes.',
  schema: Type.Object(
    {
      filename: Type.Optional(Type.String({ description: 'Dynamic configuration file (YAML or JSON).' })),
      directory: Type.Optional(Type.String({ description: 'Directory of dynamic configuration files (*.yml, *.yaml, *.json).' })),
      watch: Type.Boolean({ default: true, description: 'Reload when the file(s) change (default true).' }),
    },
    { additionalProperties: false },
  ),
  create: (options: FileProviderConfig) => new FileProvider(options),
});
