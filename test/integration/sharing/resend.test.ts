import { generateRecords } from '../../../connectors/demo/generator';
import { taxConnector } from '../../../connectors/tax/index';
import { connectorHarness, send } from '../../support/connector';
import { sharingHarness } from '../../support/sharing';

/**
 * The way back, end to end on the real stack: the tax department's debt update is refused at the
 * connector, the department reads it in its quarantine, fixes it and resends it, and the
 * enterprise's view then shows the debt.
 */
const harness = sharingHarness({ partitions: 1, batchSize: 10 });
const connector = connectorHarness(taxConnector, { topic: harness.topics.tax });
const [registration, debt] = generateRecords('tax', 2, 59) as unknown as Record<string, unknown>[];
const mst = String(registration?.mst);

beforeAll(async () => {
  await harness.setUp();
  await harness.start();
  await connector.start();
}, 120_000);
afterAll(async () => {
  await connector.dispose();
  await harness.tearDown();
});

const post = (path: string, body: unknown) =>
  send(connector.url(), path, {
    apiKey: connector.apiKey,
    contentType: 'application/json',
    body: JSON.stringify(body),
  });
const debtOf = async () => {
  const view = await harness.view('enterprises', mst);
  return (view?.tax as Record<string, { debt?: string }> | undefined)?.[mst]?.debt;
};

it('an agency fixes and resends a quarantined record, and the view changes', async () => {
  expect((await post('/v1/records', [registration])).status).toBe(200);
  await harness.waitForEvents(1);
  expect(await harness.view('enterprises', mst)).not.toBeNull();

  // The debt as first sent: an amount that is not a decimal string.
  const refused = await post('/v1/records', [{ ...debt, soTienNo: 'bảy nghìn' }]);
  expect(refused.status).toBe(422);
  expect(await debtOf()).toBeUndefined();

  const page = await send(connector.url(), '/v1/quarantine', { method: 'GET', apiKey: connector.apiKey });
  const [quarantined] =
    (page.body.groups as { records: { id: string; paths: string[] }[] }[])[0]?.records ?? [];
  expect(quarantined?.paths).toEqual(['$.soTienNo']);

  const resent = await post(`/v1/quarantine/${quarantined?.id}/resend`, debt);
  expect(resent.status).toBe(200);
  expect(resent.body).toMatchObject({
    accepted: 1,
    records: [{ status: 'accepted', topic: harness.topics.tax }],
  });
  await harness.waitForEvents(2);
  expect(await debtOf()).toBe(String(debt?.soTienNo));
}, 120_000);
