import { describe, expect, it } from 'vitest';
import { api } from './api';
import {
  attributionStatus,
  compareTotals,
  emptyReason,
  foldTimeline,
  formatGap,
  journeyTimeline,
  keyLabel,
  markReason,
  pagesPreview,
  sourceLabel,
  totalsIncludeUnattributed,
  visitorTimeline,
  withCompareBars,
  withNetBars,
  type TimelineItem,
} from './attribution';
import { NAV, PAGES, parseHash } from './router.svelte';
import {
  providerName,
  type AttributionCompare,
  type AttributionReport,
  type Journey,
  type Payment,
  type SessionSummary,
  type Touch,
} from './types';

function payment(over: Partial<Payment> = {}): Payment {
  return {
    id: 1,
    provider: 'whop',
    connection_id: 'con_1',
    provider_payment_id: 'pay_1',
    amount_minor: 4900,
    currency: 'USD',
    status: 'succeeded',
    refunded_minor: 0,
    net_minor: 4900,
    visitor_id: null,
    session_id: null,
    attribution_token: null,
    order_id: null,
    customer_email: null,
    paid_at: '2026-03-10T12:00:00Z',
    created_at: '2026-03-10T12:00:00Z',
    delivery_id: 'd_1',
    refunds: [],
    ...over,
  };
}

function session(id: string, started_at: string, channel = 'Direct'): SessionSummary {
  return {
    id,
    visitor_id: 'v_1',
    site_id: 'site_1',
    started_at,
    last_seen_at: started_at,
    landing_page: '/',
    referrer: null,
    source: null,
    utm_source: null,
    utm_medium: null,
    utm_campaign: null,
    utm_term: null,
    utm_content: null,
    click_id: null,
    channel,
    pageviews: 1,
  };
}

const touch = (s: SessionSummary): Touch => ({
  session_id: s.id,
  channel: s.channel,
  source: s.source,
  campaign: s.utm_campaign,
  landing_page: s.landing_page,
  referrer: s.referrer,
  started_at: s.started_at,
});

describe('a payment mark', () => {
  it('uses the API status, else reads an older backend from the ids', () => {
    expect(attributionStatus(payment({ attribution_status: 'unverified' }))).toBe('unverified');
    expect(attributionStatus(payment({ visitor_id: 'v_1' }))).toBe('ids');
    expect(attributionStatus(payment({ attributed: false, visitor_id: 'v_1' }))).toBe('none');
    expect(attributionStatus(payment())).toBe('none');
  });

  it("gives the server's reason as a sentence, else what the mark means", () => {
    expect(
      markReason(payment({ attribution_status: 'unverified', attribution_note: 'the attribution token expired' })),
    ).toBe('The attribution token expired.');
    expect(
      markReason(payment({ attribution_status: 'ids', attribution_note: 'visitor known, session unknown.' })),
    ).toBe('Visitor known, session unknown.');
    expect(markReason(payment({ attribution_status: 'verified' }))).toMatch(/signed attribution token/);
  });

  it('names the sources', () => {
    expect(sourceLabel('api')).toBe('API');
    expect(sourceLabel('backfill')).toBe('Backfill');
    expect(sourceLabel(undefined)).toBe('—');
  });

  it('capitalizes a provider named only through the revenue API', () => {
    expect(providerName('whop')).toBe('Whop');
    expect(providerName('stripe')).toBe('Stripe');
    expect(providerName('api')).toBe('Revenue API');
  });
});

