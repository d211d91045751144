/**
 * Helpers for the flows contract (bills, fund movements, orders, invoices)
 * that its interface cannot say: masked and salted settlement accounts, the
 * ids of the movements a request makes, business days and amounts in fen.
 */

import { sha256, toHex, utf8 } from './bytes.js';
import { InvalidInputError } from './errors.js';

/** A settlement account as the ledger holds it: the bank, the masked number and `SHA-256(salt ‖ number)`. */
export interface Account {
  bank: string;
  masked: string;
  number_hash: string;
}

/**
 * The account `number` (8 to 32 digits) at `bank` as the ledger may hold it:
 * masked (at most the first and last four digits shown, at least four
 * hidden) with the digest `SHA-256(salt ‖ number)`. Keep the salt (at least
 * 16 bytes) to prove the number later; without it the digest tells nothing.
 */
export function account(bank: string, number: string, salt: Uint8Array): Account {
  if (!/^[0-9]*$/.test(number)) throw new InvalidInputError('an account number is digits only (no spaces, letters or dashes)');
  if (number.length < 8 || number.length > 32) throw new InvalidInputError(`an account number has 8 to 32 digits, this one ${number.length}`);
  if (salt.length < 16) throw new InvalidInputError('the account salt must be at least 16 bytes');
  const shown = Math.min(Math.floor((number.length - 4) / 2), 4);
  return {
    bank,
    masked: `${number.slice(0, shown)}****${number.slice(number.length - shown)}`,
    number_hash: toHex(sha256(salt, utf8(number))),
  };
}

/** The id of a discount's disbursement movement: `<request>.disb`. */
export function disbursementId(request: string): string {
  return `${request}.disb`;
}

/** The id of the payment movement of a presentment or recourse claim: `<request>.pay`. */
export function paymentId(request: string): string {
  return `${request}.pay`;
}

/** A calendar date as the flows contract's interface gives it. */
export interface LedgerDate {
  year: number;
  month: number;
  day: number;
}

/** The business day (China Standard Time) `offsetDays` from the day of `nowMs` (default: now). */
export function businessDay(offsetDays = 0, nowMs = Date.now()): LedgerDate {
  const d = new Date(nowMs + 8 * 3_600_000 + offsetDays * 86_400_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Yuan as written (`1,000,000.50`, `0.01`) in whole fen; at most two decimals, more than zero. */
export function yuanToFen(text: string): number {
  const m = /^([0-9]{1,3}(?:,[0-9]{3})*|[0-9]+)(?:\.([0-9]{1,2}))?$/.exec(text.trim());
  if (!m) throw new InvalidInputError(`${JSON.stringify(text)} is not an amount of yuan with at most two decimals`);
  const fen = BigInt(m[1]!.replaceAll(',', '')) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
  if (fen === 0n || fen > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidInputError(`${text} is not a positive amount a number can hold`);
  return Number(fen);
}
