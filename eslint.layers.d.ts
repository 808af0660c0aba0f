// Types of eslint.layers.js for the tests that read it.
export declare const LAYERS: readonly (readonly string[])[];
export declare const KNOWN_UPWARD_IMPORTS: Readonly<Record<string, readonly string[]>>;
export declare function layerRules(exceptions?: Readonly<Record<string, readonly string[]>>): object[];
