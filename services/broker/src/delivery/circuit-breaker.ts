/**
 * One circuit per push subscription, per worker process: after `failureThreshold`
 * consecutive failed POSTs the circuit opens for `openMs`, and new events for that
 * subscription skip the first-attempt POST and go straight to its retry queue, so a dead
 * receiver never holds a first-attempt slot (shared/notes/broker-delivery.md). A retry
 * that succeeds closes it; retries themselves always run — they are the probes.
 */
export interface SubscriptionCircuits {
  isOpen(subscriptionId: string): boolean;
  onSuccess(subscriptionId: string): void;
  /** true when this failure opened the circuit. */
  onFailure(subscriptionId: string): boolean;
}

export function createSubscriptionCircuits(input: {
  failureThreshold: number;
  openMs: number;
  now?: () => number;
}): SubscriptionCircuits {
  const now = input.now ?? Date.now;
  const failures = new Map<string, number>();
  const openUntil = new Map<string, number>();
  return {
    isOpen(id) {
      const until = openUntil.get(id);
      if (until === undefined) return false;
      if (now() < until) return true;
      openUntil.delete(id); // half-open: the next first attempt is tried
      failures.set(id, input.failureThreshold - 1);
      return false;
    },
    onSuccess(id) {
      failures.delete(id);
      openUntil.delete(id);
    },
    onFailure(id) {
      const n = (failures.get(id) ?? 0) + 1;
      failures.set(id, n);
      if (n >= input.failureThreshold && !openUntil.has(id)) {
        openUntil.set(id, now() + input.openMs);
        return true;
      }
      return false;
    },
  };
}