describe('the report', () => {
  const row = (key: string | null, net_minor: number, payments = 1, visitors = 10) => ({
    key,
    visitors,
    payments,
    net_minor,
    currency: 'USD',
    conversion_rate: visitors ? payments / visitors : null,
    revenue_per_visitor_minor: visitors ? Math.round(net_minor / visitors) : null,
  });
  const report = (over: Partial<AttributionReport> = {}): AttributionReport => ({
    model: 'last_touch',
    by: 'channel',
    currency: 'USD',
    currencies: ['USD'],
    days: 30,
    since: '2026-02-10T00:00:00Z',
    rows: [row('Email', 9900), row('Direct', 4900)],
    totals: {
      visitors: 20,
      payments: 3,
      net_minor: 19700,
      conversion_rate: 0.15,
      revenue_per_visitor_minor: 985,
    },
    unattributed: { payments: 1, net_minor: 4900 },
    ...over,
  });

  it('labels missing keys by what they mean', () => {
    expect(keyLabel('campaign', null)).toBe('No campaign');
    expect(keyLabel('source', '')).toBe('Direct / none');
    expect(keyLabel('referrer', null)).toBe('Direct / none');
    expect(keyLabel('landing_page', null)).toBe('(unknown page)');
    expect(keyLabel('campaign', '(none)')).toBe('No campaign');
    expect(keyLabel('channel', 'Email')).toBe('Email');
  });

  it('draws bars against the largest net revenue, none for zero', () => {
    expect(withNetBars([row('a', 10000), row('b', 2500), row('c', 0)]).map((r) => r.bar)).toEqual([100, 25, 0]);
  });

  it('puts the three models of a comparison on one scale and sums each', () => {
    const c: AttributionCompare = {
      by: 'channel',
      currency: 'USD',
      currencies: ['USD'],
      days: 30,
      since: '2026-02-10T00:00:00Z',
      rows: [
        {
          key: 'Direct',
          visitors: 50,
          first_touch: { payments: 1, net_minor: 1000 },
          last_touch: { payments: 4, net_minor: 8000 },
          last_non_direct: { payments: 1, net_minor: 1000 },
        },
        {
          key: 'Email',
          visitors: 10,
          first_touch: { payments: 3, net_minor: 7000 },
          last_touch: { payments: 0, net_minor: 0 },
          last_non_direct: { payments: 3, net_minor: 7000 },
        },
      ],
    };
    const bars = withCompareBars(c.rows);
    expect(bars[0].bars).toEqual({ first_touch: 12.5, last_touch: 100, last_non_direct: 12.5 });
    expect(bars[1].bars.last_touch).toBe(0);
    expect(compareTotals(c)).toEqual({
      first_touch: { payments: 4, net_minor: 8000 },
      last_touch: { payments: 4, net_minor: 8000 },
      last_non_direct: { payments: 4, net_minor: 8000 },
    });
  });

  it('tells whether the total counts the unattributed payments', () => {
    expect(totalsIncludeUnattributed(report())).toBe(true);
    expect(totalsIncludeUnattributed(report({ totals: { ...report().totals, payments: 2 } }))).toBe(false);
    expect(totalsIncludeUnattributed(report({ unattributed: { payments: 0, net_minor: 0 } }))).toBe(false);
  });

  it('knows why a report is empty', () => {
    expect(emptyReason(report(), true)).toBeNull();
    const none = { rows: [], currencies: [], currency: 'USD' };
    expect(emptyReason(none, false)).toBe('no-payments');
    expect(emptyReason(none, true)).toBe('none-in-range');
    expect(emptyReason({ rows: [], currencies: ['EUR'], currency: 'USD' }, true)).toBe('other-currency');
    // Visitors but no payment credited: the payments came without ids.
    expect(emptyReason({ rows: [row('Email', 0, 0)], currencies: ['USD'], currency: 'USD' }, true)).toBe(
      'none-attributed',
    );
  });
});

