/** What `spl apply` did to one item of the hub document. */
export type ApplyResult = 'created' | 'updated' | 'unchanged' | 'transitioned' | 'pending' | 'refused';

export interface ApplyItem {
  kind: string;
  id: string;
  result: ApplyResult;
  detail?: string;
}

/** Credentials created by this apply, handed back once (never written to a log). */
export interface IssuedCredential {
  kind: string;
  id: string;
  clientId: string;
  clientSecret: string;
}

export class ApplyReport {
  readonly items: ApplyItem[] = [];
  readonly issuedCredentials: IssuedCredential[] = [];

  add(kind: string, id: string, result: ApplyResult, detail?: string): void {
    this.items.push({ kind, id, result, ...(detail ? { detail } : {}) });
  }

  get changed(): boolean {
    return this.items.some(
      (i) => i.result === 'created' || i.result === 'updated' || i.result === 'transitioned',
    );
  }
}
