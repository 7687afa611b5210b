// The app-wide alarm while deliveries are at risk (lib/deliveryPath's risks over the settings and
// every site's connections): the banner above every page and the dots on the sidebar entries
// where each risk is fixed. The data follows the live stream (App.svelte reloads it).

import { deliveryRisks } from './deliveryPath';
import { allConnections, settings } from './resource.svelte';
import type { PageId } from './router.svelte';

class DeliveryAlarm {
  readonly risks = $derived(deliveryRisks(settings.data, allConnections.data));
  /** The pages where a risk is fixed (the sidebar marks them). */
  readonly pages = $derived(new Set<PageId>(this.risks.map((r) => r.fix.page)));
}

export const deliveryAlarm = new DeliveryAlarm();
