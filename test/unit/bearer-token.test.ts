import { readFileSync } from 'node:fs';
import t from 'tap';
import { createTokenCheck, matchesSecret, secretDigest, tokenRequiredFor } from '../../src/http/bearer-token.js';
import { root } from '../helpers/processes.js';

// Issue 12: the bearer token is required beyond loopback and compared in constant time. Time is not
// measured here (no timing asserts); what is checked is what makes the comparison constant-time:
// both sides are SHA-256 digests of equal length, compared with crypto.timingSafeEqual.

t.test('the token check: right token passes, anything else is refused with its challenge', async (t) => {
  const check = createTokenCheck('s3cret-token');
  t.equal(check('Bearer s3cret-token'), undefined);
  t.equal(check('bearer   s3cret-token  '), undefined, 'scheme case and spacing');
  for (const wrong of ['Bearer s3cret-toke', 'Bearer s3cret-token2', 'Bearer S3CRET-TOKEN', 'Bearer x', `Bearer ${'s'.repeat(10_000)}`]) {
    t.match(check(wrong), { message: /the bearer token is wrong/, challenge: /error="invalid_token"/ }, `refused: ${wrong.slice(0, 30)}`);
  }
  t.match(check(undefined), { message: /requires a bearer token/ });
  t.match(check('Basic abc'), { challenge: /invalid_request/ });
  t.equal(createTokenCheck(undefined)('anything'), undefined, 'no token: everything passes (loopback only)');
});

t.test('secrets are compared as equal-length digests with timingSafeEqual (any presented length)', async (t) => {
  const expected = secretDigest('s3cret-token');
  t.equal(expected.length, 32, 'a SHA-256 digest');
  t.ok(matchesSecret('s3cret-token', expected));
  t.notOk(matchesSecret('', expected), 'an empty secret: false, no throw');
  t.notOk(matchesSecret('s'.repeat(100_000), expected), 'a long one: false, no throw (timingSafeEqual throws on unequal lengths)');
  const source = readFileSync(`${root}src/http/bearer-token.ts`, 'utf8');
  t.match(source, /timingSafeEqual\(secretDigest\(presented\), expected\)/, 'the comparison is timingSafeEqual over digests');
  t.notMatch(source, /presented\s*===|===\s*presented/, 'never a plain string comparison');
});

t.test('a bind beyond loopback needs a token', async (t) => {
  t.match(tokenRequiredFor('0.0.0.0', undefined, 'mesh-proxy', '--token'), /host 0\.0\.0\.0 exposes mesh-proxy beyond this machine; set --token/);
  t.match(tokenRequiredFor('10.0.0.2', '', 'mesh-proxy', '--token'), /exposes/);
  t.equal(tokenRequiredFor('10.0.0.2', 'x', 'mesh-proxy', '--token'), undefined);
  t.equal(tokenRequiredFor('127.0.0.1', undefined, 'mesh-proxy', '--token'), undefined);
});
