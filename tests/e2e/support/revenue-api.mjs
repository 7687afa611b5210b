// The revenue API as a founder's server calls it: POST {publicUrl}/api/revenue with the site id and
// write key headers (DESIGN.md, "Tracking and attribution").

/**
 * @param {string} publicUrl the app's public listener
 * @param {{ siteId: string, writeKey: string }} site
 * @param {unknown} body
 * @returns {Promise<{ status: number, json: any }>}
 */
export async function postRevenue(publicUrl, { siteId, writeKey }, body) {
  const res = await fetch(`${publicUrl}/api/revenue`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-faurya-site-id': siteId, 'x-faurya-write-key': writeKey },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}
