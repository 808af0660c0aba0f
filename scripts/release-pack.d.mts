export function targetAbis(triples: readonly string[]): string[];
export function releaseManifest<
  T extends { version: string; napi: { packageName: string; binaryName: string; targets: string[] } },
>(pkg: T): T & { optionalDependencies: Record<string, string>; scripts: { install: string } };
