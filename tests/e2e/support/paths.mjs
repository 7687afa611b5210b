// Locations shared by the browser tests.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const uiDist = path.join(repoRoot, 'ui', 'dist');
/** Everything a run leaves behind (gitignored): screenshots, failure captures. */
export const artifactsDir = path.join(repoRoot, 'tests', 'e2e', 'artifacts');
/**
 * Where screenshots go: tests/e2e/artifacts/screenshots by default, so a test run never rewrites
 * tracked files; docs/screenshots with UPDATE_SCREENSHOTS=1, to refresh the documentation.
 */
export const screenshotDir =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? path.join(repoRoot, 'docs', 'screenshots')
    : path.join(artifactsDir, 'screenshots');

/**
 * Save a screenshot named `name` (without .png) in `screenshotDir`. The pointer is moved out of
 * the way first (no stray hover states). `fullPage` grows the viewport to the page's height
 * instead of stitching, so the sticky, full-height sidebar looks as it does on a tall screen.
 */
export async function shot(page, name, { fullPage = false } = {}) {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  const viewport = page.viewportSize();
  await page.mouse.move(viewport.width - 1, viewport.height - 1);
  await nextFrames(page); // a theme switched just before must be painted
  if (!fullPage) {
    await page.screenshot({ path: file });
    return;
  }
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (height <= viewport.height) {
    await page.screenshot({ path: file });
    return;
  }
  await page.setViewportSize({ width: viewport.width, height });
  try {
    await nextFrames(page);
    await page.screenshot({ path: file });
  } finally {
    await page.setViewportSize(viewport);
  }
}

function nextFrames(page) {
  return page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/**
 * Save a screenshot of one part of the page (a card), with a margin of the page around it, in
 * `screenshotDir` as `name`.png. The viewport grows if the part is taller than it.
 */
export async function shotOf(page, locator, name, { pad = 16 } = {}) {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  const viewport = page.viewportSize();
  await locator.scrollIntoViewIfNeeded();
  await page.mouse.move(viewport.width - 1, viewport.height - 1);
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (height > viewport.height) await page.setViewportSize({ width: viewport.width, height });
  try {
    await nextFrames(page);
    const box = await locator.boundingBox();
    if (!box) throw new Error(`${name}: nothing to capture (not visible)`);
    const x = Math.max(0, box.x - pad);
    const y = Math.max(0, box.y - pad);
    await page.screenshot({
      path: file,
      clip: { x, y, width: Math.min(box.width + 2 * pad, viewport.width - x), height: box.height + 2 * pad },
    });
  } finally {
    await page.setViewportSize(viewport);
  }
}
