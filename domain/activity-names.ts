/**
 * netcheck's activity types: every activity is registered as `netcheck.<name>` (`netcheck.authorize`,
 * `netcheck.pollToken`, `netcheck.checkSimSwap`, …), so a host worker's own `authorize` never meets
 * netcheck's. `<name>` is the key of createActivities() (activities/index.ts).
 *
 * Runs recorded before the namespace (patch NAMESPACED_ACTIVITIES, workflows/patches.ts) keep
 * scheduling the bare names: Temporal's replay compares the activity type of every scheduled
 * activity. Workers serve those legacy names too until the plugin's `legacyActivityNames: false`
 * (CHANGELOG.md, "Compatibility", says until when they are served by default).
 *
 * Plain functions, no imports: safe in workflow code.
 */

/** The prefix of every netcheck activity type. */
export const ACTIVITY_NAMESPACE = 'netcheck.';

/**
 * The activity type a workflow schedules for netcheck's activity `name`: `netcheck.<name>`, or the
 * bare name for a run recorded before the namespace (`namespaced` = `patched(NAMESPACED_ACTIVITIES)`).
 */
export function activityType(name: string, namespaced = true): string {
  return namespaced ? `${ACTIVITY_NAMESPACE}${name}` : name;
}

/**
 * Every activity type a worker registers for netcheck's activity `name`: the namespaced one, and
 * the legacy bare one unless `legacy` is false (runs started before the namespace still schedule it).
 */
export function activityTypes(name: string, legacy = true): string[] {
  return legacy ? [activityType(name), name] : [activityType(name)];
}

/** netcheck's activity name behind an activity type: `netcheck.pollToken` and legacy `pollToken` → `pollToken`. */
export function activityName(type: string): string {
  return type.startsWith(ACTIVITY_NAMESPACE) ? type.slice(ACTIVITY_NAMESPACE.length) : type;
}
