import { rawSetting } from '../../common/settings.js';

/** Where the embedded stack keeps its files: --state-dir, else NETCHECK_STATE_DIR, else ./.netcheck (git-ignored). */
export function stateDirDefault(): string {
  return rawSetting('NETCHECK_STATE_DIR') ?? '.netcheck';
}
