/**
 * The Mobile Country Code (MCC, ITU-T E.212) of a country, where the country has exactly one:
 * CAMARA Device Status reports a roaming country as an MCC (`countryCode`), Identity Insights
 * as ISO 3166-1 alpha-2. Countries with several MCCs (GB: 234 and 235, US: 310–316, IN, JP, …)
 * have no single answer, so they get none.
 *
 * The table comes from the `mcc-mnc-list` package (network codes as listed on Wikipedia),
 * loaded on first use. An MCC belongs to the country most of its networks are listed under
 * (a few networks are listed under a neighbour whose MCC they borrow).
 */
let byCountry: Promise<Map<string, number>> | undefined;

async function buildTable(): Promise<Map<string, number>> {
  const { default: list } = await import('mcc-mnc-list');
  // mcc → country → networks listed
  const counts = new Map<string, Map<string, number>>();
  for (const record of list.all()) {
    const { mcc, countryCode, type } = record as { mcc?: unknown; countryCode?: unknown; type?: unknown };
    if (type !== 'National' || typeof mcc !== 'string' || !/^\d{3}$/.test(mcc)) continue;
    if (typeof countryCode !== 'string' || !/^[A-Z]{2}$/.test(countryCode)) continue;
    const perCountry = counts.get(mcc) ?? new Map<string, number>();
    perCountry.set(countryCode, (perCountry.get(countryCode) ?? 0) + 1);
    counts.set(mcc, perCountry);
  }
  // country → its own MCCs
  const owned = new Map<string, Set<string>>();
  for (const [mcc, perCountry] of counts) {
    const [owner] = [...perCountry].sort((a, b) => b[1] - a[1])[0] ?? [];
    if (owner === undefined) continue;
    const set = owned.get(owner) ?? new Set<string>();
    set.add(mcc);
    owned.set(owner, set);
  }
  const table = new Map<string, number>();
  for (const [country, mccs] of owned) {
    if (mccs.size === 1) table.set(country, Number([...mccs][0]));
  }
  return table;
}

/** The one MCC of an ISO 3166-1 alpha-2 country, or undefined when it has none or several. */
export async function mccOfCountry(alpha2: string): Promise<number | undefined> {
  byCountry ??= buildTable();
  return (await byCountry).get(alpha2.toUpperCase());
}
