/**
 * Mints a demo token for the lookup API, signed with the dev key in `.state/lookup` (made on first
 * use, with the public keys file the service reads as `LOOKUP_JWT_KEYS_FILE`).
 *
 *   npm run lookup:token -- --role officer --sub CB-PC08-0001 --agency HN-PC08
 *   npm run lookup:token -- --role auditor --sub TT-0001 --agency HN-TTRA
 *   npm run lookup:token -- --role citizen --sub 001089012345
 *
 * Options: `--ttl <seconds>` (default 3600; the service refuses more than `LOOKUP_JWT_MAX_LIFETIME_MS`,
 * 12 h by default), `--issuer`, `--audience`, `--state <dir>`.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { offsetClock } from '../platform/clock';
import { ClockEnv, loadConfig } from '../platform/config';
import { ensureDevKeys, readPrivateKey } from './dev-keys';
import { LOOKUP_ROLES, type LookupRole, mintToken } from './tokens';

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    sub: { type: 'string' },
    agency: { type: 'string' },
    ttl: { type: 'string', default: '3600' },
    issuer: { type: 'string', default: process.env.LOOKUP_JWT_ISSUER ?? 'lienthong-dev' },
    audience: { type: 'string', default: process.env.LOOKUP_JWT_AUDIENCE ?? 'lienthong-lookup' },
    state: {
      type: 'string',
      default: path.join(
        process.env.LIENTHONG_STATE_DIR ?? path.resolve(__dirname, '..', '..', '.state'),
        'lookup',
      ),
    },
  },
});

const role = values.role as LookupRole | undefined;
const ttl = Number(values.ttl);
if (!role || !LOOKUP_ROLES.includes(role) || !values.sub || !Number.isInteger(ttl) || ttl < 1) {
  process.stderr.write(
    'Usage: npm run lookup:token -- --role officer|auditor|citizen --sub <id> [--agency HN-...] [--ttl seconds]\n',
  );
  process.exit(2);
}
// Minted at the time the services read, so that a shifted bus accepts the token.
const clock = offsetClock(loadConfig(ClockEnv).LIENTHONG_CLOCK_OFFSET_MS);
const files = ensureDevKeys(values.state);
process.stdout.write(
  `${mintToken(
    readPrivateKey(files.tokenSigningKey),
    { sub: values.sub, role, ...(values.agency ? { agency: values.agency } : {}) },
    { issuer: values.issuer, audience: values.audience, ttlSeconds: ttl, now: clock() },
  )}\n`,
);
