/** The `herald` package's library entry: the API client and the receiver-side verifier. */
export * from './client/index.ts';
export * from './verify/index.ts';
