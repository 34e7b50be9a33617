/** An entry point of a public package. */
export interface PackageEntry {
  subpath: string;
  esm: string;
  types: string | undefined;
  source: string;
}
/** A public (non-private) package under packages/*. */
export interface PublicPackage {
  name: string;
  dir: string;
  manifest: Record<string, unknown>;
  entries: PackageEntry[];
}
export const ROOT: string;
export function publicPackages(): PublicPackage[];
