/*
 * NetBox's slug rule, on its own: every reference built in refs.ts carries a slug made by it,
 * and a policy's own identifiers that become slugs are checked against it when the policy
 * loads (packer's image definitions: a duplicate slug is a policy error, and builds are
 * matched to definitions by it). So collector code may import this module (and
 * mappers/types.ts), and nothing else of the mapper vocabulary (test/boundaries.test.ts).
 */

/** NetBox's slugify: lower-case, non-alphanumerics to '-', trimmed, at most 100 chars. */
export function slugify(text: string): string {
  return (
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 100) || 'none'
  );
}
