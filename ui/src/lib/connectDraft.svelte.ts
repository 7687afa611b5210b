// What the founder typed into the connect forms (Revenue), kept while they move around the app:
// "Open Settings" to choose a tunnel, then back, finds the key and Company ID where they were.
// In memory only (never written to storage); cleared once the connection is made.

import type { Environment, Provider } from './types';

class ConnectDraft {
  provider = $state<Provider>('whop');
  whop = $state({ apiKey: '', companyId: '', environment: 'production' as Environment });
  paddle = $state({ apiKey: '', environment: 'production' as Environment });

  /** Forget what was typed for `provider` (after it connected). */
  clear(provider: Provider) {
    // In place: the forms hold on to these objects.
    if (provider === 'whop') {
      this.whop.apiKey = '';
      this.whop.companyId = '';
    } else this.paddle.apiKey = '';
  }
}

export const connectDraft = new ConnectDraft();
