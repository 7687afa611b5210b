// "Set up checkout" snippets: server-side code that carries the Faurya visitor and session into
// the provider's checkout, so the webhook that comes back can be attributed.

import type { Environment } from './types';

export interface Snippet {
  filename: string;
  language: string;
  code: string;
}

export function whopCheckoutSnippet(env: Environment, companyId: string | null): Snippet {
  const host = env === 'sandbox' ? 'https://sandbox-api.whop.com' : 'https://api.whop.com';
  return {
    filename: 'app/api/checkout/route.ts',
    language: 'TypeScript (Next.js App Router)',
    code: `import { cookies } from "next/headers";

// Whop ${env === 'sandbox' ? 'sandbox' : 'production'} API. Keep WHOP_API_KEY on the server only.
const WHOP_API = "${host}/api/v1";

// POST /api/checkout  { "planId": "plan_..." }  →  { "url": "https://whop.com/checkout/..." }
// The plan must belong to company ${companyId ?? 'biz_...'} in this environment.
export async function POST(req: Request) {
  const { planId } = await req.json();

  // Set by the Faurya tracking script on your marketing site.
  const jar = await cookies();
  const metadata = {
    faurya_visitor_id: jar.get("faurya_visitor_id")?.value ?? null,
    faurya_session_id: jar.get("faurya_session_id")?.value ?? null,
  };

  const res = await fetch(\`\${WHOP_API}/checkout_configurations\`, {
    method: "POST",
    headers: {
      Authorization: \`Bearer \${process.env.WHOP_API_KEY}\`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      plan_id: planId,
      // Whop copies this metadata onto the payment; Faurya reads it from the webhook.
      metadata,
      redirect_url: \`\${process.env.APP_URL}/thanks\`,
    }),
  });

  if (!res.ok) {
    console.error("Whop checkout failed", res.status, await res.text());
    return Response.json({ error: "checkout_failed" }, { status: 502 });
  }
  const checkout = await res.json();
  return Response.json({ url: checkout.purchase_url });
}
`,
  };
}

export function paddleCheckoutSnippet(env: Environment): Snippet {
  const host = env === 'sandbox' ? 'https://sandbox-api.paddle.com' : 'https://api.paddle.com';
  return {
    filename: 'app/api/checkout/route.ts',
    language: 'TypeScript (Next.js App Router)',
    code: `import { cookies } from "next/headers";

// Paddle ${env === 'sandbox' ? 'sandbox' : 'live'} API. Keep PADDLE_API_KEY on the server only.
const PADDLE_API = "${host}";

// POST /api/checkout  { "priceId": "pri_..." }  →  { "transactionId": "txn_...", "url": ... }
export async function POST(req: Request) {
  // faAttributionToken is optional: send it from the browser if your tracking setup has one.
  const { priceId, faAttributionToken } = await req.json();

  // Set by the Faurya tracking script on your marketing site.
  const jar = await cookies();
  const orderId = crypto.randomUUID(); // or the id of the order row in your database

  const res = await fetch(\`\${PADDLE_API}/transactions\`, {
    method: "POST",
    headers: {
      Authorization: \`Bearer \${process.env.PADDLE_API_KEY}\`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      items: [{ price_id: priceId, quantity: 1 }],
      // Paddle returns custom_data in every transaction webhook; Faurya reads it from there.
      custom_data: {
        orderId,
        faVisitorId: jar.get("faurya_visitor_id")?.value ?? null,
        faSessionId: jar.get("faurya_session_id")?.value ?? null,
        faAttributionToken: faAttributionToken ?? null,
      },
    }),
  });

  if (!res.ok) {
    console.error("Paddle transaction failed", res.status, await res.text());
    return Response.json({ error: "checkout_failed" }, { status: 502 });
  }
  const { data } = await res.json();
  // Open it with Paddle.js: Paddle.Checkout.open({ transactionId }),
  // or redirect to data.checkout.url when a default payment link is set in Paddle.
  return Response.json({ transactionId: data.id, url: data.checkout?.url ?? null, orderId });
}
`,
  };
}
