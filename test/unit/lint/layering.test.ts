// The layering rule is what keeps core Electron- and database-free; if it stopped
// reporting, `npm test` would silently stop guarding the architecture.
import path from 'node:path';
import { RuleTester } from 'eslint';
import { describe, it } from 'vitest';
import { noRestrictedPaths } from '../../../eslint-rules/layering.js';

RuleTester.describe = describe;
RuleTester.it = it;

const root = path.resolve(__dirname, '../../..');
const zones = [
  { target: './src/main/core', from: './src/main/storage', message: 'core must stay database-free' },
  { target: './src/renderer', from: './src/main' },
];
const tester = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } });

tester.run('layering/no-restricted-paths', noRestrictedPaths, {
  valid: [
    { filename: path.join(root, 'src/main/core/a.ts'), code: "import { v } from './volume';", options: [{ zones }] },
    { filename: path.join(root, 'src/main/services/a.ts'), code: "import { db } from '../storage/db';", options: [{ zones }] },
    { filename: path.join(root, 'src/renderer/src/a.ts'), code: "import { c } from '../../shared/contract';", options: [{ zones }] },
    { filename: path.join(root, 'src/main/core/a.ts'), code: "import Database from 'better-sqlite3';", options: [{ zones }] },
  ],
  invalid: [
    {

      filename: path.join(root, 'src/main/core/io/a.ts'),
      code: "import { db } from '../../storage/db';",
      options: [{ zones }],
      errors: [{ message: "Unexpected import of '../../storage/db': src/main/core may not import from src/main/storage (core must stay database-free)." }],
    },
    {

      filename: path.join(root, 'src/renderer/src/a.ts'),
      code: "export * from '../../main/core/volume'; const m = import('../../main/paths');",
      options: [{ zones }],
      errors: 2,
    },
  ],
});
