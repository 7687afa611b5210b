// Locations shared by the browser tests.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const uiDist = path.join(repoRoot, 'ui', 'dist');
export const screenshotDir = path.join(repoRoot, 'docs', 'screenshots');
