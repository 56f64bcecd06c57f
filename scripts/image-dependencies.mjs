/**
 * For the Docker image's runtime stage: makes the optional peer dependencies a worker needs
 * (@temporalio/worker, the tracing packages; everything in peerDependenciesMeta but
 * @temporalio/testing) dependencies of ./package.json, pinned to the versions package-lock.json
 * holds. A production install (`--omit=dev`) leaves optional peers out, and netcheck lists them
 * as optional so that an application that only starts checks stays small; the image runs a
 * worker, so it needs them. Run it after `npm ci --omit=dev`, then `npm install --omit=dev`.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const added = [];
for (const name of Object.keys(pkg.peerDependenciesMeta ?? {})) {
  if (name === '@temporalio/testing') continue;
  const version = lock.packages?.[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json: run npm install in the project first`);
  pkg.dependencies[name] = version;
  delete pkg.devDependencies?.[name];
  added.push(`${name}@${version}`);
}
writeFileSync('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`image dependencies: ${added.join(' ')}`);
