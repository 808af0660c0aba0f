export function platformArchAbi(platform?: string, arch?: string, libc?: 'gnu' | 'musl'): string;
export function bindingNames(
  napiConfig: { packageName: string; binaryName: string },
  abi: string,
): { packageName: string; fileName: string };
