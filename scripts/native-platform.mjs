// Names of the prebuilt native binding for a platform, as napi-rs spells them: the package
// `<napi.packageName>-<platform>-<arch>[-<abi>]` (e.g. @opt-native/binding-linux-x64-gnu) holds the file
// `<napi.binaryName>.<platform>-<arch>[-<abi>].node`. Shared by the install script and the release packer.

/** napi-rs's `platformArchABI` of a Node process: `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`, … */
export function platformArchAbi(platform = process.platform, arch = process.arch, libc = detectLibc()) {
  if (platform === 'linux') return `${platform}-${arch}-${libc}`;
  if (platform === 'win32') return `${platform}-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** `gnu` or `musl` on Linux (glibc reports its version in the process report; musl does not). */
function detectLibc() {
  if (process.platform !== 'linux') return 'gnu';
  const header = process.report?.getReport?.()?.header;
  return header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

/** The platform package and its .node file for one `platformArchABI`, from package.json's `napi` config. */
export function bindingNames(napiConfig, abi) {
  return {
    packageName: `${napiConfig.packageName}-${abi}`,
    fileName: `${napiConfig.binaryName}.${abi}.node`,
  };
}
