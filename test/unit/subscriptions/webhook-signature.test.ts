import { createHmac } from 'node:crypto';
import {
  newWebhookSecret,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
} from '../../../services/subscriptions/webhook-signature';

const NOW = 1_767_225_600;
const body = '{"specversion":"1.0","id":"e1"}';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('Standard Webhooks signatures', () => {
  it("signs as the specification's example does", () => {
    // The specification's test vector.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const headers = signWebhook([secret], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies with any secret in force while one is rotated, and returns the idempotency key', () => {
    const [old, next] = [newWebhookSecret(), newWebhookSecret()];
    const headers = signWebhook([old, next], 'e1', NOW, body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifyWebhook([old], headers, body, NOW)).toBe('e1');
    expect(verifyWebhook([next], headers, body, NOW)).toBe('e1');
    expect(refusal(() => verifyWebhook([newWebhookSecret()], headers, body, NOW))).toBe('bad-signature');
  });

  it('refuses a changed body, a changed id, and a signature of another scheme version', () => {
    const secret = newWebhookSecret();
    const headers = signWebhook([secret], 'e1', NOW, body);
    expect(refusal(() => verifyWebhook([secret], headers, body.replace('e1', 'e2'), NOW))).toBe(
      'bad-signature',
    );
    expect(refusal(() => verifyWebhook([secret], { ...headers, 'webhook-id': 'e2' }, body, NOW))).toBe(
      'bad-signature',
    );
    const v2 = headers['webhook-signature'].replace('v1,', 'v2,');
    expect(refusal(() => verifyWebhook([secret], { ...headers, 'webhook-signature': v2 }, body, NOW))).toBe(
      'bad-signature',
    );
    const raw = createHmac('sha256', 'x').update('y').digest('base64');
    expect(
      refusal(() => verifyWebhook([secret], { ...headers, 'webhook-signature': `v1,${raw}` }, body, NOW)),
    ).toBe('bad-signature');
  });

  it('refuses a timestamp replayed outside the tolerance, either way, and missing headers', () => {
    const secret = newWebhookSecret();
    const old = signWebhook([secret], 'e1', NOW - 301, body);
    expect(refusal(() => verifyWebhook([secret], old, body, NOW))).toBe('timestamp-too-old');
    const ahead = signWebhook([secret], 'e1', NOW + 301, body);
    expect(refusal(() => verifyWebhook([secret], ahead, body, NOW))).toBe('timestamp-too-new');
    expect(verifyWebhook([secret], signWebhook([secret], 'e1', NOW - 300, body), body, NOW)).toBe('e1');
    expect(refusal(() => verifyWebhook([secret], { 'webhook-id': 'e1' }, body, NOW))).toBe('missing-headers');
    expect(refusal(() => verifyWebhook([secret], { ...old, 'webhook-timestamp': '1e9' }, body, NOW))).toBe(
      'bad-timestamp',
    );
  });
});
