export { OptNativeError, fromNativeError, type ErrorCode } from './errors.js';
export { nativeBinding } from './native/binding.js';
