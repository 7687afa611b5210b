// A sign-in link that did not work. The server answers a bad `/login?token=…` with a redirect to
// `/?signin=invalid&token_file=<path>`: the path of the admin-token file, or empty when the token
// comes from the FAURYA_ADMIN_TOKEN environment variable. The sign-in card says so.

export interface BadLink {
  /** Where the admin token is: the file's absolute path, or null for FAURYA_ADMIN_TOKEN. */
  tokenFile: string | null;
}

/** The bad link the page's query reports, or null. */
export function badSignInLink(search: string): BadLink | null {
  const q = new URLSearchParams(search);
  if (q.get('signin') !== 'invalid') return null;
  const file = (q.get('token_file') ?? '').trim();
  return { tokenFile: file || null };
}

/** The page's query without the sign-in report (after a reload the card is plain again). */
export function withoutSignInReport(search: string): string {
  const q = new URLSearchParams(search);
  q.delete('signin');
  q.delete('token_file');
  const rest = q.toString();
  return rest ? `?${rest}` : '';
}
