/** The `codec-server` and `keygen` commands: their flags and help; the actions (codec-server.ts) load when they run. */
import type { Command } from 'commander';
import { examples, type Act } from '../options.js';
import * as parse from '../parse.js';
import type { CodecServerFlags, keygenCommand } from './codec-server.js';

export function registerCodecServer(program: Command, act: Act): void {
  program
    .command('codec-server')
    .description(
      'Serve /encode and /decode for the Temporal UI and CLI with the key ring of the workers (NETCHECK_ENCRYPTION_KEYS).',
    )
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port (default 8234; 0 = any free port)', (v) => parse.port('--port', v))
    .option(
      '--ui-origin <origin>',
      'origin of the Temporal UI allowed by CORS (repeatable; also NETCHECK_CODEC_UI_ORIGINS)',
      (v, all: string[] = []) => [...all, v],
    )
    .option('--max-body <bytes>', 'largest request body (default 4 MiB)', (v) =>
      parse.positiveInteger('--max-body', v),
    )
    .option('--tls-cert <file>', 'PEM certificate: serve https')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--oidc-issuer <url>',
      "verify callers' OIDC access tokens from this issuer (NETCHECK_CODEC_OIDC_ISSUER)",
    )
    .option(
      '--oidc-audience <aud>',
      'audience the access tokens must carry (repeatable; NETCHECK_CODEC_OIDC_AUDIENCE)',
      (v, all: string[] = []) => [...all, v],
    )
    .option(
      '--oidc-algorithm <alg>',
      'allowed token signature algorithm (repeatable; NETCHECK_CODEC_OIDC_ALGORITHMS; default: all asymmetric)',
      (v, all: string[] = []) => [...all, v],
    )
    .option(
      '--namespace <ns>',
      'namespace whose payloads may be decoded (repeatable; NETCHECK_CODEC_NAMESPACES; default TEMPORAL_NAMESPACE or default)',
      (v, all: string[] = []) => [...all, v],
    )
    .option('--enable-encode', 'serve /encode too (NETCHECK_CODEC_ENABLE_ENCODE; default off)')
    .option(
      '--behind-auth-proxy',
      'an authenticating proxy stands in front: allow a non-loopback --host without OIDC (NETCHECK_CODEC_BEHIND_AUTH_PROXY)',
    )
    .addHelpText(
      'after',
      examples(
        'NETCHECK_ENCRYPTION_KEYS_FILE=keys netcheck codec-server --ui-origin http://127.0.0.1:8233   # loopback, no auth (development)',
        'netcheck codec-server --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --oidc-issuer https://login.example.com/ --oidc-audience temporal-codec --ui-origin https://temporal-ui.example.com',
      ) +
        '\nThe UI calls <endpoint>/decode: give it the endpoint (TEMPORAL_CODEC_ENDPOINT of the UI server, or\n' +
        'temporal server start-dev --ui-codec-endpoint …) and, with OIDC, TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true so it\n' +
        "forwards the user's access token. Beyond loopback it refuses to start without OIDC or --behind-auth-proxy.\n" +
        'The temporal CLI sends a token with --codec-auth "Bearer <access token>". See docs/security.md.\n',
    )
    .action(
      act(async (opts: CodecServerFlags) => {
        const { codecServerCommand } = await import('./codec-server.js');
        return codecServerCommand(opts);
      }),
    );
}

export function registerKeygen(program: Command, act: Act): void {
  program
    .command('keygen')
    .description(
      'Print a new encryption key entry (<id>:<base64 of 32 random bytes>) for NETCHECK_ENCRYPTION_KEYS.',
    )
    .option('--id <id>', 'the key id (default k<yyyymmdd>)')
    .option('--token', 'print a random token instead (e.g. NETCHECK_SUBJECT_KEY)')
    .addHelpText(
      'after',
      examples(
        'export NETCHECK_ENCRYPTION_KEYS="$(netcheck keygen),$NETCHECK_ENCRYPTION_KEYS"   # rotate: the new key first',
        'export NETCHECK_SUBJECT_KEY=$(netcheck keygen --token)',
      ),
    )
    .action(
      act(async (opts: Parameters<typeof keygenCommand>[0]) => {
        const { keygenCommand } = await import('./codec-server.js');
        return keygenCommand(opts);
      }),
    );
}
