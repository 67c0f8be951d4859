// Remove the throwaway data directories once the run is over (the servers are stopped by
// Playwright itself).
import * as fs from 'node:fs';

export default async function teardown(): Promise<void> {
  const dir = process.env.SEALPOST_E2E_DIR;
  if (dir && dir.includes('sealpost-e2e-')) fs.rmSync(dir, { recursive: true, force: true });
}
