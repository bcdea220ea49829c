// Layering rule: forbids imports that cross a zone boundary (see eslint.config.js).
//
// Written here rather than taken from eslint-plugin-import-x because that plugin and
// its TypeScript resolver depend on unrs-resolver, whose platform binaries are not all
// on the registry mirror CI installs from, so `npm ci` rejects the lock file. Every
// import across our own folders is relative, so resolving a specifier is a path join.
import path from 'node:path';

/** @param {string} dir @param {string} file */
function isInside(dir, file) {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** @type {import('eslint').Rule.RuleModule} */
export const noRestrictedPaths = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid relative imports from one source zone into another' },
    schema: [
      {
        type: 'object',
        properties: {
          zones: {
            type: 'array',
            items: {
              type: 'object',
              properties: { target: { type: 'string' }, from: { type: 'string' }, message: { type: 'string' } },
              required: ['target', 'from'],
              additionalProperties: false,
            },
          },
        },
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const root = context.cwd;
    const zones = (context.options[0]?.zones ?? []).map((zone) => ({
      target: path.resolve(root, zone.target),
      from: path.resolve(root, zone.from),
      message: zone.message,
    }));
    const file = path.resolve(context.filename);
    const active = zones.filter((zone) => isInside(zone.target, file));
    if (active.length === 0) return {};

    /** @param {import('estree').Node | null | undefined} source */
    function check(source) {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const specifier = source.value;
      if (!specifier.startsWith('.')) return; // packages are policed by no-restricted-imports
      const imported = path.resolve(path.dirname(file), specifier);
      for (const zone of active) {
        if (isInside(zone.from, imported)) {
          const from = path.relative(root, zone.from);
          const target = path.relative(root, zone.target);
          context.report({
            node: source,
            message: `Unexpected import of '${specifier}': ${target} may not import from ${from}${zone.message ? ` (${zone.message})` : ''}.`,
          });
        }
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export default { rules: { 'no-restricted-paths': noRestrictedPaths } };
