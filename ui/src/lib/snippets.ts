// "Set up checkout" snippets: server-side code that carries the Faurya visitor and session into
// the provider's checkout, so the webhook that comes back can be attributed.

import type { Environment } from './types';

export interface Snippet {
  filename: string;
  language: string;
  code: string;
}

export function whopCheckoutSnippet(env: Environment, companyId: string | null): Snippet {
  const host = whopHost(env);
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
  const host = paddleHost(env);
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

// ---- the same route in other stacks ------------------------------------------------------------
// Each reads the faurya_visitor_id / faurya_session_id cookies the tracking script sets on the
// founder's site (and the attribution token when the page sends it along) and puts them into the
// provider's checkout metadata (Whop) or custom_data (Paddle), as the Next.js route above does.

export type CheckoutStack = 'nextjs' | 'express' | 'python' | 'curl';

export interface CheckoutVariant {
  id: CheckoutStack;
  /** The tab's name. */
  label: string;
  snippet: Snippet;
}

function whopHost(env: Environment): string {
  return env === 'sandbox' ? 'https://sandbox-api.whop.com' : 'https://api.whop.com';
}

function paddleHost(env: Environment): string {
  return env === 'sandbox' ? 'https://sandbox-api.paddle.com' : 'https://api.paddle.com';
}

const EXPRESS = 'JavaScript (Node.js + Express)';
const FLASK = 'Python (Flask + requests)';
const CURL = 'Shell (curl)';

/** An Express app with JSON bodies and cookies, around one checkout route. */
function expressApp(requires: string, api: [name: string, url: string], route: string): string {
  return `// npm install express cookie-parser   (Node 18+ has fetch built in)
${requires}const express = require("express");
const cookieParser = require("cookie-parser");

const ${api[0]} = "${api[1]}";
const app = express();
app.use(express.json());
app.use(cookieParser());

${route}
app.listen(3000);
`;
}

/** A Flask app around one checkout route. */
function flaskApp(imports: string, api: [name: string, url: string], route: string): string {
  return `# pip install flask requests
import os
${imports}
import requests
from flask import Flask, jsonify, request

${api[0]} = "${api[1]}"
app = Flask(__name__)


${route}`;
}

/** The call a server makes when a visitor clicks Buy, with the ids to fill in. */
function curlCall(url: string, keyEnv: string, json: string, after: string): string {
  return `# What your server sends when a visitor clicks Buy. Fill the two ids from the
# faurya_visitor_id and faurya_session_id cookies of that visitor's request
# (and the token from window.__FAURYA_ATTRIBUTION_TOKEN__, if the page sends it).
curl -sS -X POST "${url}" \\
  -H "Authorization: Bearer $${keyEnv}" \\
  -H "Content-Type: application/json" \\
  -d '${json}'
# ${after}
`;
}

function whopExpress(env: Environment, companyId: string | null): Snippet {
  const route = `// POST /api/checkout  { "planId": "plan_...", "faAttributionToken"?: "..." }
// The plan must belong to company ${companyId ?? 'biz_...'} in this environment.
app.post("/api/checkout", async (req, res) => {
  const { planId, faAttributionToken } = req.body;
  const answer = await fetch(\`\${WHOP_API}/checkout_configurations\`, {
    method: "POST",
    headers: {
      Authorization: \`Bearer \${process.env.WHOP_API_KEY}\`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({
      plan_id: planId,
      // Whop copies this metadata onto the payment; Faurya reads it from the webhook.
      metadata: {
        faurya_visitor_id: req.cookies.faurya_visitor_id ?? null,
        faurya_session_id: req.cookies.faurya_session_id ?? null,
        faurya_attribution_token: faAttributionToken ?? null,
      },
      redirect_url: \`\${process.env.APP_URL}/thanks\`,
    }),
  });
  if (!answer.ok) {
    console.error("Whop checkout failed", answer.status, await answer.text());
    return res.status(502).json({ error: "checkout_failed" });
  }
  const checkout = await answer.json();
  res.json({ url: checkout.purchase_url });
});
`;
  return {
    filename: 'checkout.js',
    language: EXPRESS,
    code: expressApp('', ['WHOP_API', `${whopHost(env)}/api/v1`], route),
  };
}

function paddleExpress(env: Environment): Snippet {
  const route = `// POST /api/checkout  { "priceId": "pri_...", "faAttributionToken"?: "..." }
app.post("/api/checkout", async (req, res) => {
  const { priceId, faAttributionToken } = req.body;
  const orderId = crypto.randomUUID(); // or the id of the order row in your database
  const answer = await fetch(\`\${PADDLE_API}/transactions\`, {
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
        faVisitorId: req.cookies.faurya_visitor_id ?? null,
        faSessionId: req.cookies.faurya_session_id ?? null,
        faAttributionToken: faAttributionToken ?? null,
      },
    }),
  });
  if (!answer.ok) {
    console.error("Paddle transaction failed", answer.status, await answer.text());
    return res.status(502).json({ error: "checkout_failed" });
  }
  const { data } = await answer.json();
  // Open it with Paddle.js: Paddle.Checkout.open({ transactionId }).
  res.json({ transactionId: data.id, url: data.checkout?.url ?? null, orderId });
});
`;
  return {
    filename: 'checkout.js',
    language: EXPRESS,
    code: expressApp('const crypto = require("node:crypto");\n', ['PADDLE_API', paddleHost(env)], route),
  };
}

function whopPython(env: Environment, companyId: string | null): Snippet {
  const route = `# POST /api/checkout  {"planId": "plan_...", "faAttributionToken"?: "..."}
# The plan must belong to company ${companyId ?? 'biz_...'} in this environment.
@app.post("/api/checkout")
def checkout():
    body = request.get_json()
    res = requests.post(
        f"{WHOP_API}/checkout_configurations",
        headers={"Authorization": f"Bearer {os.environ['WHOP_API_KEY']}"},
        json={
            "plan_id": body["planId"],
            # Whop copies this metadata onto the payment; Faurya reads it from the webhook.
            "metadata": {
                "faurya_visitor_id": request.cookies.get("faurya_visitor_id"),
                "faurya_session_id": request.cookies.get("faurya_session_id"),
                "faurya_attribution_token": body.get("faAttributionToken"),
            },
            "redirect_url": f"{os.environ['APP_URL']}/thanks",
        },
        timeout=15,
    )
    if not res.ok:
        app.logger.error("Whop checkout failed: %s %s", res.status_code, res.text)
        return jsonify(error="checkout_failed"), 502
    return jsonify(url=res.json()["purchase_url"])
`;
  return {
    filename: 'checkout.py',
    language: FLASK,
    code: flaskApp('', ['WHOP_API', `${whopHost(env)}/api/v1`], route),
  };
}

function paddlePython(env: Environment): Snippet {
  const route = `# POST /api/checkout  {"priceId": "pri_...", "faAttributionToken"?: "..."}
@app.post("/api/checkout")
def checkout():
    body = request.get_json()
    order_id = str(uuid.uuid4())  # or the id of the order row in your database
    res = requests.post(
        f"{PADDLE_API}/transactions",
        headers={"Authorization": f"Bearer {os.environ['PADDLE_API_KEY']}"},
        json={
            "items": [{"price_id": body["priceId"], "quantity": 1}],
            # Paddle returns custom_data in every transaction webhook; Faurya reads it there.
            "custom_data": {
                "orderId": order_id,
                "faVisitorId": request.cookies.get("faurya_visitor_id"),
                "faSessionId": request.cookies.get("faurya_session_id"),
                "faAttributionToken": body.get("faAttributionToken"),
            },
        },
        timeout=15,
    )
    if not res.ok:
        app.logger.error("Paddle transaction failed: %s %s", res.status_code, res.text)
        return jsonify(error="checkout_failed"), 502
    data = res.json()["data"]
    # Open it with Paddle.js: Paddle.Checkout.open({transactionId}).
    return jsonify(transactionId=data["id"], url=(data.get("checkout") or {}).get("url"), orderId=order_id)
`;
  return {
    filename: 'checkout.py',
    language: FLASK,
    code: flaskApp('import uuid\n', ['PADDLE_API', paddleHost(env)], route),
  };
}

function whopCurl(env: Environment): Snippet {
  const json = `{
    "plan_id": "plan_...",
    "metadata": {
      "faurya_visitor_id": "VISITOR_ID_FROM_COOKIE",
      "faurya_session_id": "SESSION_ID_FROM_COOKIE",
      "faurya_attribution_token": "TOKEN_OR_NULL"
    },
    "redirect_url": "https://your-app.example/thanks"
  }`;
  return {
    filename: 'checkout.sh',
    language: CURL,
    code: curlCall(
      `${whopHost(env)}/api/v1/checkout_configurations`,
      'WHOP_API_KEY',
      json,
      'Redirect the visitor to the purchase_url in the answer.',
    ),
  };
}

function paddleCurl(env: Environment): Snippet {
  const json = `{
    "items": [{ "price_id": "pri_...", "quantity": 1 }],
    "custom_data": {
      "orderId": "ORDER_ID",
      "faVisitorId": "VISITOR_ID_FROM_COOKIE",
      "faSessionId": "SESSION_ID_FROM_COOKIE",
      "faAttributionToken": "TOKEN_OR_NULL"
    }
  }`;
  return {
    filename: 'checkout.sh',
    language: CURL,
    code: curlCall(
      `${paddleHost(env)}/transactions`,
      'PADDLE_API_KEY',
      json,
      'Open data.id with Paddle.js: Paddle.Checkout.open({ transactionId }).',
    ),
  };
}

/** The checkout route for a connection in each stack, Next.js first. */
export function checkoutVariants(provider: string, env: Environment, companyId: string | null): CheckoutVariant[] {
  const whop = provider === 'whop';
  return [
    {
      id: 'nextjs',
      label: 'Next.js',
      snippet: whop ? whopCheckoutSnippet(env, companyId) : paddleCheckoutSnippet(env),
    },
    { id: 'express', label: 'Node / Express', snippet: whop ? whopExpress(env, companyId) : paddleExpress(env) },
    { id: 'python', label: 'Python', snippet: whop ? whopPython(env, companyId) : paddlePython(env) },
    { id: 'curl', label: 'curl', snippet: whop ? whopCurl(env) : paddleCurl(env) },
  ];
}
