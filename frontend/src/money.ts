// Money in the panel: the hub keeps integer cents; people type and read amounts.

/** "12.5", "12,50" or "12" as cents (1250, 1250, 1200); null if it is no amount. */
export function parseAmount(text: string): number | null {
  const value = text.trim().replace(",", ".");
  if (!/^\d{1,9}(\.\d{0,2})?$/.test(value)) return null;
  const [whole, part = ""] = value.split(".");
  return Number(whole) * 100 + Number(part.padEnd(2, "0"));
}

/** Cents as an amount with two decimals in the reader's language (1234 -> "12.34"). */
export function formatAmount(cents: number, language: string): string {
  return new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(cents / 100);
}

/** Cents as the plain amount a form shows to edit (1250 -> "12.50"; none: ""). */
export function amountText(cents: number | null | undefined): string {
  if (cents === null || cents === undefined) return "";
  return `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
}

/** The month before ``now``'s as "YYYY-MM" (statements are made when it is over). */
export function lastMonth(now: Date = new Date()): string {
  const d = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}
