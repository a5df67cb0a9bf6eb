/** Stops what global-setup.ts started, and nothing else. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.lienthongTestStack?.teardown();
}
