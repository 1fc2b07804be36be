import type { WxCodeState } from "./Store.ts";

/** A wx_codes row as both stores read it (times as numbers). */
export interface WxCodeRow {
  use_name: string;
  state: "running" | "answered" | "spent" | "open";
  holder: string;
  sealed_answer: string | null;
  lease_until: number;
  expires_at: number;
}

/**
 * The state a claimer reports for an entry it did not take. An entry that expired between
 * the claim and this read (or a lease that just ran out) reads as `held` until its end, so
 * the caller's next claim, after a short wait, takes it.
 */
export function wxCodeState(row: WxCodeRow): WxCodeState {
  const use = row.use_name;
  if (row.state === "answered" && row.sealed_answer !== null) return { status: "answered", use, sealed: row.sealed_answer };
  if (row.state === "spent" || row.state === "answered") return { status: "spent", use };
  if (row.state === "open") return { status: "open", use };
  return { status: "held", use, leaseUntil: row.lease_until };
}