describe('journeys', () => {
  const a = session('s_a', '2026-03-01T09:00:00Z', 'Organic Search');
  const b = session('s_b', '2026-03-08T10:00:00Z', 'Direct');

  it('lists the visits, oldest first, tagged with their models, then the payment', () => {
    const j: Journey = {
      payment: payment({ id: 7, paid_at: '2026-03-08T10:20:00Z' }),
      visitor_id: 'v_1',
      sessions: [
        {
          ...a,
          pages: [{ name: 'pageview', path: '/', at: a.started_at }],
          touches: ['last_non_direct', 'first_touch'],
        },
        { ...b, pages: [], touches: ['last_touch'] },
      ],
    };
    const items = journeyTimeline(j);
    expect(items.map((x) => x.key)).toEqual(['s:s_a', 's:s_b', 'p:7']);
    const first = items[0] as Extract<TimelineItem, { kind: 'visit' }>;
    expect(first.touches.map((t) => t.model)).toEqual(['first_touch', 'last_non_direct']);
    expect(items[2]).toMatchObject({ kind: 'payment', current: true, at: '2026-03-08T10:20:00Z' });
  });

  it("interleaves a visitor's visits and payments and tags the credited visits per payment", () => {
    const c = session('s_c', '2026-03-20T08:00:00Z', 'Email');
    const p1 = payment({
      id: 1,
      paid_at: '2026-03-08T10:20:00Z',
      models: { first_touch: touch(a), last_touch: touch(b), last_non_direct: touch(a) },
    });
    const p2 = payment({
      id: 2,
      amount_minor: 14900,
      paid_at: '2026-03-20T08:30:00Z',
      models: { first_touch: touch(a), last_touch: touch(c), last_non_direct: touch(c) },
    });
    const items = visitorTimeline([c, b, a], [p2, p1]);
    expect(items.map((x) => x.key)).toEqual(['s:s_a', 's:s_b', 'p:1', 's:s_c', 'p:2']);
    const tags = (items[0] as Extract<TimelineItem, { kind: 'visit' }>).touches.map(
      (t) => `${t.model}:${t.payment?.id}`,
    );
    expect(tags).toEqual(['first_touch:1', 'last_non_direct:1', 'first_touch:2']);
  });

  it('names no payment on the tags of a visitor with a single one', () => {
    const p = payment({ models: { first_touch: touch(a), last_touch: touch(a), last_non_direct: touch(a) } });
    const visit = visitorTimeline([a], [p])[0] as Extract<TimelineItem, { kind: 'visit' }>;
    expect(visit.touches.every((t) => t.payment === undefined)).toBe(true);
  });

  it('folds the plain middle of a long journey and keeps credited visits and the ends', () => {
    const visits = Array.from({ length: 12 }, (_, i) =>
      session(`s_${i}`, `2026-03-${String(i + 1).padStart(2, '0')}T09:00:00Z`),
    );
    const j: Journey = {
      payment: payment({ id: 9, paid_at: '2026-03-13T09:00:00Z' }),
      visitor_id: 'v_1',
      sessions: visits.map((s, i) => ({ ...s, pages: [], touches: i === 6 ? ['last_non_direct'] : [] })),
    };
    const folded = foldTimeline(journeyTimeline(j));
    expect(folded.map((e) => (e.kind === 'fold' ? `fold ${e.hidden} from ${e.first}` : e.item.key))).toEqual([
      's:s_0',
      's:s_1',
      'fold 4 from s:s_2',
      's:s_6',
      'fold 3 from s:s_7',
      's:s_10',
      's:s_11',
      'p:9',
    ]);
    expect(foldTimeline(journeyTimeline({ ...j, sessions: j.sessions.slice(0, 5) }))).toHaveLength(6);
  });

  it('says how much later, in words', () => {
    expect(formatGap('2026-03-01T09:00:00Z', '2026-03-01T09:00:30Z')).toBe('moments later');
    expect(formatGap('2026-03-01T09:00:00Z', '2026-03-01T09:40:00Z')).toBe('40 min later');
    expect(formatGap('2026-03-01T09:00:00Z', '2026-03-01T10:10:00Z')).toBe('1 hour later');
    expect(formatGap('2026-03-01T09:00:00Z', '2026-03-04T09:00:00Z')).toBe('3 days later');
    expect(formatGap('2026-01-01T09:00:00Z', '2026-06-01T09:00:00Z')).toBe('5 months later');
  });

  it('previews the first pages of a visit', () => {
    const pages = ['/', '/pricing', '/features', '/docs', '/signup', '/checkout', '/thanks'].map((path) => ({
      name: 'pageview',
      path,
      at: '2026-03-01T09:00:00Z',
    }));
    expect(pagesPreview(pages)).toMatchObject({ more: 2 });
    expect(pagesPreview(pages, Infinity).shown).toHaveLength(7);
  });
});

describe('routes and downloads', () => {
  it('opens a visitor at #/visitors/<id>, not a sidebar entry', () => {
    expect(parseHash('#/visitors/v_8f3a2c?site=site_1')).toEqual({
      page: 'visitors',
      param: 'v_8f3a2c',
      site: 'site_1',
      filters: {},
    });
    expect(NAV.map((p) => p.id)).not.toContain('visitors');
    expect(PAGES.find((p) => p.id === 'visitors')?.section).toBe('sessions');
  });

  it('builds the CSV links of what is shown', () => {
    expect(api.paymentsCsvUrl('site_1')).toBe('/api/payments.csv?site=site_1');
    expect(api.paymentsCsvUrl(null)).toBe('/api/payments.csv');
    const q = { site: 'site_1', days: 30, currency: 'EUR', model: 'first_touch', by: 'landing_page' } as const;
    expect(api.attributionCsvUrl(q)).toBe(
      '/api/attribution.csv?site=site_1&days=30&currency=EUR&model=first_touch&by=landing_page',
    );
    expect(api.attributionCsvUrl({ ...q, currency: null }, true)).toBe(
      '/api/attribution/compare.csv?site=site_1&days=30&by=landing_page',
    );
  });
});
